"""Activation offloading: tensors saved for backward wait in host memory instead of on the accelerator.

Between a micro-batch's forward and its backward, autograd keeps the activations each layer saved; with long
rows they, not the weights, fill the GPU. `--activation_offloading true` moves every saved tensor of at least
`min_bytes` that lives on an accelerator to (pinned) host memory when it is saved and back when backward needs
it. Parameters, views of parameters and small tensors stay where they are: copying frozen weights every step
would cost far more than it saves. It trades PCIe traffic for memory, like gradient checkpointing trades compute;
the two combine (then only the checkpointed layers' inputs are saved, and offloaded).
"""
from __future__ import annotations

from typing import Any, Iterable

import torch


class ActivationOffload(torch.autograd.graph.saved_tensors_hooks):
    """Context manager: inside it, saved activations are offloaded to host memory (see the module docstring)."""

    def __init__(self, params: Iterable[torch.Tensor], min_bytes: int = 1 << 20, pin_memory: bool | None = None):
        self.min_bytes = min_bytes
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory
        self._param_storages = {p.untyped_storage().data_ptr() for p in params if p.device.type != "meta"}
        self.offloaded_bytes = 0  # since the context was made: what went to host memory
        super().__init__(self._pack, self._unpack)

    def keeps(self, t: torch.Tensor) -> bool:
        """Whether the saved tensor stays where it is: already in host memory, or not an activation worth moving."""
        return t.device.type == "cpu" or self.not_an_activation(t)

    def not_an_activation(self, t: torch.Tensor) -> bool:
        """A parameter, a view of one, a sparse tensor or one under min_bytes."""
        return (isinstance(t, torch.nn.Parameter) or t.is_sparse or t.numel() * t.element_size() < self.min_bytes
                or t.untyped_storage().data_ptr() in self._param_storages)

    def _pack(self, t: torch.Tensor) -> Any:
        if self.keeps(t):
            return t
        host = torch.empty_like(t, device="cpu", pin_memory=self.pin_memory)
        host.copy_(t, non_blocking=self.pin_memory)  # stream-ordered: the H2D copy in _unpack runs after it
        self.offloaded_bytes += host.numel() * host.element_size()
        return t.device, host

    @staticmethod
    def _unpack(packed: Any) -> torch.Tensor:
        if isinstance(packed, torch.Tensor):
            return packed
        device, host = packed
        return host.to(device, non_blocking=True)
