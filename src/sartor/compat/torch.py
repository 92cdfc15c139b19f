"""torch internals Sartor relies on.

- `_orig_mod` of the module torch.compile returns: the model it wraps (train/loss.py finds the model's own
  methods and signature under the wrapper)."""
from typing import Any, Optional


def compiled_inner(module: Any) -> Optional[Any]:
    """The module torch.compile wrapped, or None when `module` is no such wrapper."""
    import torch

    inner = getattr(module, "_orig_mod", None)
    return inner if isinstance(inner, torch.nn.Module) else None
