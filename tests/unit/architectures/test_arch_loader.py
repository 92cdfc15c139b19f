"""Conformance matrix, loading: each architecture saved as a checkpoint loads through Sartor's loader as the same
class with an attention implementation it accepts (eager for Gemma 2, whose soft-capped attention refuses sdpa), and
gives the in-process model's logits."""
import pytest
import torch
from arch_factory import SPECS, padded_batch

from sartor.model.loader import get_model_tokenizer
from sartor.model.tiny import get_tiny_tokenizer


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_sartors_loader_gives_the_same_model(spec, tmp_path):
    model = spec.build().eval()
    model.save_pretrained(tmp_path)
    get_tiny_tokenizer().save_pretrained(tmp_path)
    loaded, _ = get_model_tokenizer(model=str(tmp_path), torch_dtype="float32")
    assert type(loaded) is type(model)
    if spec.attn:
        assert loaded.config._attn_implementation == spec.attn
    batch = {k: v for k, v in padded_batch().items() if k != "labels"}
    with torch.no_grad():
        torch.testing.assert_close(loaded.eval()(**batch).logits, model(**batch).logits, rtol=1e-5, atol=1e-5)
