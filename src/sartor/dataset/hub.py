"""Loading datasets from the Hugging Face hub (``datasets.load_dataset``) or ModelScope (``MsDataset``).

Thin on purpose. Tests replace ``load_from_hf`` / ``load_from_modelscope`` (module attributes,
looked up at call time) with fakes; nothing here runs without network in the test suite.
"""
from __future__ import annotations

from typing import Optional, Sequence, Union

import datasets

from ..utils.errors import SartorError
from ..utils.logging import get_logger

HubData = Union[datasets.Dataset, datasets.IterableDataset]


def load_from_hf(
    dataset_id: str, subset: Optional[str], split: str, *, token: Optional[str], streaming: bool, num_proc: int
) -> HubData:
    """One subset/split of a Hugging Face hub dataset."""
    kwargs = {"name": None if subset in (None, "default") else subset, "split": split, "token": token}
    if streaming:
        kwargs["streaming"] = True
    elif num_proc > 1:
        kwargs["num_proc"] = num_proc
    return datasets.load_dataset(dataset_id, **kwargs)


def load_from_modelscope(
    dataset_id: str, subset: Optional[str], split: str, *, token: Optional[str], streaming: bool, num_proc: int
) -> HubData:
    """One subset/split of a ModelScope dataset, converted to a Hugging Face (Iterable)Dataset."""
    from ..compat.modelscope import streamed_hf_dataset

    try:
        from modelscope import MsDataset
    except ImportError:
        raise SartorError(
            f"loading {dataset_id} from ModelScope needs the modelscope package: "
            "pip install 'sartor[modelscope]' (or load from Hugging Face with --use_hf true)"
        ) from None
    kwargs = {"subset_name": subset or "default", "split": split, "use_streaming": streaming}
    if token:
        kwargs["token"] = token
    dataset = MsDataset.load(dataset_id, **kwargs)
    wrapped = streamed_hf_dataset(dataset) if streaming else None
    if wrapped is not None:
        dataset = wrapped
        if not isinstance(dataset, datasets.IterableDataset):
            dataset = dataset.to_iterable_dataset()
    if hasattr(dataset, "to_hf_dataset"):
        dataset = dataset.to_hf_dataset()
    return dataset


def load_hub_dataset(
    dataset_id: str,
    subsets: Sequence[Optional[str]],
    splits: Sequence[str],
    *,
    use_hf: bool = True,
    token: Optional[str] = None,
    streaming: bool = False,
    num_proc: int = 1,
) -> list[tuple[str, HubData]]:
    """Each given subset x split of a hub dataset, as (source name, raw data) pairs.

    The parts are standardised one by one (their raw columns may differ) and concatenated after.
    """
    hub = "Hugging Face" if use_hf else "ModelScope"
    loader = load_from_hf if use_hf else load_from_modelscope
    parts = []
    for subset in subsets or [None]:
        for split in splits:
            get_logger().info(f"loading {dataset_id} (subset {subset or 'default'}, split {split}) from {hub}")
            try:
                data = loader(dataset_id, subset, split, token=token, streaming=streaming, num_proc=num_proc)
            except SartorError:
                raise
            except Exception as e:  # noqa: BLE001 - network and hub errors come in many types
                raise SartorError(
                    f"could not load {hub} dataset {dataset_id} (subset {subset or 'default'}, split {split}): "
                    f"{type(e).__name__}: {e}"
                ) from e
            parts.append((f"{dataset_id}:{subset or 'default'}/{split}", data))
    return parts
