"""What every command resolves before loading: users' plug-ins, the system prompt, the template name, the
defaults that depend on the model, and the model loader's keyword arguments."""
from __future__ import annotations

import dataclasses
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..utils.errors import SartorError

if TYPE_CHECKING:
    from ..arguments import ModelArguments, SftArguments

    TrainingCommand = TypeVar("TrainingCommand", bound=SftArguments)  # sft, pt or rlhf: resolve returns the same class

_LOADED_REGISTERS: set[str] = set()


def load_custom_register(paths: list[str] | None) -> None:
    """Import users' plug-in files that call register_model / register_template / register_dataset
    (each file once per process)."""
    for path in paths or []:
        if not os.path.isfile(path):
            raise SartorError(f"--custom_register_path {path}: no such file")
        key = os.path.realpath(path)
        if key in _LOADED_REGISTERS:
            continue
        spec = importlib.util.spec_from_file_location(f"sartor_custom_register_{len(_LOADED_REGISTERS)}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        _LOADED_REGISTERS.add(key)


def read_system(system: str | None) -> str | None:
    """--system text, or the contents of a .txt file it names."""
    if system and system.endswith(".txt") and os.path.isfile(system):
        return Path(system).read_text(encoding="utf-8").strip()
    return system


def choose_template(requested: str | None, registry_template: str | None, tokenizer: Any) -> str:
    """--template, else the registry's, else the tokenizer's own chat template (jinja), else default."""
    if requested:
        return requested
    if registry_template:
        return registry_template
    return "jinja" if getattr(tokenizer, "chat_template", None) else "default"


def resolve(args: TrainingCommand, info: Any, tokenizer: Any, **overrides: Any) -> TrainingCommand:
    """The arguments with every default that depends on the model filled in (what args.json records)."""
    values = dict(
        model_type=args.model_type or info.model_type,
        template=choose_template(args.template, info.template, tokenizer),
        system=read_system(args.system),
        max_length=args.max_length or min(info.max_length, 8192),
        torch_dtype=info.torch_dtype,
    )
    values.update(overrides)
    return dataclasses.replace(args, **values)


def model_kwargs_of(args: ModelArguments) -> dict:
    """The model-loading fields of any arguments dataclass, as get_model_tokenizer's keyword arguments."""
    from ..arguments.model_args import ModelArguments

    return {f.name: getattr(args, f.name) for f in dataclasses.fields(ModelArguments)}
