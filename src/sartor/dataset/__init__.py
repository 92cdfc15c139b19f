"""Datasets: loading (local files, registered names, hub ids), the registry and canonical rows.

The lead's modules ``encode``, ``collate`` and ``packing`` live here too and are imported directly.
"""
from .builtin import DatasetName
from .canonical import CANONICAL_FEATURES, decode_row
from .formats import standardize_row
from .loader import load_dataset
from .registry import DATASET_MAPPING, DatasetMeta, get_dataset_meta, register_dataset, register_dataset_info
from .spec import DatasetSpec, parse_dataset_spec, split_dataset_args

__all__ = [
    "CANONICAL_FEATURES",
    "DATASET_MAPPING",
    "DatasetMeta",
    "DatasetName",
    "DatasetSpec",
    "decode_row",
    "get_dataset_meta",
    "load_dataset",
    "parse_dataset_spec",
    "register_dataset",
    "register_dataset_info",
    "split_dataset_args",
    "standardize_row",
]
