"""Packing: bin-pack encoded rows into sequences of at most max_length tokens.

Each packed row keeps `position_ids` that restart at 0 for every original row, so the
model's attention never crosses rows (transformers builds a block-diagonal causal mask from
position ids when no attention mask is given; flash-attention uses them as varlen bounds)."""
from typing import Any

from ..utils.logging import get_logger


def first_fit_decreasing(lengths: list[int], capacity: int) -> list[list[int]]:
    """Group row indices into bins whose summed lengths stay within capacity."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list[list[int]] = []
    room: list[int] = []
    for i in order:
        n = lengths[i]
        for b, free in enumerate(room):
            if n <= free:
                bins[b].append(i)
                room[b] -= n
                break
        else:
            bins.append([i])
            room.append(capacity - n)
    for b in bins:
        b.sort()
    return bins


def pack_rows(rows: list[dict]) -> dict:
    """Concatenate rows; labels of each row's first token are masked (nothing predicts across rows)."""
    ids, labels, pos = [], [], []
    for r in rows:
        n = len(r["input_ids"])
        ids += list(r["input_ids"])
        labels += [-100] + list(r["labels"])[1:]
        pos += list(range(n))
    return {"input_ids": ids, "labels": labels, "position_ids": pos, "length": len(ids)}


def pack_dataset(encoded: Any, max_length: int, num_proc: int = 1) -> Any:
    """A datasets.Dataset of packed rows built from an encoded dataset."""
    from datasets import Dataset

    lengths = list(encoded["length"])
    bins = first_fit_decreasing(lengths, max_length)
    packed = [pack_rows([encoded[i] for i in b]) for b in bins]
    get_logger().info(f"packing: {len(lengths)} rows into {len(packed)} sequences of at most {max_length} tokens "
                      f"({sum(lengths) / max(len(packed) * max_length, 1):.1%} filled)")
    return Dataset.from_list(packed)
