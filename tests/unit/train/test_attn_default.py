"""Training attention: --attn_impl when given; flash-attention 2 by default only where it can run."""
from types import SimpleNamespace

import pytest
import torch

from sartor.train.setup import training_attn_impl


def args(**kw):
    return SimpleNamespace(**{"attn_impl": None, "torch_dtype": "bfloat16", "trust_remote_code": False, **kw})


NATIVE = SimpleNamespace(config={"model_type": "qwen2"})
REMOTE = SimpleNamespace(config={"model_type": "chatglm", "auto_map": {"AutoModelForCausalLM": "modeling.M"}})


@pytest.fixture
def gpu_with_flash(monkeypatch):
    import transformers.utils

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(transformers.utils, "is_flash_attn_2_available", lambda: True)


def test_flash_attention_where_it_runs(gpu_with_flash):
    assert training_attn_impl(args(), NATIVE) == "flash_attn"
    assert training_attn_impl(args(attn_impl="sdpa"), NATIVE) == "sdpa"  # the user's choice wins
    assert training_attn_impl(args(torch_dtype="float32"), NATIVE) is None  # flash-attention needs 16-bit
    assert training_attn_impl(args(trust_remote_code=True), REMOTE) is None  # the repository's code decides


def test_sdpa_without_a_gpu_or_the_package(monkeypatch):
    import transformers.utils

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert training_attn_impl(args(), NATIVE) is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(transformers.utils, "is_flash_attn_2_available", lambda: False)
    assert training_attn_impl(args(), NATIVE) is None
