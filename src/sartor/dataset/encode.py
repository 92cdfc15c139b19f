"""Encode standardised rows into input_ids and labels with a template, eagerly (a batch at a time) or lazily."""
from typing import Any, Callable, Optional

import pyarrow as pa
import torch

from ..utils.errors import SartorError
from ..utils.logging import get_logger


def _decoder() -> Callable[[dict], dict]:
    try:
        from .canonical import decode_row  # canonical rows as plain Python objects
    except ImportError:  # pragma: no cover
        return lambda r: r
    return decode_row


# Rows per datasets.map batch: one tokenizer call each. Past a few hundred rows a bigger batch gains nothing
# and only holds more Python lists in memory.
BATCH_SIZE = 256
# The column types encoding has always written (datasets stores input_ids as int32); given, not inferred.
_SCHEMA = pa.schema([("input_ids", pa.list_(pa.int32())), ("labels", pa.list_(pa.int64())), ("length", pa.int64())])


class _Encoder:
    """Picklable encoder (multi-process safe): one row (`__call__`, for lazy encoding) or a batch of columns
    (`encode_columns`, for datasets.map(batched=True)) through template.encode_batch."""

    def __init__(self, template: Any):
        self.template = template
        self.decode = _decoder()

    def __call__(self, row: dict) -> dict:
        return self._encode([row])[0]

    def encode_columns(self, batch: Any) -> dict[str, list]:
        """A batch as datasets.map gives it (column -> values) encoded into input_ids, labels and length."""
        keys = list(batch.keys())
        rows = [dict(zip(keys, values)) for values in zip(*(batch[k] for k in keys))]
        outs = self._encode(rows)
        return {"input_ids": [o["input_ids"] for o in outs], "labels": [o["labels"] for o in outs],
                "length": [o["length"] for o in outs]}

    def encode_table(self, batch: Any) -> pa.Table:
        """encode_columns as an Arrow table with the column types given (no type inference per batch)."""
        cols = self.encode_columns(batch)
        return pa.Table.from_pydict(cols, schema=_SCHEMA)

    def _encode(self, rows: list[dict]) -> list[dict]:
        try:
            outs = self.template.encode_batch([self.decode(r) for r in rows])
        except ValueError as e:
            raise SartorError(f"cannot encode a row: {e}") from None
        empty = {"input_ids": [], "labels": [], "length": 0}  # over max_length (delete): dropped afterwards
        return [empty if out is None else out for out in outs]


def encode_dataset(dataset, template: Any, num_proc: int = 1, load_from_cache_file: bool = True, desc: str = "encode",
                   validation: bool = False, batch_size: int = BATCH_SIZE):
    """Encode every row with template.encode_batch, `batch_size` rows per tokenizer call (over `num_proc`
    processes); rows over max_length (delete strategy) are dropped and counted. Validation data left empty that
    way is None (no evaluation); training data left empty is an error."""
    if dataset is None:
        return None
    columns = list(dataset.column_names or [])
    kwargs: dict[str, Any] = {"remove_columns": columns, "batched": True, "batch_size": batch_size}
    if hasattr(dataset, "num_rows"):
        kwargs.update(num_proc=processes(len(dataset), num_proc, batch_size),
                      load_from_cache_file=load_from_cache_file, desc=desc)
    encoder = _Encoder(template)
    encoded = dataset.map(encoder.encode_table if hasattr(dataset, "num_rows") else encoder.encode_columns, **kwargs)
    return drop_over_length(encoded, desc, validation)


def processes(rows: int, num_proc: int, batch_size: int = BATCH_SIZE) -> Optional[int]:
    """How many processes datasets.map should start (None: this one): --dataset_num_proc, but never more
    than there are batches, so that no process starts for less than a batch of work."""
    n = min(num_proc, -(-rows // batch_size))
    return n if n > 1 else None


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
