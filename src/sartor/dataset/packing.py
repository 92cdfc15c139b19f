"""Packing: bin-pack encoded rows into sequences of at most max_length tokens.

Each packed row keeps `position_ids` that restart at 0 for every original row, so the
model's attention never crosses rows (transformers builds a block-diagonal causal mask from
position ids when no attention mask is given; flash-attention uses them as varlen bounds)."""
from typing import Any

from ..utils.logging import get_logger


class _OpenBins:
    """Open bins by their free room: the tightest one that still holds n tokens in O(log capacity) (a segment tree
    of counts over room sizes), so packing a million rows takes seconds, not the hours a scan of every bin takes."""

    def __init__(self, capacity: int) -> None:
        self.size = 1
        while self.size < capacity + 1:
            self.size *= 2
        self.count = [0] * (2 * self.size)
        self.by_room: dict[int, list[int]] = {}

    def add(self, room: int, b: int) -> None:
        if room > 0:
            self.by_room.setdefault(room, []).append(b)
            self._bump(room, 1)

    def take(self, n: int) -> tuple[int, int] | None:
        """(room, bin) of the open bin with the least room >= n, removed from the open bins; None if none fits."""
        room = self._least_at_least(1, 0, self.size - 1, n)
        if room < 0:
            return None
        self._bump(room, -1)
        return room, self.by_room[room].pop()

    def _bump(self, room: int, delta: int) -> None:
        i = room + self.size
        while i:
            self.count[i] += delta
            i >>= 1

    def _least_at_least(self, node: int, lo: int, hi: int, n: int) -> int:
        if hi < n or not self.count[node]:
            return -1
        if lo == hi:
            return lo
        mid = (lo + hi) // 2
        left = self._least_at_least(2 * node, lo, mid, n)
        return left if left >= 0 else self._least_at_least(2 * node + 1, mid + 1, hi, n)


def best_fit_decreasing(lengths: list[int], capacity: int) -> list[list[int]]:
    """Group row indices into bins whose summed lengths stay within capacity: longest rows first, each into the
    fullest bin it still fits (a new bin when none does). Deterministic; each bin lists its rows in order."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list[list[int]] = []
    open_bins = _OpenBins(capacity)
    for i in order:
        n = lengths[i]
        found = open_bins.take(n)
        if found is None:
            bins.append([i])
            open_bins.add(capacity - n, len(bins) - 1)
        else:
            room, b = found
            bins[b].append(i)
            open_bins.add(room - n, b)
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
    bins = best_fit_decreasing(lengths, max_length)
    packed = [pack_rows([encoded[i] for i in b]) for b in bins]
    get_logger().info(f"packing: {len(lengths)} rows into {len(packed)} sequences of at most {max_length} tokens "
                      f"({sum(lengths) / max(len(packed) * max_length, 1):.1%} filled)")
    return Dataset.from_list(packed)
