"""modelscope (optional): a streamed MsDataset keeps the Hugging Face dataset it wraps as `_hf_ds`."""
import inspect

import pytest

from sartor.compat import relied_on
from sartor.compat.modelscope import streamed_hf_dataset


def test_the_streamed_dataset_keeps_the_hf_dataset():
    ms = pytest.importorskip("modelscope.msdatasets.ms_dataset", reason="modelscope is optional")
    assert "self._hf_ds" in inspect.getsource(ms.MsDataset), relied_on("modelscope", "MsDataset has no _hf_ds")


def test_a_dataset_without_one_gives_none():
    class Plain:
        pass

    assert streamed_hf_dataset(Plain()) is None
    wrapped = Plain()
    wrapped._hf_ds = "hf"
    assert streamed_hf_dataset(wrapped) == "hf"
