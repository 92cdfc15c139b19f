"""The data of a run: check the dataset flags early, load the standardised train and validation rows, and the
validation rows that infer, eval and reward scoring answer."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

from ..utils.errors import SartorError

if TYPE_CHECKING:
    from ..arguments import DataArguments, ExportArguments, InferArguments, SftArguments

    # the commands whose arguments hold the data flags and the hub ones (use_hf, hub_token) loading needs
    DataCommandArguments = Union[SftArguments, InferArguments, ExportArguments]


def check_data_args(args: DataArguments) -> None:
    """--dataset is given and every --dataset / --val_dataset names something loadable (before any heavy work)."""
    from ..dataset.loader import check_dataset_sources

    if not args.dataset:
        raise SartorError("give --dataset (a registered name, a hub id or a local file)")
    check_dataset_sources(list(args.dataset) + list(args.val_dataset or []), args.custom_dataset_info,
                          args.model_name, args.model_author)


def load_data(args: DataCommandArguments) -> tuple[Any, Any]:
    """Standardised train and validation rows."""
    from ..dataset import load_dataset

    common = dict(data_seed=args.data_seed, num_proc=args.dataset_num_proc, streaming=args.streaming,
                  strict=args.strict, columns=args.columns, model_name=args.model_name, model_author=args.model_author,
                  custom_dataset_info=args.custom_dataset_info, load_from_cache_file=args.load_from_cache_file,
                  use_hf=args.use_hf, hub_token=args.hub_token)
    if not args.dataset:
        raise SartorError("give --dataset (a registered name, a hub id or a local file)")
    ratio = 0.0 if args.val_dataset else args.split_dataset_ratio
    train, val = load_dataset(args.dataset, split_dataset_ratio=ratio, train_dataset_sample=args.max_train_samples,
                              **common)
    if args.val_dataset:
        val, _ = load_dataset(args.val_dataset, split_dataset_ratio=0.0, **common)
    return train, val


def validation_rows(args: InferArguments) -> Any:
    """The rows infer, eval and reward scoring answer: --val_dataset, else the validation split of the training run
    whose args.json filled --dataset (--load_dataset_config true); at most --val_dataset_sample of them."""
    if args.val_dataset:
        from ..dataset import load_dataset

        rows, _ = load_dataset(args.val_dataset, split_dataset_ratio=0.0, data_seed=args.data_seed, strict=args.strict,
                               columns=args.columns, model_name=args.model_name, model_author=args.model_author,
                               num_proc=args.dataset_num_proc, use_hf=args.use_hf, hub_token=args.hub_token,
                               custom_dataset_info=args.custom_dataset_info,
                               load_from_cache_file=args.load_from_cache_file)
    else:
        if not args.dataset:
            raise SartorError("--load_dataset_config true needs a checkpoint whose args.json names its datasets")
        _, rows = load_data(args)
        if rows is None:
            raise SartorError("the training run had no validation split (split_dataset_ratio 0); give --val_dataset")
    if args.val_dataset_sample:
        rows = rows.select(range(min(args.val_dataset_sample, len(rows))))
    return rows
