"""Mixed precision for SartorTrainer's forward passes.

accelerate puts autocast on `model.forward`; the cheap loss route calls the decoder and the output layer
directly, past that wrapper, so the trainer enters the accelerator's autocast itself. While autocast runs,
PEFT's LoRA layers would still copy each activation to the adapter's float32 before autocast copies it
back to 16 bits for the matmul, and upcast the layer's output for the sum: two activation copies per
adapted layer, forward and backward, for nothing. Autocast already runs the adapter's matmuls in 16 bits
with its float32 master weights, so while it is on the layers take their input as it comes
(`cast_input_dtype_enabled`, the switch behind `peft.helpers.disable_input_dtype_casting`). The switch
stays off through the backward pass too: gradient checkpointing recomputes the forward there (under the
autocast state it saved) and must see the same dtypes. Outside autocast (CPU training, evaluation without
mixed precision, generation) nothing changes."""
from contextlib import contextmanager
from typing import Any, Iterator

import torch


class AdapterInputs:
    """The adapter layers of one model, found once (walking a 7B model's modules costs milliseconds per step)."""

    def __init__(self) -> None:
        self._layers: list | None = None

    def layers(self, model: Any) -> list:
        if self._layers is None:
            from peft.tuners.tuners_utils import BaseTunerLayer

            self._layers = [m for m in model.modules()
                            if isinstance(m, BaseTunerLayer) and hasattr(m, "cast_input_dtype_enabled")]
        return self._layers

    @contextmanager
    def uncast(self, model: Any, active: bool = True) -> Iterator[None]:
        """Adapters take their input as it comes (only while autocast runs their matmuls)."""
        if not active:
            yield
            return
        layers = self.layers(model)
        saved = [m.cast_input_dtype_enabled for m in layers]
        for m in layers:
            m.cast_input_dtype_enabled = False
        try:
            yield
        finally:
            for m, value in zip(layers, saved):
                m.cast_input_dtype_enabled = value

    @contextmanager
    def autocast(self, accelerator: Any, model: Any, device_type: str) -> Iterator[bool]:
        """The accelerator's autocast; while it is on, adapters skip their input copy. Yields whether it is on."""
        with accelerator.autocast():
            on = torch.is_autocast_enabled(device_type)
            with self.uncast(model, on):
                yield on


def autocast_is_on(accelerator: Any, device_type: str) -> bool:
    """Whether the accelerator's autocast runs the forward (mixed precision configured and supported here)."""
    with accelerator.autocast():
        return torch.is_autocast_enabled(device_type)
