"""Standardise a whole raw dataset into canonical rows, with bad rows raised or skipped and counted.

The per-row work is ``prepare`` (renames, the registered dataset's row preprocessing) then
``formats.standardize_row``. A row that fails is an error naming the source, its 1-based row
number and what is wrong (``strict=True``); otherwise it is dropped and the count logged. A record
the file reader could not parse (``readers.BadRecord``: a malformed JSON line, a CSV record with a
stray quote) fails the same way, named by its line.
A row preprocessing function that returns None drops the row silently (a filter).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import datasets

from ..utils.errors import SartorError
from ..utils.logging import get_logger
from .canonical import CANONICAL_COLUMNS, CANONICAL_FEATURES, canonical_dataset, empty_row
from .formats import standardize_row
from .local import RawData
from .readers import BadRecord

DROP = ("-", "_", "")
ERROR_COLUMN = "_sartor_error"
_FEATURES_WITH_ERROR = datasets.Features({**CANONICAL_FEATURES, ERROR_COLUMN: datasets.Value("string")})
_FILTERED = "\x00filtered"


@dataclass
class RowPipeline:
    """What to do to each raw row of one source before and while standardising it."""

    source: str
    base_dir: Optional[str] = None
    renames: list[dict[str, str]] = field(default_factory=list)
    preprocess: Optional[Callable[[dict], Optional[dict]]] = None
    strict: bool = False

    def prepare(self, row: dict[str, Any]) -> Optional[dict[str, Any]]:
        for mapping in self.renames:
            if any(old in row for old in mapping):
                row = dict(row)
                for old, new in mapping.items():
                    if old in row:
                        value = row.pop(old)
                        if new not in DROP:
                            row[new] = value
        if self.preprocess is not None:
            row = self.preprocess(row)
        return row

    def convert(self, row: Union[dict[str, Any], BadRecord], index: int) -> tuple[dict, Optional[str]]:
        """(canonical row, None) or (placeholder, error message); raises when strict."""
        try:
            if isinstance(row, BadRecord):  # a record the file reader could not parse
                return self._failed(row.where, row.what)
            prepared = self.prepare(row)
            if prepared is None:
                return empty_row(), _FILTERED
            return standardize_row(prepared, self.base_dir), None
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, SyntaxError) as e:
            what = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
            return self._failed(f"row {index + 1}", what)

    def _failed(self, where: str, what: str) -> tuple[dict, str]:
        message = f"{self.source}: {where}: {what}"
        if self.strict:
            raise SartorError(message + " (pass --strict false to skip bad rows)") from None
        return empty_row(), message


def _batch_fn(pipeline: RowPipeline):
    def fn(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
        keys = list(batch)
        out: dict[str, list] = {c: [] for c in (*CANONICAL_COLUMNS, ERROR_COLUMN)}
        for j, index in enumerate(indices):
            row, error = pipeline.convert({k: batch[k][j] for k in keys}, index)
            for c in CANONICAL_COLUMNS:
                out[c].append(row[c])
            out[ERROR_COLUMN].append(error)
        return out

    return fn


def _report(pipeline: RowPipeline, errors: list[Optional[str]], total: int) -> list[int]:
    """Log the skipped rows; return the indices of the good ones."""
    bad = [e for e in errors if e is not None and e != _FILTERED]
    filtered = sum(1 for e in errors if e == _FILTERED)
    if bad:
        get_logger().warning(
            f"skipped {len(bad)} of {total} rows of {pipeline.source}: first: {bad[0].split(': ', 1)[-1]}"
        )
    if filtered:
        get_logger().info(f"{pipeline.source}: {filtered} of {total} rows filtered out by the dataset's preprocessing")
    return [i for i, e in enumerate(errors) if e is None]


def _standardize_list(rows: list[dict], pipeline: RowPipeline, streaming: bool) -> RawData:
    converted = [pipeline.convert(r, i) for i, r in enumerate(rows)]
    keep = _report(pipeline, [e for _, e in converted], len(rows))
    good = [converted[i][0] for i in keep]
    dataset = canonical_dataset(good)
    return dataset.to_iterable_dataset() if streaming else dataset


def _standardize_iterable(dataset: datasets.IterableDataset, pipeline: RowPipeline) -> datasets.IterableDataset:
    logger = get_logger()

    def fn(row: dict, index: int) -> dict:
        out, error = pipeline.convert(row, index)
        if error is not None and error != _FILTERED:
            logger.warning(f"skipped {error}")
        return {**{k: None for k in row}, **out, ERROR_COLUMN: error}

    mapped = dataset.map(fn, with_indices=True)
    mapped = mapped.filter(lambda r: r[ERROR_COLUMN] is None)
    return mapped.select_columns(list(CANONICAL_COLUMNS)).cast(CANONICAL_FEATURES)


def standardize_dataset(
    raw: RawData, pipeline: RowPipeline, *, num_proc: int = 1, load_from_cache_file: bool = True
) -> RawData:
    """Canonical rows of one source (a Dataset, an IterableDataset, or a list of raw dicts)."""
    if isinstance(raw, list):
        return _standardize_list(raw, pipeline, streaming=False)
    if isinstance(raw, datasets.IterableDataset):
        return _standardize_iterable(raw, pipeline)
    total = len(raw)
    if total == 0:
        return canonical_dataset([])
    mapped = raw.map(
        _batch_fn(pipeline),
        batched=True,
        with_indices=True,
        remove_columns=raw.column_names,
        features=_FEATURES_WITH_ERROR,
        num_proc=num_proc if num_proc > 1 and total >= 2 * num_proc else None,
        load_from_cache_file=load_from_cache_file,
        desc=f"Standardising {os.path.basename(str(pipeline.source)) or pipeline.source}",  # no cache or package paths
    )
    errors = mapped[ERROR_COLUMN]
    if any(e is not None for e in errors):
        mapped = mapped.select(_report(pipeline, errors, total))
    return mapped.remove_columns(ERROR_COLUMN)
