"""Editing the key/value cache of a running batch: keep some rows, add new rows, drop empty columns.

Rows are left-padded: every row's last token sits in the last column, and the attention mask
marks the real tokens. Only transformers' plain `DynamicCache` of `DynamicLayer`s can be edited
this way (its layers' tensors are reached through compat.transformers); other caches (sliding windows,
linear attention) are left alone, and the scheduler then lets new requests in only when the batch is empty."""
from typing import Any

import torch

from ..compat.transformers import cache_layers, layer_kv, set_layer_kv


def is_editable(cache: Any) -> bool:
    """Whether rows can be added to and removed from this cache."""
    return cache_layers(cache) is not None


def select_rows(cache: Any, mask: torch.Tensor, keep: list[int]) -> torch.Tensor:
    """Keep the rows `keep` of the cache (in place) and of the mask (returned)."""
    index = torch.tensor(keep, dtype=torch.long, device=mask.device)
    for layer in cache_layers(cache):
        keys, values = layer_kv(layer)
        set_layer_kv(layer, keys.index_select(0, index.to(keys.device)),
                     values.index_select(0, index.to(values.device)))
    return mask.index_select(0, index)


def trim_left(cache: Any, mask: torch.Tensor) -> torch.Tensor:
    """Drop leading columns that no row attends to (left by rows that finished); returns the mask."""
    used = mask.any(0).nonzero()
    first = int(used[0]) if used.numel() else mask.shape[1]
    if first == 0:
        return mask
    for layer in cache_layers(cache):
        keys, values = layer_kv(layer)
        set_layer_kv(layer, keys[..., first:, :], values[..., first:, :])
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
    for layer, new in zip(cache_layers(cache), cache_layers(other)):
        (keys, values), (new_keys, new_values) = layer_kv(layer), layer_kv(new)
        set_layer_kv(layer, torch.cat([_pad_left(keys, width - a, 2), _pad_left(new_keys, width - b, 2)], 0),
                     torch.cat([_pad_left(values, width - a, 2), _pad_left(new_values, width - b, 2)], 0))
    return torch.cat([_pad_left(mask, width - a, 1), _pad_left(other_mask, width - b, 1)], 0)
