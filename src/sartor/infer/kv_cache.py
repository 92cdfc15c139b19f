"""Editing the key/value cache of a running batch: keep some rows, add new rows, drop empty columns.

Rows are left-padded: every row's last token sits in the last column, and the attention mask
marks the real tokens. Only transformers' plain `DynamicCache` of `DynamicLayer`s can be edited
this way; other caches (sliding windows, linear attention) are left alone, and the scheduler then
lets new requests in only when the batch is empty."""
from typing import Any

import torch


def is_editable(cache: Any) -> bool:
    """Whether rows can be added to and removed from this cache."""
    from transformers.cache_utils import DynamicCache, DynamicLayer

    if type(cache) is not DynamicCache or not getattr(cache, "layers", None):
        return False
    return all(type(layer) is DynamicLayer and layer.is_initialized for layer in cache.layers)


def select_rows(cache: Any, mask: torch.Tensor, keep: list[int]) -> torch.Tensor:
    """Keep the rows `keep` of the cache (in place) and of the mask (returned)."""
    index = torch.tensor(keep, dtype=torch.long, device=mask.device)
    for layer in cache.layers:
        layer.keys = layer.keys.index_select(0, index.to(layer.keys.device))
        layer.values = layer.values.index_select(0, index.to(layer.values.device))
    return mask.index_select(0, index)


def trim_left(cache: Any, mask: torch.Tensor) -> torch.Tensor:
    """Drop leading columns that no row attends to (left by rows that finished); returns the mask."""
    used = mask.any(0).nonzero()
    first = int(used[0]) if used.numel() else mask.shape[1]
    if first == 0:
        return mask
    for layer in cache.layers:
        layer.keys = layer.keys[..., first:, :]
        layer.values = layer.values[..., first:, :]
    return mask[:, first:]


def _pad_left(t: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    if width == 0:
        return t
    shape = list(t.shape)
    shape[dim] = width
    return torch.cat([t.new_zeros(shape), t], dim=dim)


def append_rows(cache: Any, mask: torch.Tensor, other: Any, other_mask: torch.Tensor) -> torch.Tensor:
    """Add the rows of `other` below the rows of `cache` (in place), left-padding the shorter one;
    returns the joined mask."""
    a, b = mask.shape[1], other_mask.shape[1]
    width = max(a, b)
    for layer, new in zip(cache.layers, other.layers):
        layer.keys = torch.cat([_pad_left(layer.keys, width - a, 2), _pad_left(new.keys, width - b, 2)], 0)
        layer.values = torch.cat([_pad_left(layer.values, width - a, 2), _pad_left(new.values, width - b, 2)], 0)
    return torch.cat([_pad_left(mask, width - a, 1), _pad_left(other_mask, width - b, 1)], 0)
