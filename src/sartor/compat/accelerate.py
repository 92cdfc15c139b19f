"""accelerate internals Sartor relies on. accelerate itself is imported inside each function, never here.

- ACCELERATE_BYPASS_DEVICE_MAP: an environment switch, read by Accelerator.prepare_model, under which a model
  spread over several GPUs by a device_map may be trained by several processes (each rank wraps its own GPU group
  in DDP without device_ids) instead of being refused (model/loader.py, --device_map with DDP).
- Accelerator.scaler: the float16 loss scaler (None without one), read to tell a skipped step from a
  non-finite gradient (train/guards.py)."""
import os
from typing import Any

BYPASS_DEVICE_MAP_ENV = "ACCELERATE_BYPASS_DEVICE_MAP"


def bypass_device_map() -> None:
    """Let accelerate train a model placed by a device_map in several processes (this process and its children)."""
    os.environ[BYPASS_DEVICE_MAP_ENV] = "true"


def loss_scaler(accelerator: Any) -> Any:
    """The accelerator's float16 gradient scaler, or None when mixed precision uses none."""
    return getattr(accelerator, "scaler", None)
