"""Parsing dataset specs: ``id_or_path[:subset1/subset2][#N]``, given as a list or in one string."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..utils.errors import SartorError

_SPEC_RE = re.compile(r"^(?P<id>.+?)(?::(?P<subsets>[^:#]*))?(?:#(?P<n>[^#]*))?$")


@dataclass(frozen=True)
class DatasetSpec:
    """One parsed spec: what to load, which subsets (None: the registered default) and how many rows."""

    id_or_path: str
    subsets: tuple[str, ...] | None = None
    sample: int | None = None

    def __str__(self) -> str:
        s = self.id_or_path
        if self.subsets:
            s += ":" + "/".join(self.subsets)
        if self.sample is not None:
            s += f"#{self.sample}"
        return s


def split_dataset_args(datasets: list[str] | str | None) -> list[str]:
    """Flatten items that old scripts pass as one string with spaces or commas."""
    if datasets is None:
        return []
    if isinstance(datasets, str):
        datasets = [datasets]
    out: list[str] = []
    for item in datasets:
        if os.path.exists(item):  # a path that itself holds a space or a comma
            out.append(item)
            continue
        out.extend(p for p in re.split(r"[,\s]+", item.strip()) if p)
    return out


def parse_dataset_spec(spec: str) -> DatasetSpec:
    """Parse ``id_or_path[:subset1/subset2][#N]``; an existing path is taken whole."""
    spec = spec.strip()
    if not spec:
        raise SartorError("empty dataset name")
    if os.path.exists(spec):
        return DatasetSpec(spec)
    m = _SPEC_RE.match(spec)
    if m is None:  # pragma: no cover - the pattern matches any non-empty string
        raise SartorError(f"cannot parse dataset spec {spec!r}")
    id_or_path, subsets, n = m.group("id"), m.group("subsets"), m.group("n")
    sample = None
    if n is not None:
        try:
            sample = int(n)
        except ValueError:
            raise SartorError(f"dataset spec {spec!r}: the number after '#' must be an integer, got {n!r}") from None
        if sample == -1:
            sample = None
        elif sample <= 0:
            raise SartorError(f"dataset spec {spec!r}: the number after '#' must be positive")
    subset_list = None
    if subsets is not None:
        subset_list = tuple(s.strip() for s in subsets.split("/") if s.strip())
        if not subset_list:
            raise SartorError(f"dataset spec {spec!r}: empty subset list after ':'")
    return DatasetSpec(id_or_path.strip(), subset_list, sample)
