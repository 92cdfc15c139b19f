"""Sampling (``#N``, ``train_dataset_sample``) and the train/validation split."""
from __future__ import annotations

import math
from typing import Optional

import datasets
import numpy as np

from ..utils.logging import get_logger


def sample_indices(size: int, n: int, seed: int) -> np.ndarray:
    """N indices of range(size): without replacement when N <= size; otherwise the whole range
    floor(N / size) times plus N % size indices drawn at random without replacement."""
    rng = np.random.RandomState(seed)
    if n <= size:
        return rng.permutation(size)[:n]
    repeat = np.tile(np.arange(size), n // size)
    return np.concatenate([repeat, rng.permutation(size)[: n % size]])


def sample_dataset(dataset: datasets.Dataset, n: Optional[int], seed: int) -> datasets.Dataset:
    """N rows of the dataset as described in ``sample_indices`` (None: all rows, unchanged)."""
    if n is None:
        return dataset
    if len(dataset) == 0:
        get_logger().warning(f"cannot sample {n} rows from an empty dataset")
        return dataset
    return dataset.select(sample_indices(len(dataset), n, seed).tolist())


def sample_streaming(dataset: datasets.IterableDataset, n: Optional[int]) -> datasets.IterableDataset:
    """The first N rows of a stream (streams are not repeated or shuffled here)."""
    return dataset if n is None else dataset.take(n)


def split_train_val(
    dataset: datasets.Dataset, ratio: float, seed: int
) -> tuple[datasets.Dataset, Optional[datasets.Dataset]]:
    """Hold out ``ratio`` of the rows for validation: at least 1 row when ratio > 0 and the
    dataset has 2 rows or more, and at least 1 row left for training."""
    if ratio <= 0:
        return dataset, None
    size = len(dataset)
    if size < 2:
        get_logger().warning(f"cannot split a validation set from {size} row(s); no validation set")
        return dataset, None
    n_val = min(size - 1, max(1, math.ceil(ratio * size)))
    parts = dataset.train_test_split(test_size=n_val, seed=seed)
    return parts["train"], parts["test"]
