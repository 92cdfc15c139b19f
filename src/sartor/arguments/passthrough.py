"""transformers TrainingArguments fields given as flags without a Sartor field of their own.

Each value is converted by the installed TrainingArguments' field type (`--bf16 False` is false, a bare
`--do_train` is true, `--label_smoothing_factor 0.1` is a float). The class is imported only when such a
flag is given, so a plain command line parses without loading transformers."""
import dataclasses
import functools
import types
import typing
from typing import Any

from ..utils.errors import SartorError
from ..utils.logging import get_logger
from .fields import coerce, is_bool_type

# the flags whose meaning Sartor owns: they map onto --torch_dtype instead of being passed on
PRECISION_FLAGS = {"bf16": "bfloat16", "fp16": "float16"}


@functools.lru_cache(maxsize=1)
def training_args_types() -> dict[str, Any]:
    from transformers import TrainingArguments

    hints = typing.get_type_hints(TrainingArguments)
    return {f.name: hints.get(f.name, f.type) for f in dataclasses.fields(TrainingArguments) if f.init}


def _plain(tp: Any) -> Any:
    """Enum members of a Union (IntervalStrategy | str, ...) read as str: TrainingArguments converts them."""
    import enum

    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = tuple(str if isinstance(m, type) and issubclass(m, enum.Enum) else m for m in typing.get_args(tp))
        members = tuple(dict.fromkeys(members))
        return typing.Union[members] if len(members) > 1 else members[0]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return str
    return tp


def coerce_training_args(values: dict[str, Any]) -> dict[str, Any]:
    """Each pass-through value converted to its TrainingArguments field's type; an unknown name is an error."""
    types = training_args_types()
    out: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in types:
            raise SartorError(f"--{name} is not a field of the installed transformers TrainingArguments")
        tp = _plain(types[name])
        if raw == []:  # a bare flag
            if not is_bool_type(tp):
                raise SartorError(f"--{name} needs a value")
            raw = True
        out[name] = coerce(name, tp, raw)
    return out


def precision_from_flags(values: dict[str, Any], torch_dtype: str | None, dtype_given: bool) -> str | None:
    """--bf16 / --fp16 (Trainer and older script names) as --torch_dtype, with a one-line note.

    Removes them from `values`; returns the dtype they ask for, or None when they ask for none."""
    given = {k: values.pop(k) for k in PRECISION_FLAGS if k in values}
    chosen = [PRECISION_FLAGS[k] for k, on in given.items() if on]
    if not chosen:
        if given:
            get_logger().info(f"--{next(iter(given))} false: the precision follows --torch_dtype")
        return None
    if len(chosen) > 1:
        raise SartorError("--bf16 and --fp16 ask for different precisions: give one")
    dtype = chosen[0]
    flag = next(k for k, v in PRECISION_FLAGS.items() if v == dtype)
    if dtype_given and torch_dtype != dtype:
        raise SartorError(f"--{flag} true asks for {dtype} but --torch_dtype is {torch_dtype}: give one")
    get_logger().info(f"--{flag} true: training in {dtype} (--torch_dtype {dtype}, mixed precision on GPU and CPU)")
    return dtype
