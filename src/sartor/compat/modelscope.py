"""modelscope internals Sartor relies on (an optional dependency: pip install 'sartor[modelscope]').

- `_hf_ds` of a streamed MsDataset: the Hugging Face dataset it wraps, which has no public accessor
  (dataset/hub.py)."""
from typing import Any, Optional


def streamed_hf_dataset(ms_dataset: Any) -> Optional[Any]:
    """The Hugging Face dataset a streamed MsDataset wraps, or None when it wraps none."""
    return getattr(ms_dataset, "_hf_ds", None)
