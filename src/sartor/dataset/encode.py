"""Encode standardised rows into input_ids and labels with a template, eagerly or lazily."""
from typing import Any, Callable, Optional

import torch

from ..utils.errors import SartorError
from ..utils.logging import get_logger


def _decoder() -> Callable[[dict], dict]:
    try:
        from .canonical import decode_row  # canonical rows as plain Python objects
    except ImportError:  # pragma: no cover
        return lambda r: r
    return decode_row


class _Encoder:
    """Picklable row encoder for datasets.map (multi-process safe)."""

    def __init__(self, template: Any):
        self.template = template
        self.decode = _decoder()

    def __call__(self, row: dict) -> dict:
        try:
            out = self.template.encode(self.decode(row))
        except ValueError as e:
            raise SartorError(f"cannot encode a row: {e}") from None
        if out is None:
            return {"input_ids": [], "labels": [], "length": 0}
        return {"input_ids": out["input_ids"], "labels": out["labels"], "length": len(out["input_ids"])}


def encode_dataset(dataset, template: Any, num_proc: int = 1, load_from_cache_file: bool = True, desc: str = "encode",
                   validation: bool = False):
    """Map every row through template.encode; rows over max_length (delete strategy) are dropped and counted.
    Validation data left empty that way is None (no evaluation); training data left empty is an error."""
    if dataset is None:
        return None
    columns = list(dataset.column_names or [])
    kwargs = {"remove_columns": columns}
    if hasattr(dataset, "num_rows"):
        kwargs.update(num_proc=num_proc if num_proc > 1 and len(dataset) >= 2 * num_proc else None,
                      load_from_cache_file=load_from_cache_file, desc=desc)
    encoded = dataset.map(_Encoder(template), **kwargs)
    return drop_over_length(encoded, desc, validation)


def drop_over_length(encoded: Any, desc: str, validation: bool) -> Any:
    """Drop the rows encoding left empty (over --max_length with --truncation_strategy delete), counted in a warning.

    One rule for every training method: validation data left empty is None (training goes on without evaluation);
    training data left empty is an error."""
    if not hasattr(encoded, "num_rows"):  # a stream: filtered as it is read
        return encoded.filter(lambda n: n > 0, input_columns=["length"])
    before = len(encoded)
    encoded = encoded.filter(lambda n: n > 0, input_columns=["length"], desc=f"{desc}: drop over-length")
    dropped = before - len(encoded)
    if dropped:
        get_logger().warning(f"{desc}: dropped {dropped} of {before} rows longer than --max_length "
                             "(--truncation_strategy delete); use left or right to keep them truncated")
    if len(encoded) == 0:
        if validation:
            get_logger().warning(f"{desc}: every validation row is over --max_length; training goes on without "
                                 "evaluation (raise --max_length or use --truncation_strategy right)")
            return None
        raise SartorError(f"{desc}: no rows left to train on after encoding (all {before} over --max_length?)")
    return encoded


class LazyEncodedDataset(torch.utils.data.Dataset):
    """Encodes rows when they are batched (--lazy_tokenize true); over-length rows are replaced by the next one."""

    def __init__(self, dataset, template: Any):
        self.dataset = dataset
        self.encode = _Encoder(template)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> dict:
        for k in range(len(self.dataset)):
            out = self.encode(self.dataset[(idx + k) % len(self.dataset)])
            if out["length"] > 0:
                return out
        raise SartorError("no row fits --max_length")


def stats(encoded) -> Optional[dict]:
    """Token-length statistics of an encoded dataset, for the log."""
    if encoded is None or not hasattr(encoded, "num_rows") or len(encoded) == 0:
        return None
    lengths = torch.tensor(encoded["length"], dtype=torch.float)
    return {"rows": len(encoded), "tokens": int(lengths.sum()), "mean": round(float(lengths.mean()), 1),
            "min": int(lengths.min()), "max": int(lengths.max())}
