"""Mixed precision for SartorTrainer's forward passes.

accelerate puts autocast on `model.forward`; the cheap loss route calls the decoder and the output layer
directly, past that wrapper, so the trainer enters the accelerator's autocast itself. While autocast runs,
PEFT's LoRA layers would still copy each activation to the adapter's float32 before autocast copies it
back to 16 bits for the matmul, and upcast the layer's output for the sum: two activation copies per
adapted layer, forward and backward, for nothing. Autocast already runs the adapter's matmuls in 16 bits
with its float32 master weights, so while it is on the layers take their input as it comes
(compat.peft.set_adapter_input_casting: the switch behind `peft.helpers.disable_input_dtype_casting`). The switch
stays off through the backward pass too: gradient checkpointing recomputes the forward there (under the
autocast state it saved) and must see the same dtypes. Outside autocast (CPU training, evaluation without
mixed precision, generation) nothing changes."""
from contextlib import contextmanager
from typing import Any, Iterator

import torch

from ..compat.peft import input_casting_layers, set_adapter_input_casting


class AdapterInputs:
    """The adapter layers of one model, found once (walking a 7B model's modules costs milliseconds per step)."""

    def __init__(self) -> None:
        self._layers: list | None = None

    def layers(self, model: Any) -> list:
        if self._layers is None:
            self._layers = input_casting_layers(model)
        return self._layers

    @contextmanager
    def uncast(self, model: Any, active: bool = True) -> Iterator[None]:
        """Adapters take their input as it comes (only while autocast runs their matmuls)."""
        if not active:
            yield
            return
        layers = self.layers(model)
        saved = set_adapter_input_casting(layers, False)
        try:
            yield
        finally:
            set_adapter_input_casting(layers, saved)

    @contextmanager
    def autocast(self, accelerator: Any, model: Any, device_type: str, dtype: torch.dtype | None) -> Iterator[bool]:
        """Mixed-precision autocast; while it is on, adapters skip their input copy. Yields whether it is on."""
        with mixed_precision_autocast(accelerator, device_type, dtype):
            on = torch.is_autocast_enabled(device_type)
            with self.uncast(model, on):
                yield on


def half_dtype(training_args: Any) -> torch.dtype | None:
    """The 16-bit dtype mixed precision runs in (--torch_dtype bfloat16 / float16), or None."""
    if getattr(training_args, "bf16", False):
        return torch.bfloat16
    if getattr(training_args, "fp16", False):
        return torch.float16
    return None


@contextmanager
def mixed_precision_autocast(accelerator: Any, device_type: str, dtype: torch.dtype | None) -> Iterator[None]:
    """The accelerator's autocast; where it has none for `dtype` (float16 on CPU), torch's own.

    Trainable parameters of a 16-bit model keep float32 master weights (tuners.prepare.upcast_trainable), so
    every forward must run under autocast, on every device."""
    with accelerator.autocast():
        if dtype is None or torch.is_autocast_enabled(device_type):
            yield
            return
        with torch.autocast(device_type, dtype=dtype):
            yield


def autocast_is_on(accelerator: Any, device_type: str, dtype: torch.dtype | None = None) -> bool:
    """Whether the forward runs under autocast (mixed precision configured and supported here)."""
    with mixed_precision_autocast(accelerator, device_type, dtype):
        return torch.is_autocast_enabled(device_type)
