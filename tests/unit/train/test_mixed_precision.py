"""Mixed precision: the trainer's loss runs under the accelerator's autocast (also on the route that calls the
decoder directly), and LoRA layers take their 16-bit input as it comes instead of copying it to the adapter's
float32 and back. Loss and gradients equal the plain computation (PEFT's own casting under autocast) within
bf16 tolerance. Runs on CPU, where autocast supports bfloat16."""
import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import Qwen2Config, Qwen2ForCausalLM, TrainingArguments

from sartor.dataset.collate import PaddedCollator
from sartor.train.trainer import SartorTrainer


def bf16_lora_model(use_dora: bool = False):
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=101, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False, pad_token_id=0)
    model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    return get_peft_model(model, LoraConfig(r=8, target_modules="all-linear", init_lora_weights=False, lora_dropout=0.1,
                                            use_dora=use_dora))


def batch():
    g = torch.Generator().manual_seed(3)
    rows = []
    for n, prompt in ((12, 5), (30, 9), (21, 4)):
        ids = torch.randint(1, 101, (n,), generator=g).tolist()
        rows.append({"input_ids": ids, "labels": [-100] * prompt + ids[prompt:]})
    return PaddedCollator(0)(rows)


def trainer(model, tmp_path, bf16: bool = True) -> SartorTrainer:
    args = TrainingArguments(output_dir=str(tmp_path), bf16=bf16, use_cpu=True, report_to=[], max_steps=1)
    return SartorTrainer(model=model, args=args, data_collator=PaddedCollator(0))


def lora_input_dtypes(model) -> tuple[list, list]:
    seen: list = []
    hooks = [m.register_forward_pre_hook(lambda mod, a: seen.append(a[0].dtype))
             for n, m in model.named_modules() if n.endswith("lora_A.default")]
    return seen, hooks


def lora_grads(model) -> torch.Tensor:
    return torch.cat([p.grad.float().flatten() for n, p in model.named_parameters() if p.requires_grad])


@pytest.mark.parametrize("use_dora", [False, True])
def test_adapters_skip_the_float32_copy_and_train_the_same(tmp_path, use_dora):
    model = bf16_lora_model(use_dora)
    assert {p.dtype for n, p in model.named_parameters() if "lora_" in n} == {torch.float32}  # PEFT's master weights
    inputs = batch()

    seen, hooks = lora_input_dtypes(model)
    torch.manual_seed(7)  # the same dropout masks in both
    with torch.autocast("cpu", dtype=torch.bfloat16):  # what the plain Trainer + PEFT stack runs
        want = model(**inputs, use_cache=False).loss
    want.backward()
    want_grads = lora_grads(model)
    assert set(seen) == {torch.float32}  # PEFT copies every adapter input to float32 (autocast copies it back)

    model.zero_grad()
    seen.clear()
    t = trainer(model, tmp_path)
    torch.manual_seed(7)
    got = t.compute_loss(model, dict(inputs))
    got.backward()
    for h in hooks:
        h.remove()
    assert seen.count(torch.bfloat16) == 14  # 2 layers x 7 adapted linears take the activations as they are
    if not use_dora:  # (DoRA also passes an identity matrix in float32, to build the weight it normalises)
        assert set(seen) == {torch.bfloat16}
    assert got.item() == pytest.approx(want.item(), rel=2e-3)
    got_grads = lora_grads(model)
    assert float((got_grads - want_grads).norm() / want_grads.norm()) < 2e-2
    assert all(m.cast_input_dtype_enabled for m in t._adapter_inputs.layers(model))  # switched back afterwards

    out = model.generate(input_ids=inputs["input_ids"][:1, :5], max_new_tokens=3, do_sample=False)  # no autocast
    assert out.shape == (1, 8)


def test_without_mixed_precision_adapters_cast_as_peft_does(tmp_path):
    model = bf16_lora_model()
    seen, hooks = lora_input_dtypes(model)
    trainer(model, tmp_path, bf16=False).compute_loss(model, batch())
    for h in hooks:
        h.remove()
    assert set(seen) == {torch.float32}  # no autocast: the adapter needs its float32 input


def test_a_bf16_training_run_lowers_the_loss(tmp_path):
    model = bf16_lora_model()
    rows = [{"input_ids": (ids := list(range(1, 25))), "labels": ids}] * 4
    args = TrainingArguments(output_dir=str(tmp_path), bf16=True, use_cpu=True, report_to=[], max_steps=6,
                             learning_rate=1e-2, per_device_train_batch_size=4, logging_steps=1, save_strategy="no")
    t = SartorTrainer(model=model, args=args, train_dataset=rows, data_collator=PaddedCollator(0))
    t.train()
    losses = [r["loss"] for r in t.state.log_history if "loss" in r]
    assert losses[-1] < losses[0] - 0.2


@pytest.mark.parametrize("use_dora", [False, True])
@pytest.mark.parametrize("reentrant", [False, True])
def test_gradient_checkpointing_recomputes_the_adapters_alike(tmp_path, use_dora, reentrant):
    """Backward recomputes checkpointed layers: they must take their input as the forward did (with DoRA and
    dropout a float32 copy there changes the saved tensors, and torch refuses the recomputation)."""
    grads = {}
    for checkpointing in (False, True):
        model = bf16_lora_model(use_dora)
        if checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": reentrant})
            model.enable_input_require_grads()
        model.train()
        t = trainer(model, tmp_path)
        t.current_gradient_accumulation_steps = 1
        torch.manual_seed(7)  # the same dropout masks
        t.training_step(model, dict(batch()))
        grads[checkpointing] = lora_grads(model)
    assert float((grads[True] - grads[False]).norm() / grads[False].norm()) < 1e-2
