"""The memory-saving loss routes equal the plain full-logits loss, in value and gradients."""
import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import Qwen2Config, Qwen2ForCausalLM

from sartor.train import loss as L


def _model(lora: bool):
    torch.manual_seed(0)
    m = Qwen2ForCausalLM(Qwen2Config(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                     num_attention_heads=2, num_key_value_heads=1))
    if lora:
        m = get_peft_model(m, LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))
    return m


def _batch():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 300, (3, 17), generator=g)
    labels = ids.clone()
    labels[:, :5] = -100
    labels[2, 12:] = -100
    mask = torch.ones_like(ids)
    mask[2, 12:] = 0
    return {"input_ids": ids, "attention_mask": mask}, labels


def _grads(m):
    return {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("lora", [False, True])
@pytest.mark.parametrize("route", ["split_head", "logits_to_keep"])
def test_routes_equal_full_logits(lora, route, monkeypatch):
    m = _model(lora)
    inputs, labels = _batch()
    ref_sum, ref_n, ref_ok = L.causal_lm_loss_sum(m(**inputs).logits, labels)
    ref_sum.backward()
    ref_grads = _grads(m)
    m.zero_grad()
    monkeypatch.setattr(L, "CHUNK", 5)  # several chunks
    loss, keep, ok = L.causal_lm_loss(m, inputs, labels, unwrapped=route == "split_head")
    loss.backward()
    assert torch.allclose(loss, ref_sum, atol=1e-5)
    assert ok.numel() == int(ref_n) and int(ok.sum()) == int(ref_ok)
    grads = _grads(m)
    assert grads.keys() == ref_grads.keys() and grads
    for k in grads:
        assert torch.allclose(grads[k], ref_grads[k], atol=1e-6), k


@pytest.mark.parametrize("lora", [False, True])
def test_packed_rows_equal_padded_rows(lora):
    """Flattened (padding-free) and bin-packed batches give the padded batch's summed loss and gradients."""
    from sartor.dataset.collate import PaddedCollator, PaddingFreeCollator
    from sartor.dataset.packing import pack_rows

    rows = [{"input_ids": list(range(10, 10 + n)), "labels": [-100] * 3 + list(range(13, 10 + n))} for n in (7, 12, 5)]
    batches = {"padded": PaddedCollator(pad_token_id=0)(rows), "flat": PaddingFreeCollator()(rows),
               "packed": PaddingFreeCollator()([pack_rows(rows)])}
    results = {}
    for name, batch in batches.items():
        m = _model(lora).train()  # dropout is 0 in this config: train mode, as in training
        loss = L.causal_lm_loss(m, {k: v for k, v in batch.items() if k != "labels"}, batch["labels"], True)[0]
        loss.backward()
        results[name] = (loss.detach(), _grads(m))
    ref_loss, ref_grads = results["padded"]
    for name in ("flat", "packed"):
        loss, grads = results[name]
        assert torch.allclose(loss, ref_loss, atol=1e-4), name
        assert grads.keys() == ref_grads.keys()
        for key, g in ref_grads.items():
            torch.testing.assert_close(grads[key], g, rtol=1e-4, atol=1e-5, msg=lambda m: f"{name} {key}: {m}")


def test_compiled_and_wrapped_models_keep_the_logits_to_keep_route():
    """--torch_compile (and DDP) hand compute_loss a wrapper; the cheap route must still be found through it."""
    m = _model(False)
    assert L.accepts_logits_to_keep(m)
    assert L.accepts_logits_to_keep(torch.compile(m))  # compiling is lazy: nothing is compiled here

    class Wrapper(torch.nn.Module):  # DDP and DeepSpeed keep the model as .module
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, *args, **kwargs):
            return self.module(*args, **kwargs)

    assert L.accepts_logits_to_keep(Wrapper(torch.compile(m)))
