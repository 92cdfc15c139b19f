"""Helpers to declare argument fields with their help written once, and to coerce values."""
import dataclasses
import json
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from ..utils.errors import SartorError


def arg(default: Any = None, help: str = "", *, choices: tuple | None = None, secret: bool = False, **kw: Any) -> Any:
    """A dataclass field whose help text lives in metadata (shown by `--help`). A `secret` one (a token, a key, a
    password) is never written to disk or logs, only the fact that it was given (arguments.secrets)."""
    meta: dict[str, Any] = {"help": help}
    if choices:
        meta["choices"] = choices
    if secret:
        meta["secret"] = True
    if isinstance(default, (list, dict)):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata=meta, **kw)
    return dataclasses.field(default=default, metadata=meta, **kw)


def _strip_optional(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        if len(inner) == 1:
            return inner[0]
    return tp


def is_list_type(tp: Any) -> bool:
    tp = _strip_optional(tp)
    return get_origin(tp) in (list, typing.List)


def is_bool_type(tp: Any) -> bool:
    return _strip_optional(tp) is bool


def parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("true", "1", "yes", "y", "on"):
        return True
    if s in ("false", "0", "no", "n", "off"):
        return False
    raise SartorError(f"--{name} takes true or false, got {value!r}")


# list flags whose one string is one item (a name with spaces, a stop word like "### User:"), never split
WHOLE_ITEMS = frozenset({"model_name", "model_author", "stop_words"})


def coerce(name: str, tp: Any, value: Any) -> Any:
    """Turn a CLI/YAML value into the field's type, or raise a SartorError naming the flag."""
    if value is None:
        return None
    tp = _strip_optional(tp)
    origin = get_origin(tp)
    if origin in (list, typing.List):
        (inner,) = get_args(tp) or (str,)
        if isinstance(value, str):
            value = [value] if name in WHOLE_ITEMS else split_list(value)
        if not isinstance(value, (list, tuple)):
            value = [value]
        return [coerce(name, inner, v) for v in value]
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, list):
        raise SartorError(f"--{name} takes one value, got {len(value)}: {value}")
    if origin is Literal:
        choices = get_args(tp)
        v = value if not isinstance(value, str) else value.strip()
        for c in choices:
            if str(c) == str(v):
                return c
        raise SartorError(f"--{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    if tp is bool:
        return parse_bool(name, value)
    if tp is int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SartorError(f"--{name} takes an integer, got {value!r}") from None
    if tp is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise SartorError(f"--{name} takes a number, got {value!r}") from None
    if tp in (dict, typing.Dict) or origin in (dict, typing.Dict):
        if isinstance(value, dict):
            return value
        try:
            out = json.loads(value)
        except (TypeError, json.JSONDecodeError):
            raise SartorError(f"--{name} takes a JSON object, got {value!r}") from None
        if not isinstance(out, dict):
            raise SartorError(f"--{name} takes a JSON object, got {value!r}")
        return out
    if origin in (Union, types.UnionType):
        # e.g. Union[str, float]: try the non-str members first
        for member in get_args(tp):
            if member in (str, type(None)):
                continue
            try:
                return coerce(name, member, value)
            except SartorError:
                pass
        return str(value)
    if tp is str or tp is Any:
        return value if isinstance(value, str) else (json.dumps(value) if isinstance(value, (dict, list)) else str(value))
    return value


def split_list(value: str) -> list[str]:
    """Split one string into list items on spaces and commas (old scripts use commas)."""
    parts = []
    for chunk in value.replace(",", " ").split():
        if chunk:
            parts.append(chunk)
    return parts


def choices_of(f: dataclasses.Field) -> tuple | None:
    tp = _strip_optional(f.type)
    if get_origin(tp) in (list, typing.List):
        tp = _strip_optional((get_args(tp) or (str,))[0])
    if get_origin(tp) is Literal:
        return get_args(tp)
    return f.metadata.get("choices")


def type_name(f: dataclasses.Field) -> str:
    tp = _strip_optional(f.type)
    if is_list_type(tp):
        return "VALUE [VALUE ...]"
    if tp is bool:
        return "true|false"
    if get_origin(tp) is Literal:
        return "{" + ",".join(map(str, get_args(tp))) + "}"
    if tp is int:
        return "INT"
    if tp is float:
        return "FLOAT"
    if tp in (dict, typing.Dict) or get_origin(tp) in (dict, typing.Dict):
        return "JSON"
    return "STR"
