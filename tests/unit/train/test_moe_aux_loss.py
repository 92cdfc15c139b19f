"""A MoE router's load-balancing loss on every loss route (the cheap decoder + head split included), equal to the
model's own loss with padding in the batch and on padding-free batches; --router_aux_loss_coef turns it on and off;
training and evaluation log it as aux_loss / eval_aux_loss."""
import json
import shutil

import pytest
import torch
from transformers import (LlamaConfig, LlamaForCausalLM, MixtralConfig, MixtralForCausalLM, Qwen2MoeConfig,
                          Qwen2MoeForCausalLM, Qwen3MoeConfig, Qwen3MoeForCausalLM)

from sartor.dataset.collate import PaddedCollator, PaddingFreeCollator
from sartor.train import loss as loss_module
from sartor.train.loss import (can_split_head, causal_lm_loss_and_aux, router_aux_loss_coef, routes_experts,
                               set_router_aux_loss)

SMALL = dict(vocab_size=101, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, pad_token_id=0)
EXPERTS = dict(num_experts_per_tok=2, output_router_logits=True, router_aux_loss_coef=0.5)
MOE = {
    "mixtral": lambda **kw: MixtralForCausalLM(MixtralConfig(**kw, num_local_experts=4, **EXPERTS)),
    "qwen2_moe": lambda **kw: Qwen2MoeForCausalLM(Qwen2MoeConfig(**kw, num_experts=4, moe_intermediate_size=32,
                                                                 shared_expert_intermediate_size=32, **EXPERTS)),
    "qwen3_moe": lambda **kw: Qwen3MoeForCausalLM(Qwen3MoeConfig(**kw, num_experts=4, moe_intermediate_size=32,
                                                                 **EXPERTS)),
}


def rows():
    g = torch.Generator().manual_seed(5)
    out = []
    for n, prompt in ((12, 4), (20, 7), (9, 2)):
        ids = torch.randint(1, 101, (n,), generator=g).tolist()
        out.append({"input_ids": ids, "labels": [-100] * prompt + ids[prompt:]})
    return out


def route_loss(model, batch, route, monkeypatch) -> float:
    """Token-averaged loss + coef x router loss, as SartorTrainer adds them, by one route."""
    monkeypatch.setattr(loss_module, "accepts_logits_to_keep", lambda m: route == "logits_mask")
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    total, _, ok, aux = causal_lm_loss_and_aux(model, inputs, batch["labels"], unwrapped=route == "split")
    loss = total / ok.numel()
    loss = loss + router_aux_loss_coef(model) * aux if aux is not None else loss
    return float(loss.detach())


@pytest.mark.parametrize("name", list(MOE))
@pytest.mark.parametrize("collate", ["padded", "padding_free"])
@pytest.mark.parametrize("route", ["split", "logits_mask", "full_logits"])
def test_every_route_equals_the_models_own_loss(name, collate, route, monkeypatch):
    torch.manual_seed(0)
    model = MOE[name](**SMALL).train()  # no dropout or router jitter by default: every forward is the same
    batch = PaddedCollator(0)(rows()) if collate == "padded" else PaddingFreeCollator()(rows())
    if route == "split":
        assert can_split_head(model)
    # use_cache=False as in training: with a cache, a flattened batch gets no block-diagonal mask from position ids
    own = float(model(**batch, use_cache=False).loss.detach())  # the attention mask (padded) or none (flattened): what the router counts
    assert route_loss(model, batch, route, monkeypatch) == pytest.approx(own, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name", list(MOE))
def test_the_flag_turns_the_router_loss_on_and_off(name, monkeypatch):
    torch.manual_seed(0)
    model = MOE[name](**SMALL).train()
    batch = PaddedCollator(0)(rows())
    set_router_aux_loss(model, 0)
    assert not routes_experts(model)
    plain = route_loss(model, batch, "split", monkeypatch)
    assert plain == pytest.approx(float(model(**batch).loss), rel=1e-5)
    set_router_aux_loss(model, 2.0)
    assert routes_experts(model) and router_aux_loss_coef(model) == 2.0
    on = route_loss(model, batch, "split", monkeypatch)
    assert on == pytest.approx(float(model(**batch).loss), rel=1e-5) and on > plain
    set_router_aux_loss(model, None)  # unset: the config's choice stays
    assert routes_experts(model) and router_aux_loss_coef(model) == 2.0


def test_a_dense_model_gets_a_note_not_an_error(capsys):
    model = LlamaForCausalLM(LlamaConfig(**SMALL))
    set_router_aux_loss(model, 0.01)
    assert not routes_experts(model)
    notes = [line for line in capsys.readouterr().err.splitlines() if "--router_aux_loss_coef" in line]
    assert len(notes) == 1 and "no mixture-of-experts router" in notes[0]


def test_sft_logs_aux_loss(tmp_path, tiny_dir):
    from sartor.arguments import SftArguments
    from sartor.train.sft import sft_main

    torch.manual_seed(0)
    MOE["qwen3_moe"](**{**SMALL, "vocab_size": 151936}).save_pretrained(tmp_path / "moe")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(f"{tiny_dir}/{name}", tmp_path / "moe" / name)
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"query": f"q{i} " * 5, "response": f"answer {i} " * 6}) + "\n"
                            for i in range(12)))
    sft_main(SftArguments(model=str(tmp_path / "moe"), dataset=[str(data)], output_dir=str(tmp_path / "out"),
                          router_aux_loss_coef=0.02, max_steps=2, logging_steps=1, per_device_train_batch_size=2,
                          gradient_accumulation_steps=1, save_strategy="no", eval_strategy="steps", eval_steps=2,
                          split_dataset_ratio=0.25, report_to=["none"], train_type="full"))
    log = next((tmp_path / "out").rglob("logging.jsonl")).read_text().splitlines()
    train_rows = [json.loads(r) for r in log if '"loss"' in r]
    eval_rows = [json.loads(r) for r in log if '"eval_loss"' in r]
    assert train_rows and all(r["aux_loss"] > 0 for r in train_rows)
    assert eval_rows and all(r["eval_aux_loss"] > 0 for r in eval_rows)


def test_the_split_route_under_lora_and_checkpointing_trains_the_router(monkeypatch):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    model = MOE["qwen3_moe"](**SMALL)
    model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    peft_model = get_peft_model(model, LoraConfig(target_modules=["q_proj", "gate"], r=4)).train()
    batch = PaddedCollator(0)(rows())
    assert can_split_head(peft_model)
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    _, _, _, aux = causal_lm_loss_and_aux(peft_model, inputs, batch["labels"], unwrapped=True)
    aux.backward()
    router = [p.grad for n, p in peft_model.named_parameters() if "mlp.gate.lora" in n]
    assert router and all(g is not None for g in router) and any(g.abs().sum() > 0 for g in router)
    assert route_loss(peft_model, batch, "split", monkeypatch) == pytest.approx(
        float(peft_model(**batch, use_cache=False).loss.detach()), rel=1e-5)
