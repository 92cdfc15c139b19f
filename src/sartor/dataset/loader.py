"""``load_dataset``: dataset specs in, standardised train (and validation) datasets out.

For each spec ``id_or_path[:subset1/subset2][#N]`` (see spec.py): an existing local file or
folder is read; otherwise a registered name (or a registered dataset's hub id) is looked up;
otherwise an ``owner/name`` id is loaded from the hub. Each source is standardised into
canonical rows (canonical.py), ``#N`` samples it, the sources are concatenated, a validation
split is held out and ``train_dataset_sample`` caps the training rows.
"""
from __future__ import annotations

import difflib
import json
import os
import re
from typing import Optional, Union

import datasets

from ..utils.errors import SartorError
from ..utils.logging import get_logger
from . import builtin  # noqa: F401 - fills DATASET_MAPPING
from .canonical import canonical_dataset
from .hub import load_hub_dataset
from .local import RawData, is_data_file, list_data_files, read_data_file
from .registry import DATASET_MAPPING, DatasetMeta, get_dataset_meta, register_dataset_info
from .sampling import sample_dataset, sample_streaming, split_train_val
from .self_cognition import make_self_cognition_preprocess
from .spec import DatasetSpec, parse_dataset_spec, split_dataset_args
from .standardize import RowPipeline, standardize_dataset

AnyDataset = Union[datasets.Dataset, datasets.IterableDataset]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def _parse_columns(columns: Union[dict, str, None]) -> dict[str, str]:
    if columns is None:
        return {}
    if isinstance(columns, str):
        try:
            columns = json.loads(columns)
        except json.JSONDecodeError as e:
            raise SartorError(f"--columns must be a JSON object mapping old to new names: {e}") from None
    if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
        raise SartorError(f"--columns must map column names to column names, got {columns!r}")
    return dict(columns)


def _not_found(spec: DatasetSpec) -> SartorError:
    close = difflib.get_close_matches(spec.id_or_path, list(DATASET_MAPPING), n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return SartorError(
        f"dataset {spec.id_or_path!r}: no such file or folder (relative to {os.getcwd()}), "
        f"registered dataset name or hub id (owner/name).{hint}"
    )


def check_dataset_sources(dataset_args: list[str], custom_dataset_info: Optional[list[str]] = None,
                          model_name: Optional[list[str]] = None, model_author: Optional[list[str]] = None) -> None:
    """Fail fast, before a model or a run directory: every spec must name a file or folder, a registered
    dataset or a hub id, and self-cognition needs the model's name and author. Reads nothing (a file's
    rows are checked when it loads)."""
    for info in custom_dataset_info or []:
        register_dataset_info(info)
    for spec in (parse_dataset_spec(s) for s in split_dataset_args(dataset_args)):
        _, meta = _resolve(spec)
        if meta is not None and meta.name == "self-cognition":
            make_self_cognition_preprocess(model_name, model_author)  # raises without them


def _resolve(spec: DatasetSpec) -> tuple[bool, Optional[DatasetMeta]]:
    """(is a local file or folder, registered meta or None); raises the not-found error when the spec names
    neither of those nor a hub id (owner/name)."""
    path = spec.id_or_path
    if os.path.exists(path):
        return True, None
    meta = get_dataset_meta(path)
    if meta is None and not (_HUB_ID.match(path) and not is_data_file(path)):
        raise _not_found(spec)
    return False, meta


def _sources(spec: DatasetSpec, *, use_hf: bool, hub_token: Optional[str], streaming: bool, num_proc: int,
             load_from_cache_file: bool) -> tuple[Optional[DatasetMeta], list[tuple[str, Optional[str], RawData]]]:
    """(registered meta or None, [(source name, base dir for relative paths, raw data)])."""
    path = spec.id_or_path
    local, meta = _resolve(spec)
    if local or (meta is not None and meta.dataset_path):
        paths = [path] if meta is None else meta.dataset_path
        files = [f for p in paths for f in list_data_files(p)]
        return meta, [
            (f, os.path.dirname(f), read_data_file(f, streaming=streaming, load_from_cache_file=load_from_cache_file))
            for f in files
        ]
    if meta is not None:
        hf_first = use_hf if (meta.hf_dataset_id and meta.ms_dataset_id) else bool(meta.hf_dataset_id)
        if hf_first != use_hf:
            get_logger().info(f"{meta.name} is only on {'Hugging Face' if hf_first else 'ModelScope'}; loading it there")
        dataset_id = meta.hf_dataset_id if hf_first else meta.ms_dataset_id
        subsets: list = list(spec.subsets or meta.subsets)
        splits, use_hf = meta.split, hf_first
    else:  # a hub id (_resolve checked it)
        dataset_id, subsets, splits = path, list(spec.subsets or [None]), ["train"]
    parts = load_hub_dataset(dataset_id, subsets, splits, use_hf=use_hf, token=hub_token, streaming=streaming,
                             num_proc=num_proc)
    return meta, [(name, None, data) for name, data in parts]


def _concat(parts: list[AnyDataset], streaming: bool) -> AnyDataset:
    if not parts:
        return canonical_dataset([])
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def _load_spec(spec: DatasetSpec, *, columns: dict[str, str], strict: bool, data_seed: int, streaming: bool,
               num_proc: int, load_from_cache_file: bool, use_hf: bool, hub_token: Optional[str],
               model_name, model_author) -> AnyDataset:
    meta, sources = _sources(spec, use_hf=use_hf, hub_token=hub_token, streaming=streaming, num_proc=num_proc,
                             load_from_cache_file=load_from_cache_file)
    renames = [m for m in (columns, meta.columns if meta else {}) if m]
    preprocess = meta.preprocess_func if meta else None
    if meta is not None and meta.name == "self-cognition":
        preprocess = make_self_cognition_preprocess(model_name, model_author)
    parts = []
    for source, base_dir, raw in sources:
        if columns and isinstance(raw, datasets.Dataset) and not set(columns) & set(raw.column_names):
            get_logger().warning(f"{source}: none of the --columns keys {sorted(columns)} is a column")
        pipeline = RowPipeline(source, base_dir, renames, preprocess, strict)
        part = standardize_dataset(raw, pipeline, num_proc=num_proc, load_from_cache_file=load_from_cache_file)
        if streaming and isinstance(part, datasets.Dataset):  # a file read into a list by the json/csv modules
            part = part.to_iterable_dataset()
        parts.append(part)
    dataset = _concat(parts, streaming)
    if streaming:
        return sample_streaming(dataset, spec.sample)
    dataset = sample_dataset(dataset, spec.sample, data_seed)
    get_logger().info(f"dataset {spec}: {len(dataset)} rows")
    return dataset


def load_dataset(
    datasets: list[str],
    *,
    split_dataset_ratio: float = 0.0,
    data_seed: int = 42,
    num_proc: int = 1,
    streaming: bool = False,
    strict: bool = False,
    columns: Optional[dict] = None,
    model_name: Optional[list[str]] = None,
    model_author: Optional[list[str]] = None,
    custom_dataset_info: Optional[list[str]] = None,
    load_from_cache_file: bool = True,
    use_hf: bool = True,
    hub_token: Optional[str] = None,
    train_dataset_sample: Optional[int] = None,
) -> tuple[AnyDataset, Optional[AnyDataset]]:
    """Load, standardise, sample and concatenate datasets; return (train, validation or None).

    `datasets` items are specs ``id_or_path[:subset1/subset2][#N]`` (one item may hold several,
    separated by spaces or commas). ``#N`` draws N rows without replacement when N <= size, and
    otherwise repeats the data floor(N / size) times plus a random remainder (seed data_seed).
    With ``streaming`` the results are IterableDatasets and no validation split is made.
    """
    if not 0.0 <= split_dataset_ratio < 1.0:
        raise SartorError(f"split_dataset_ratio must be in [0, 1), got {split_dataset_ratio}")
    for info in custom_dataset_info or []:
        register_dataset_info(info)
    specs = [parse_dataset_spec(s) for s in split_dataset_args(datasets)]
    if not specs:
        raise SartorError("no dataset given: pass --dataset NAME_OR_PATH")
    options = dict(columns=_parse_columns(columns), strict=strict, data_seed=data_seed, streaming=streaming,
                   num_proc=max(1, num_proc), load_from_cache_file=load_from_cache_file, use_hf=use_hf,
                   hub_token=hub_token, model_name=model_name, model_author=model_author)
    train = _concat([_load_spec(spec, **options) for spec in specs], streaming)
    n_train = None if train_dataset_sample in (None, -1) else train_dataset_sample
    if streaming:
        if split_dataset_ratio > 0:
            get_logger().warning("streaming datasets are not split; no validation set (pass --val_dataset)")
        return sample_streaming(train, n_train), None
    if len(train) == 0:
        raise SartorError(f"no usable rows in {', '.join(map(str, specs))}")
    train, val = split_train_val(train, split_dataset_ratio, data_seed)
    if n_train is not None and n_train < len(train):
        train = sample_dataset(train, n_train, data_seed)
    return train, val
