"""Command line and YAML to argument dataclasses.

Precedence: dataclass defaults < YAML config < command-line flags. Older flag names are
accepted with a deprecation warning; an unknown flag is an error naming the closest one."""
import dataclasses
import difflib
import os
import sys
import typing
from typing import Any, TypeVar

import yaml

from ..compat.transformers import training_args_fields
from ..utils.errors import SartorError
from ..utils.logging import get_logger
from .aliases import ALIASES, new_names
from .fields import choices_of, coerce, is_bool_type, is_list_type, type_name

T = TypeVar("T")
_CONFIG_SUFFIXES = (".yaml", ".yml")


def field_types(cls: type) -> dict[str, Any]:
    """The flags of an argument class and their types (internal fields such as explicit_flags are no flags)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, f.type) for f in dataclasses.fields(cls) if not f.metadata.get("internal")}


def _split_argv(argv: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Split argv into leading positionals and (flag, values) pairs."""
    positionals: list[str] = []
    pairs: list[tuple[str, list[str]]] = []
    for token in argv:
        if token.startswith("--") and len(token) > 2:
            name, eq, value = token[2:].partition("=")
            pairs.append((name.replace("-", "_"), [value] if eq else []))
        elif pairs:
            pairs[-1][1].append(token)
        else:
            positionals.append(token)
    return positionals, pairs


def load_config(path: str) -> dict[str, Any]:
    if not os.path.isfile(path):
        raise SartorError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as e:
        raise SartorError(f"config file {path} is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise SartorError(f"config file {path} must hold a mapping of flag: value")
    return data


def _apply(cls: type, types: dict, values: dict, name: str, raw: Any, explicit: set, extra: dict,
           allow_training_args: bool, source: str, appended: dict) -> None:
    """Set one flag (resolving aliases) into `values`."""
    if name in types:
        tp = types[name]
        if raw == [] and is_bool_type(tp):
            raw = "true"
        elif raw == [] and not is_list_type(tp):
            raise SartorError(f"--{name} needs a value")
        if is_list_type(tp) and isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], str):
            raw = raw[0]
        value = coerce(name, tp, raw)
        if is_list_type(tp) and source == "alias":  # e.g. --custom_train_dataset_path b, --self_cognition_sample N
            appended.setdefault(name, []).extend(value)  # added to --dataset wherever it stands on the line
            explicit.add(name)
            return
        values[name] = value
        explicit.add(name)
        return
    if name in ALIASES:
        src, conv = ALIASES[name]
        raw1 = raw[0] if isinstance(raw, list) and len(raw) == 1 else (raw if raw != [] else "true")
        get_logger().warning(f"--{name} ({src}) is deprecated: use {new_names(name)}")
        for new, v in conv(raw1).items():
            if new not in types:
                raise SartorError(f"--{name} stands for --{new}, which `{_command_of(cls)}` does not take")
            _apply(cls, types, values, new, v, explicit, extra, allow_training_args, "alias", appended)
        return
    if allow_training_args and name in training_args_fields():
        extra[name] = raw[0] if isinstance(raw, list) and len(raw) == 1 else raw
        explicit.add(name)
        return
    known = list(types) + list(ALIASES)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean --{close[0]}?" if close else ""
    raise SartorError(f"unknown flag --{name} for `{_command_of(cls)}`{hint} (see --help)")


def _command_of(cls: type) -> str:
    return getattr(cls, "command_name", cls.__name__)


def parse_args(cls: type[T], argv: list[str] | None = None) -> tuple[T, set[str]]:
    """Parse `[config.yaml] --flag value ...` into `cls`; return it and the names the user set."""
    argv = list(sys.argv[1:] if argv is None else argv)
    types = field_types(cls)
    allow_training_args = "training_args" in types
    positionals, pairs = _split_argv(argv)
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    explicit: set[str] = set()
    appended: dict[str, list] = {}  # list values that older flags add to (old scripts name data several ways)
    config_paths = [p for p in positionals if p.endswith(_CONFIG_SUFFIXES)]
    stray = [p for p in positionals if not p.endswith(_CONFIG_SUFFIXES)]
    if stray:
        raise SartorError(f"unexpected argument {stray[0]!r}: flags are written --name value, and a config file ends in .yaml")
    for name, vals in pairs:
        if name == "config":
            config_paths.extend(vals)
    for path in config_paths:
        for key, raw in load_config(path).items():
            _apply(cls, types, values, str(key).replace("-", "_"), raw, explicit, extra, allow_training_args, "yaml",
                   appended)
    for name, vals in pairs:
        if name == "config":
            continue
        _apply(cls, types, values, name, vals, explicit, extra, allow_training_args, "flag", appended)
    for name, items in appended.items():
        values[name] = list(values.get(name) or []) + items
    if extra:
        from .passthrough import coerce_training_args, precision_from_flags

        extra = coerce_training_args(extra)
        dtype = precision_from_flags(extra, values.get("torch_dtype"), "torch_dtype" in explicit)
        if dtype:
            values["torch_dtype"] = dtype
            explicit.add("torch_dtype")
        merged = dict(values.get("training_args") or {})
        merged.update(extra)
        if merged:
            values["training_args"] = merged
    if any(f.name == "explicit_flags" for f in dataclasses.fields(cls)):
        values["explicit_flags"] = frozenset(explicit)
    try:
        return cls(**values), explicit
    except TypeError as e:
        raise SartorError(str(e)) from None


def format_help(cls: type, command: str, description: str) -> str:
    """Help text grouped by concern: each field's help from its metadata."""
    lines = [f"usage: sartor {command} [config.yaml] [--flag value ...]", "", description, ""]
    types = field_types(cls)
    seen: set[str] = set()
    for klass in reversed(cls.__mro__):
        own = [n for n in getattr(klass, "__annotations__", {}) if n in types and n not in seen]
        if not own or not dataclasses.is_dataclass(klass):
            continue
        lines.append(f"{klass.__name__}:")
        for f in dataclasses.fields(cls):
            if f.name not in own or f.metadata.get("internal"):
                continue
            seen.add(f.name)
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            choices = choices_of(f)
            tname = type_name(f) if not choices else "{" + ",".join(map(str, choices)) + "}"
            lines.append(f"  --{f.name} {tname}")
            lines.append(f"      {f.metadata.get('help', '')} (default: {default!r})")
        lines.append("")
    aliases = ", ".join(f"--{a}" for a in ALIASES)
    lines.append(f"Older flag names accepted with a deprecation warning: {aliases}.")
    if "training_args" in types:
        lines.append("Any other transformers TrainingArguments field is accepted as --name value.")
    return "\n".join(lines)
