"""Architectures with quirks train with the model's own loss: a MoE router's load-balancing loss is added as the
model adds it, and a model that refuses sdpa (Gemma 2) loads with its own default attention."""
import pytest
import torch
from transformers import (Gemma2Config, Gemma2ForCausalLM, MixtralConfig, MixtralForCausalLM, Qwen3MoeConfig,
                          Qwen3MoeForCausalLM, TrainingArguments)

from sartor.dataset.collate import PaddedCollator
from sartor.train.trainer import SartorTrainer

SMALL = dict(vocab_size=101, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, pad_token_id=0)


def batch():
    g = torch.Generator().manual_seed(5)
    rows = []
    for n, prompt in ((12, 4), (20, 7), (9, 2)):
        ids = torch.randint(1, 101, (n,), generator=g).tolist()
        rows.append({"input_ids": ids, "labels": [-100] * prompt + ids[prompt:]})
    return PaddedCollator(0)(rows)


def sartor_loss(model, tmp_path) -> float:
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[])
    trainer = SartorTrainer(model=model, args=args, data_collator=PaddedCollator(0))
    b = batch()
    n = int(b["labels"][..., 1:].ne(-100).sum())
    model.train()
    return float(trainer.compute_loss(model, dict(b), num_items_in_batch=torch.tensor(n)))


def own_loss(model) -> float:
    model.train()
    return float(model(**batch()).loss)


@pytest.mark.parametrize("make", [
    lambda: MixtralForCausalLM(MixtralConfig(**SMALL, num_local_experts=4, num_experts_per_tok=2,
                                             output_router_logits=True, router_aux_loss_coef=0.5)),
    lambda: Qwen3MoeForCausalLM(Qwen3MoeConfig(**SMALL, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                                               output_router_logits=True, router_aux_loss_coef=0.5)),
], ids=["mixtral", "qwen3_moe"])
def test_moe_router_loss_is_added_as_the_model_adds_it(make, tmp_path):
    torch.manual_seed(0)
    model = make()  # no dropout or router jitter by default: both computations see the same forward
    ours, theirs = sartor_loss(model, tmp_path), own_loss(model)
    assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-5)
    model.config.output_router_logits = False  # off: the plain token loss, as the model's own
    plain = sartor_loss(model, tmp_path)
    assert plain == pytest.approx(own_loss(model), rel=1e-5) and plain < theirs


def test_gemma2_loads_with_its_default_attention_and_trains(tmp_path, tiny_dir):
    import shutil

    from sartor.model.loader import get_model_tokenizer

    torch.manual_seed(0)
    Gemma2ForCausalLM(Gemma2Config(**{**SMALL, "vocab_size": 151936}, head_dim=8)).save_pretrained(tmp_path / "g2")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(f"{tiny_dir}/{name}", tmp_path / "g2" / name)
    model, _ = get_model_tokenizer(model=str(tmp_path / "g2"))  # was: transformers' raw ValueError about sdpa
    assert model.config._attn_implementation == "eager"
    assert sartor_loss(model, tmp_path) == pytest.approx(own_loss(model), rel=1e-5)  # soft-capping included
