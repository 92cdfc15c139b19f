"""Reading local data files (.json list or lines, .jsonl, .csv, .parquet, .txt) and folders of them."""
from __future__ import annotations

import json
import os
from typing import Union

import datasets

from ..utils.errors import SartorError
from ..utils.logging import get_logger

RawData = Union[datasets.Dataset, datasets.IterableDataset, list]

BUILDERS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet", ".txt": "text"}


def is_data_file(path: str) -> bool:
    """Whether the path has an extension this module reads."""
    return os.path.splitext(path)[1].lower() in BUILDERS


def list_data_files(path: str) -> list[str]:
    """The data files of a file or a folder (recursive, sorted), as absolute paths."""
    path = os.path.abspath(path)
    if os.path.isfile(path):
        if not is_data_file(path):
            raise SartorError(f"{path}: unsupported file type (use one of {', '.join(sorted(BUILDERS))})")
        return [path]
    if not os.path.isdir(path):
        raise SartorError(f"dataset path not found: {path}")
    files = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [os.path.join(root, n) for n in sorted(names) if is_data_file(n) and not n.startswith(".")]
    if not files:
        raise SartorError(f"folder {path} holds no data files ({', '.join(sorted(BUILDERS))})")
    return files


def _read_json_python(path: str) -> list[dict]:
    """Read a JSON list or JSON lines with the json module (any mix of value types per row)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise SartorError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    else:
        rows = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SartorError(f"{path}: invalid JSON on line {lineno}: {e.msg}") from None
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise SartorError(f"{path}: row {i + 1} is not a JSON object")
    return rows


def read_data_file(path: str, *, streaming: bool = False, load_from_cache_file: bool = True) -> RawData:
    """Load one file as raw rows: a Dataset (IterableDataset when streaming), or a list of dicts.

    JSON files whose rows pyarrow cannot fit into one schema (a column that is a string in
    one row and a list in another) are read with the json module instead, as a list.
    """
    builder = BUILDERS[os.path.splitext(path)[1].lower()]
    mode = "reuse_dataset_if_exists" if load_from_cache_file else "force_redownload"
    try:
        if streaming:
            return datasets.load_dataset(builder, data_files=path, split="train", streaming=True)
        return datasets.load_dataset(builder, data_files=path, split="train", download_mode=mode)
    except Exception as e:  # noqa: BLE001 - pyarrow/datasets raise many types for bad input
        if builder != "json":
            raise SartorError(f"{path}: cannot read {builder} file: {type(e).__name__}: {e}") from e
        get_logger().debug(f"{path}: Arrow JSON reader failed ({type(e).__name__}); reading with json module")
        return _read_json_python(path)
