"""peft internals Sartor relies on. peft itself is imported inside each function, never here.

- `cast_input_dtype_enabled` of adapter layers (BaseTunerLayer): the switch behind the public
  `peft.helpers.disable_input_dtype_casting`, flipped on a list of layers found once, because that helper walks
  every module of the model on each use (milliseconds per step on a 7B model). While autocast runs, adapters then
  take their 16-bit input as it comes instead of copying it to float32 (train/mixed_precision.py)."""
from typing import Any, Sequence, Union

CAST_SWITCH = "cast_input_dtype_enabled"


def input_casting_layers(model: Any) -> list:
    """The adapter layers of `model` that cast their input to the adapter's dtype (and can be told not to)."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    return [m for m in model.modules() if isinstance(m, BaseTunerLayer) and hasattr(m, CAST_SWITCH)]


def set_adapter_input_casting(layers: Sequence[Any], enabled: Union[bool, Sequence[bool]]) -> list[bool]:
    """Turn the layers' input casting on or off (one value for all, or one per layer); returns the values before."""
    before = [getattr(m, CAST_SWITCH) for m in layers]
    values = [enabled] * len(layers) if isinstance(enabled, bool) else list(enabled)
    for m, value in zip(layers, values):
        setattr(m, CAST_SWITCH, value)
    return before
