"""A non-finite loss, gradient norm or weight stops training with a clear error and no checkpoint; steps the
float16 loss scaler skips are logged; trainable 16-bit weights get float32 master copies."""
import logging
import math
import os
from types import SimpleNamespace

import pytest
import torch
from transformers import Qwen2Config, Qwen2ForCausalLM, TrainerControl, TrainerState, TrainingArguments

from sartor.dataset.collate import PaddedCollator
from sartor.train.guards import FiniteGuardCallback, NonFiniteError
from sartor.train.trainer import SartorTrainer


def tiny_model(dtype=torch.float32):
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=101, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False, pad_token_id=0)
    return Qwen2ForCausalLM(config).to(dtype)


def rows(n=8):
    g = torch.Generator().manual_seed(1)
    out = []
    for _ in range(n):
        ids = torch.randint(1, 101, (12,), generator=g).tolist()
        out.append({"input_ids": ids, "labels": [-100] * 4 + ids[4:]})
    return out


def make_trainer(model, tmp_path, **kw):
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to=[], max_steps=3, save_steps=1,
                             logging_steps=1, per_device_train_batch_size=2, disable_tqdm=True, **kw)
    return SartorTrainer(model=model, args=args, train_dataset=rows(), data_collator=PaddedCollator(0))


def test_nan_loss_stops_with_the_step_and_saves_nothing(tmp_path):
    model = tiny_model()
    trainer = make_trainer(model, tmp_path, learning_rate=1e-3)

    class Poison(torch.nn.Module):  # the second step's forward turns NaN
        calls = 0

    def poison(module, args, output):
        Poison.calls += 1
        return output * float("nan") if Poison.calls >= 2 else output

    model.model.norm.register_forward_hook(poison)
    with pytest.raises(NonFiniteError, match=r"step 2: the training loss is nan"):
        trainer.train()
    saved = sorted(p for p in os.listdir(tmp_path) if p.startswith("checkpoint-"))
    assert saved == ["checkpoint-1"]  # step 1 was fine; nothing after the NaN


def test_nonfinite_weights_are_never_saved(tmp_path):
    model = tiny_model()
    guard = FiniteGuardCallback(SimpleNamespace(accelerator=SimpleNamespace(scaler=None)))
    control = TrainerControl(should_save=True)
    args = SimpleNamespace(fp16=True)
    guard.on_step_end(args, TrainerState(global_step=7), control, model=model)  # finite: nothing happens
    with torch.no_grad():
        model.lm_head.weight[0, 0] = float("inf")
    with pytest.raises(NonFiniteError, match=r"step 7: 1 trainable weights are not finite \(e.g. lm_head.weight\); "
                                             r"no checkpoint saved. Float16 overflow"):
        guard.on_step_end(args, TrainerState(global_step=7), control, model=model)
    model.lm_head.weight.requires_grad_(False)  # frozen weights are not the run's to check
    guard.on_step_end(args, TrainerState(global_step=7), control, model=model)


def test_nonfinite_grad_norm_fails_unless_a_loss_scaler_skipped_the_step():
    no_scaler = FiniteGuardCallback(SimpleNamespace(accelerator=SimpleNamespace(scaler=None)))
    with pytest.raises(NonFiniteError, match="step 4: the gradient norm is nan"):
        no_scaler.check_log({"loss": 1.0, "grad_norm": math.nan}, 4, SimpleNamespace(fp16=False))
    no_scaler.check_log({"loss": 1.0, "grad_norm": 2.5}, 4, SimpleNamespace(fp16=False))


def test_skipped_scaler_steps_are_logged_and_counted(caplog):
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    accelerator = SimpleNamespace(scaler=scaler, optimizer_step_was_skipped=True)
    guard = FiniteGuardCallback(SimpleNamespace(accelerator=accelerator))
    logger = logging.getLogger("sartor")
    logger.addHandler(caplog.handler)
    try:
        guard.on_optimizer_step(None, TrainerState(global_step=2), TrainerControl())
        accelerator.optimizer_step_was_skipped = False
        guard.on_optimizer_step(None, TrainerState(global_step=3), TrainerControl())
    finally:
        logger.removeHandler(caplog.handler)
    assert {r.getMessage() for r in caplog.records if "skipped" in r.getMessage()} == {
        "step 3: the float16 loss scaler skipped this step (gradients overflowed; scale now 1024; 1 skipped so far)"}
    row = {"loss": 1.0, "grad_norm": math.inf}
    guard.check_log(row, 3, SimpleNamespace(fp16=True))  # the scaler handled it: no error
    assert row["skipped_steps"] == 1


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_trainable_half_weights_get_float32_masters_and_train_under_autocast(tmp_path, dtype):
    from peft import LoraConfig, get_peft_model

    from sartor.tuners.prepare import upcast_trainable

    model = get_peft_model(tiny_model(dtype), LoraConfig(r=4, target_modules=["q_proj"],
                                                         modules_to_save=["lm_head", "embed_tokens"]))
    upcast_trainable(model, "lora")
    trainable = {n: p.dtype for n, p in model.named_parameters() if p.requires_grad}
    assert set(trainable.values()) == {torch.float32} and any("modules_to_save" in n for n in trainable)
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    assert frozen == {dtype}  # the base stays 16-bit
    trainer = make_trainer(model, tmp_path, learning_rate=1e-3, **{"fp16" if dtype == torch.float16 else "bf16": True})
    losses = [h["loss"] for h in trainer.train() and trainer.state.log_history if "loss" in h]
    assert all(math.isfinite(x) for x in losses) and losses[-1] < losses[0]


def test_full_bfloat16_stays_bfloat16_but_float16_gets_masters():
    from sartor.tuners.prepare import upcast_trainable

    bf = tiny_model(torch.bfloat16)
    upcast_trainable(bf, "full")
    assert {p.dtype for p in bf.parameters()} == {torch.bfloat16}
    fp = tiny_model(torch.float16)
    upcast_trainable(fp, "full")
    assert {p.dtype for p in fp.parameters()} == {torch.float32}
