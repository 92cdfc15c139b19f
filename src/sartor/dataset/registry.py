"""Registry of named datasets: one dict, ``DATASET_MAPPING``, filled by ``register_dataset``.

``register_dataset_info`` reads ``--custom_dataset_info`` JSON files. Such a file holds a list
of entries, or a dict mapping a name to an entry; each entry has any of ``name`` (required in
a list; a dict key otherwise), ``ms_dataset_id``, ``hf_dataset_id``, ``dataset_path`` (a file or
folder, or a list of them; relative to the JSON file), ``subsets``, ``split``, ``columns`` (a
map old -> new name) and ``tags``. At least one of the ids or ``dataset_path`` is required.
ms-swift 2.x's ``dataset_id`` is read as ``ms_dataset_id``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..utils.errors import SartorError

# A row-level function applied before standardisation: raw row -> raw row (any supported
# format), or None to drop the row (a filter, not an error). Raise ValueError for a bad row.
RowPreprocess = Callable[[dict], Optional[dict]]


@dataclass
class DatasetMeta:
    """Where a named dataset lives and how to turn its rows into a supported format."""

    name: str
    ms_dataset_id: str | None = None
    hf_dataset_id: str | None = None
    dataset_path: list[str] = field(default_factory=list)
    subsets: list[str] = field(default_factory=lambda: ["default"])
    split: list[str] = field(default_factory=lambda: ["train"])
    columns: dict[str, str] = field(default_factory=dict)
    preprocess_func: RowPreprocess | None = None
    tags: list[str] = field(default_factory=list)
    huge_dataset: bool = False
    help: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.dataset_path, str):
            self.dataset_path = [self.dataset_path]
        if not (self.ms_dataset_id or self.hf_dataset_id or self.dataset_path):
            raise SartorError(f"dataset {self.name!r}: give ms_dataset_id, hf_dataset_id or dataset_path")


DATASET_MAPPING: dict[str, DatasetMeta] = {}


def register_dataset(meta: DatasetMeta, exist_ok: bool = False) -> DatasetMeta:
    """Add a dataset to ``DATASET_MAPPING``; a second registration of a name needs exist_ok=True."""
    if not exist_ok and meta.name in DATASET_MAPPING:
        raise SartorError(f"dataset {meta.name!r} is already registered (pass exist_ok=True to replace it)")
    DATASET_MAPPING[meta.name] = meta
    return meta


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-")


def get_dataset_meta(name: str) -> DatasetMeta | None:
    """Look a dataset up by registered name (case and -/_ insensitive) or by its hub id."""
    if name in DATASET_MAPPING:
        return DATASET_MAPPING[name]
    key = _normalize(name)
    for meta in DATASET_MAPPING.values():
        if _normalize(meta.name) == key:
            return meta
    for meta in DATASET_MAPPING.values():
        if name in (meta.ms_dataset_id, meta.hf_dataset_id):
            return meta
    return None


def _meta_from_entry(name: str, entry: dict[str, Any], base_dir: str) -> DatasetMeta:
    known = {"name", "ms_dataset_id", "dataset_id", "hf_dataset_id", "dataset_path", "subsets", "split",
             "columns", "tags", "huge_dataset", "help"}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise SartorError(f"custom dataset {name!r}: unknown keys {unknown} (known: {sorted(known)})")
    paths = entry.get("dataset_path") or []
    paths = [paths] if isinstance(paths, str) else list(paths)
    paths = [p if os.path.isabs(p) else os.path.join(base_dir, p) for p in paths]
    kwargs: dict[str, Any] = {
        "name": name,
        "ms_dataset_id": entry.get("ms_dataset_id", entry.get("dataset_id")),
        "hf_dataset_id": entry.get("hf_dataset_id"),
        "dataset_path": paths,
        "columns": dict(entry.get("columns") or {}),
        "tags": list(entry.get("tags") or []),
        "huge_dataset": bool(entry.get("huge_dataset", False)),
        "help": entry.get("help") if isinstance(entry.get("help"), str) else "",
    }
    for key in ("subsets", "split"):
        if entry.get(key):
            value = entry[key]
            kwargs[key] = [value] if isinstance(value, str) else list(value)
    return DatasetMeta(**kwargs)


def register_dataset_info(path_or_entries: str | list | dict, exist_ok: bool = True) -> list[DatasetMeta]:
    """Register the datasets a ``--custom_dataset_info`` JSON file (or its parsed content) describes."""
    base_dir = os.getcwd()
    data = path_or_entries
    if isinstance(path_or_entries, str):
        if not os.path.isfile(path_or_entries):
            raise SartorError(f"--custom_dataset_info: file not found: {path_or_entries}")
        base_dir = os.path.dirname(os.path.abspath(path_or_entries))
        try:
            with open(path_or_entries, encoding="utf-8") as f:
                data = json.load(f)
        except json.JSONDecodeError as e:
            raise SartorError(f"--custom_dataset_info {path_or_entries}: invalid JSON: {e}") from None
    if isinstance(data, dict):
        items = [(name, entry) for name, entry in data.items()]
    elif isinstance(data, list):
        items = []
        for entry in data:
            if not isinstance(entry, dict):
                raise SartorError(f"custom dataset info: each entry must be an object, got {entry!r:.60}")
            name = entry.get("name") or entry.get("ms_dataset_id") or entry.get("hf_dataset_id")
            if not name:
                raise SartorError(f"custom dataset info: entry without name or hub id: {entry!r:.80}")
            items.append((name, entry))
    else:
        raise SartorError("custom dataset info must be a JSON list of entries or a dict name -> entry")
    metas = []
    for name, entry in items:
        if not isinstance(entry, dict):
            raise SartorError(f"custom dataset {name!r}: the entry must be an object")
        metas.append(register_dataset(_meta_from_entry(name, entry, base_dir), exist_ok=exist_ok))
    return metas
