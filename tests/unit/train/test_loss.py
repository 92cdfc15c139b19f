"""The training loss is the summed token cross-entropy over every trained token of the optimizer step, divided by
their count: the same under padding and any split into micro-batches, and equal to a direct PyTorch computation.

Everything runs through the real SartorTrainer, TrainingArguments builder and collator on a model built in-process."""
import copy

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, Qwen2Config, Qwen2ForCausalLM, TrainerCallback

from sartor.arguments import SftArguments
from sartor.dataset.collate import PaddedCollator
from sartor.train.loss import causal_lm_loss_sum
from sartor.train.trainer import SartorTrainer
from sartor.train.training_args import build_training_args

VOCAB = 97
PAD = 0
LR = 0.5


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models on a shared CPU run many times faster on one thread than on contended two."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def qwen2() -> Qwen2ForCausalLM:
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                         tie_word_embeddings=False, pad_token_id=PAD)
    return Qwen2ForCausalLM(config).float()


def gpt2() -> GPT2LMHeadModel:
    """A model class transformers maps to no loss type (like remote-code QWenLMHeadModel), dropout off."""
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64, resid_pdrop=0.0,
                        embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=1, eos_token_id=2, pad_token_id=PAD)
    return GPT2LMHeadModel(config).float()


def rows(all_tokens: bool = False) -> list[dict]:
    """8 rows of different lengths (so micro-batches pad) and numbers of trained tokens; one row trains none."""
    g = torch.Generator().manual_seed(1)
    out = []
    for i, n in enumerate([5, 17, 9, 30, 3, 12, 24, 7]):
        ids = torch.randint(3, VOCAB, (n,), generator=g).tolist()
        prompt = 0 if all_tokens else (n // 3 if i % 2 else n - 2)
        labels = [-100] * prompt + ids[prompt:]
        if i == 2 and not all_tokens:
            labels = [-100] * n
        out.append({"input_ids": ids, "labels": labels})
    return out


def hand_loss_and_grads(model, data: list[dict]) -> tuple[float, dict]:
    """Directly in PyTorch: sum of token CE over all rows / number of trained tokens, and its gradient."""
    model = copy.deepcopy(model)
    total, count = 0.0, 0
    for r in data:  # row by row, no padding at all
        ids = torch.tensor([r["input_ids"]])
        logits = model(input_ids=ids).logits[0, :-1]
        target = torch.tensor(r["labels"][1:])
        total = total + torch.nn.functional.cross_entropy(logits, target, ignore_index=-100, reduction="sum")
        count += int(target.ne(-100).sum())
    (total / count).backward()
    return float(total.detach() / count), {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def one_step(model, data: list[dict], batch: int, accum: int, tmp_path, optim: str = "sgd", lr: float = LR,
             **flags):
    """One optimizer step through SartorTrainer; returns the gradients it stepped with, the new weights and the logs."""
    model = copy.deepcopy(model)
    args = SftArguments(model="in-process", train_type="full", per_device_train_batch_size=batch, **flags,
                        gradient_accumulation_steps=accum, learning_rate=lr, lr_scheduler_type="constant",
                        warmup_ratio=0.0,
                        weight_decay=0.0, max_grad_norm=1e9, optim=optim, max_steps=1, train_dataloader_shuffle=False,
                        save_strategy="no", logging_steps=1, gradient_checkpointing=False, report_to=["none"])
    out = str(tmp_path / f"b{batch}x{accum}")
    training_args = build_training_args(args, out, has_eval=False, torch_dtype="float32")
    grads: dict = {}

    class Grads(TrainerCallback):
        def on_pre_optimizer_step(self, args, state, control, **kw):
            grads.update({n: p.grad.detach().clone() for n, p in model.named_parameters()})

    trainer = SartorTrainer(model=model, args=training_args, train_dataset=data, data_collator=PaddedCollator(PAD),
                            callbacks=[Grads()])
    trainer.train()
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}
    return grads, weights, trainer.state.log_history


def assert_grads_close(got: dict, want: dict, what: str) -> None:
    for name, g in want.items():
        scale = float(g.abs().max()) or 1.0
        torch.testing.assert_close(got[name] / scale, g / scale, rtol=0, atol=2e-5, msg=lambda m: f"{what} {name}: {m}")


def test_loss_sum_matches_transformers_causal_lm_loss():
    model = qwen2()
    batch = PaddedCollator(PAD)(rows())
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
    loss_sum, n, _ = causal_lm_loss_sum(out.logits, batch["labels"])
    assert int(n) == sum(sum(x != -100 for x in r["labels"][1:]) for r in rows())
    torch.testing.assert_close(loss_sum / n, out.loss)


def test_accumulation_and_padding_give_the_full_batch_step(tmp_path):
    """8x1, 4x2, 2x4 and 1x8 (one micro-batch with no trained token) step with the hand-computed gradient."""
    model, data = qwen2(), rows()
    want_loss, want_grads = hand_loss_and_grads(model, data)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for batch, accum in [(8, 1), (4, 2), (2, 4), (1, 8)]:
        grads, weights, logs = one_step(model, data, batch, accum, tmp_path)
        what = f"batch {batch} x accumulation {accum}"
        assert logs[0]["loss"] == pytest.approx(want_loss, rel=1e-5), what
        assert_grads_close(grads, want_grads, what)
        # SGD: the update is -lr * gradient, so the weights move exactly as the full-batch gradient says
        for name, w in weights.items():
            atol = LR * 2e-5 * float(want_grads[name].abs().max()) + 4 * torch.finfo(w.dtype).eps * float(w.abs().max())
            torch.testing.assert_close(w, before[name] - LR * want_grads[name], rtol=0, atol=atol,
                                       msg=lambda m: f"{what} weights {name}: {m}")


def test_torch_compile_steps_with_the_hand_computed_gradient(tmp_path):
    """--torch_compile true: the Trainer compiles the model (inductor, C++ on CPU); the loss goes through the
    compiled forward and equals the eager hand computation."""
    from torch._dynamo.utils import counters

    model, data = qwen2(), rows()
    want_loss, want_grads = hand_loss_and_grads(model, data)
    counters.clear()
    grads, _, logs = one_step(model, data, 8, 1, tmp_path, torch_compile=True)
    assert counters["stats"]["unique_graphs"] >= 1  # it did compile
    assert logs[0]["loss"] == pytest.approx(want_loss, rel=1e-5)
    assert_grads_close(grads, want_grads, "compiled")


def test_accumulation_gives_the_same_adamw_update(tmp_path):
    """The default optimizer too (its first step is about lr * sign(grad); where |grad| is near eps it amplifies
    float noise, hence the tolerance relative to lr)."""
    model, data, lr = qwen2(), rows(), 1e-3
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    _, full, _ = one_step(model, data, 8, 1, tmp_path, optim="adamw_torch", lr=lr)
    _, accumulated, _ = one_step(model, data, 2, 4, tmp_path, optim="adamw_torch", lr=lr)
    for name, w in full.items():
        assert not torch.equal(w, before[name]), name
        torch.testing.assert_close(accumulated[name], w, rtol=0, atol=lr * 5e-3, msg=lambda m: f"{name}: {m}")


def test_trained_token_count_does_not_depend_on_the_model_class(tmp_path):
    """Pre-training rows (every token trained, position 0 included) on a model class transformers has no loss type
    for: the divisor must still be the number of predicted tokens (transformers would also count position 0)."""
    model, data = gpt2(), rows(all_tokens=True)
    assert model.loss_type is None
    want_loss, want_grads = hand_loss_and_grads(model, data)
    grads, _, logs = one_step(model, data, 4, 2, tmp_path)
    assert logs[0]["loss"] == pytest.approx(want_loss, rel=1e-5)
    assert_grads_close(grads, want_grads, "gpt2 4x2")


def test_a_step_without_trained_tokens_is_zero_not_nan(tmp_path):
    """Every answer truncated away: the step's loss is 0 and nothing moves (0 / 0 would be NaN)."""
    model = qwen2()
    data = [{"input_ids": r["input_ids"], "labels": [-100] * len(r["input_ids"])} for r in rows()]
    grads, weights, logs = one_step(model, data, 4, 2, tmp_path)
    assert logs[0]["loss"] == 0.0
    assert all(torch.equal(g, torch.zeros_like(g)) for g in grads.values())
    assert all(torch.equal(w, p) for w, p in zip(weights.values(), model.parameters()))
    direct_args = build_training_args(SftArguments(model="in-process", report_to=["none"]), str(tmp_path / "direct"),
                                      has_eval=False, torch_dtype="float32")
    trainer = SartorTrainer(model=copy.deepcopy(model).train(), args=direct_args)
    loss = trainer.compute_loss(trainer.model, PaddedCollator(PAD)(data[:2]), num_items_in_batch=torch.tensor(0))
    assert loss.item() == 0.0  # finite
