"""Reading local data files (.json list or lines, .jsonl, .csv, .parquet, .txt) and folders of them."""
from __future__ import annotations

import os
from typing import Union

import datasets

from ..utils.errors import SartorError
from ..utils.logging import get_logger
from .charset import detect_encoding
from .readers import read_csv_rows, read_json_rows, read_text_rows

RawData = Union[datasets.Dataset, datasets.IterableDataset, list]

STREAM_CHECK_BYTES = 1 << 26  # a stream checks the encoding of its first 64 MiB only
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


def _innermost(e: BaseException) -> BaseException:
    """The exception at the root of a chain (datasets wraps reader errors in DatasetGenerationError)."""
    seen = {id(e)}
    while (e.__cause__ or e.__context__) is not None and id(e.__cause__ or e.__context__) not in seen:
        e = e.__cause__ or e.__context__
        seen.add(id(e))
    return e


def _cannot_read(path: str, builder: str, e: Exception) -> SartorError:
    root = _innermost(e)
    return SartorError(f"{path}: cannot read this {builder} file: {type(root).__name__}: {root}")


def _without_blank_lines(data: RawData) -> RawData:
    if isinstance(data, datasets.IterableDataset):
        return data.filter(lambda row: bool(row["text"].strip()))
    return data.filter(lambda b: [bool(t.strip()) for t in b["text"]], batched=True, desc="Dropping blank lines")


def _read_python(path: str, builder: str, encoding: str) -> list:
    with open(path, encoding=encoding, newline="") as f:
        text = f.read()
    if builder == "json":
        return read_json_rows(path, text)
    if builder == "csv":
        return read_csv_rows(path, text)
    return read_text_rows(text)


def read_data_file(path: str, *, streaming: bool = False, load_from_cache_file: bool = True) -> RawData:
    """Load one file as raw rows: a Dataset (IterableDataset when streaming), or a list of rows.

    Text files must be UTF-8 (or carry a UTF-8/16/32 byte-order mark): see charset.py. CSV files,
    files in UTF-16/32 and JSON files whose rows pyarrow cannot read (a malformed line, a column
    that is a string in one row and a list in another) are read with Python's csv and json
    modules into a list whose unparsable records are ``readers.BadRecord``s. Blank lines of a
    .txt file are not rows.
    """
    builder = BUILDERS[os.path.splitext(path)[1].lower()]
    if os.path.getsize(path) == 0:
        raise SartorError(f"{path}: the file is empty")
    encoding = "binary" if builder == "parquet" else detect_encoding(path, STREAM_CHECK_BYTES if streaming else None)
    if builder == "csv" or encoding not in ("binary", "utf-8", "utf-8-sig"):
        return _read_python(path, builder, encoding)
    mode = "reuse_dataset_if_exists" if load_from_cache_file else "force_redownload"
    options = {"encoding": encoding} if builder == "text" else {}
    try:
        if streaming:
            data = datasets.load_dataset(builder, data_files=path, split="train", streaming=True, **options)
        else:
            data = datasets.load_dataset(builder, data_files=path, split="train", download_mode=mode, **options)
    except Exception as e:  # noqa: BLE001 - pyarrow/datasets raise many types for bad input
        if builder != "json":
            raise _cannot_read(path, builder, e) from None
        get_logger().debug(f"{path}: Arrow JSON reader failed ({type(e).__name__}); reading with json module")
        return _read_python(path, builder, encoding)
    return _without_blank_lines(data) if builder == "text" else data
