"""Invariants of `sft_main` checked from what a run leaves on disk, as a user would check them.

- resumed training equals uninterrupted training: the same weights and the same logged loss at every step, with data
  order and RNG (LoRA dropout) restored, from a checkpoint in the middle of an epoch;
- trainable parameters changed and frozen ones did not (full, LoRA, DoRA, full with --freeze_parameters), read from
  the saved safetensors and optimizer state; the validation loss fell.

The runs use a 0.35M-parameter Qwen2 written to a local directory with the tiny model's tokenizer (the built-in
`tiny` model is ~10x slower per step on a shared 2-core CPU) and the built-in self-cognition data.
(The loss under padding and gradient accumulation is in tests/unit/train/test_loss.py.)"""
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sartor.arguments import SftArguments
from sartor.train.sft import sft_main

STEPS = 16  # 32 training rows, batch 2 x accumulation 2 -> 8 steps per epoch, 2 epochs
COMMON = dict(
    dataset=["self-cognition#40"], model_name=["Sartor"], model_author=["Acme"], split_dataset_ratio=0.2,
    num_train_epochs=2, per_device_train_batch_size=2, gradient_accumulation_steps=2, per_device_eval_batch_size=8,
    logging_steps=1, save_steps=3, warmup_ratio=0.1, gradient_checkpointing=False, report_to=["none"],
)
TRAIN_KEYS = ("loss", "grad_norm", "learning_rate", "acc")


@pytest.fixture(autouse=True, scope="module")
def fast_cpu():
    """One thread (tiny models on a shared CPU run faster so), and no loss-curve PNGs (matplotlib would take 40% of
    each run; tests/integration/test_quickstart.py checks the plots)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sartor.train.callbacks.plot_run", lambda run_dir: None)
        yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from sartor.model.tiny import get_tiny_tokenizer

    tok = get_tiny_tokenizer()
    config = Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         tie_word_embeddings=True, eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
                         pad_token_id=tok.pad_token_id, bos_token_id=None)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("micro-qwen2")
    Qwen2ForCausalLM(config).save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


def sft(model_dir: str, output_dir: Path, **kwargs) -> dict:
    return sft_main(SftArguments(model=model_dir, output_dir=str(output_dir), **{**COMMON, **kwargs}))


def jsonl(run_dir: str) -> list[dict]:
    return [json.loads(x) for x in (Path(run_dir) / "logging.jsonl").read_text().splitlines()]


def by_step(rows: list[dict], key: str = "loss") -> dict[int, dict]:
    out: dict[int, dict] = {}
    for r in rows:
        if key in r:
            assert r["step"] not in out, f"step {r['step']} logged twice"
            out[r["step"]] = r
    return out


def weights(ckpt: str) -> dict[str, torch.Tensor]:
    name = "adapter_model.safetensors" if (Path(ckpt) / "adapter_model.safetensors").is_file() else "model.safetensors"
    return load_file(str(Path(ckpt) / name))


def optimized_tensors(ckpt: str) -> int:
    """How many tensors the optimizer in a checkpoint updates."""
    state = torch.load(Path(ckpt) / "optimizer.pt", map_location="cpu", weights_only=True)
    return sum(len(g["params"]) for g in state["param_groups"])


def assert_same_training(resumed: list[dict], uninterrupted: list[dict]) -> None:
    """Every train and eval row of the uninterrupted run is in the resumed run's log, once, with the same values."""
    for key, fields in (("loss", TRAIN_KEYS), ("eval_loss", ("eval_loss",))):
        want, got = by_step(uninterrupted, key), by_step(resumed, key)
        assert sorted(got) == sorted(want), key
        for step, row in want.items():
            for f in fields:
                assert got[step][f] == pytest.approx(row[f], rel=1e-5, abs=1e-7), (step, f)


def assert_same_weights(a: str, b: str) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], msg=lambda m: f"{k}: {m}")


def assert_eval_loss_fell(rows: list[dict]) -> None:
    evals = [r["eval_loss"] for r in rows if "eval_loss" in r]
    assert len(evals) >= 2 and evals[-1] < evals[0], evals


@pytest.fixture(scope="module")
def lora_run(model_dir, tmp_path_factory) -> dict:
    """Uninterrupted LoRA run with dropout, shuffled data, two epochs."""
    out = tmp_path_factory.mktemp("lora")
    return sft(model_dir, out, train_type="lora", lora_dropout=0.1, learning_rate=5e-3) | {"output_dir": out}


@pytest.fixture(scope="module")
def full_run(model_dir, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("full")
    return sft(model_dir, out, train_type="full", learning_rate=3e-3) | {"output_dir": out}


@pytest.mark.slow
def test_lora_resume_equals_uninterrupted(model_dir, lora_run):
    """Resume into the same --output_dir, as after a crash: a new v<N> run directory (as ms-swift does) whose
    logging.jsonl still reads as the whole run, and the same weights and losses as the uninterrupted run."""
    ckpt = f"{lora_run['run_dir']}/checkpoint-6"  # step 6 of 8 in the first epoch: data skipped, RNG re-synced
    resumed = sft(model_dir, lora_run["output_dir"], train_type="lora", lora_dropout=0.1, learning_rate=5e-3,
                  resume_from_checkpoint=ckpt)
    assert Path(resumed["run_dir"]).parent == Path(lora_run["run_dir"]).parent
    assert resumed["run_dir"] != lora_run["run_dir"]
    assert resumed["global_step"] == STEPS
    assert_same_training(jsonl(resumed["run_dir"]), jsonl(lora_run["run_dir"]))
    assert_same_training(resumed["log_history"], lora_run["log_history"])
    assert_same_weights(resumed["last_model_checkpoint"], lora_run["last_model_checkpoint"])
    assert not (Path(resumed["run_dir"]) / "checkpoint-6").exists()  # it saved only what it trained


@pytest.mark.slow
def test_full_resume_in_place_after_a_kill(model_dir, full_run, tmp_path):
    """A full run killed at step 8 after checkpoint-6, resumed in its own directory (--add_version false): the
    steps it logged after the checkpoint are logged once, and it ends as the uninterrupted run did."""
    killed = tmp_path / "killed"
    shutil.copytree(full_run["run_dir"], killed)
    for ckpt in killed.glob("checkpoint-*"):
        if int(ckpt.name.split("-")[1]) > 6:
            shutil.rmtree(ckpt)
    log = killed / "logging.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in jsonl(str(killed)) if r["step"] <= 8))
    resumed = sft(model_dir, killed, train_type="full", learning_rate=3e-3, add_version=False,
                  resume_from_checkpoint=str(killed / "checkpoint-6"))
    assert resumed["run_dir"] == str(killed)
    assert_same_training(jsonl(str(killed)), jsonl(full_run["run_dir"]))
    assert_same_weights(resumed["last_model_checkpoint"], full_run["last_model_checkpoint"])


@pytest.mark.slow
def test_full_training_changes_every_weight(model_dir, full_run):
    start = load_file(f"{model_dir}/model.safetensors")
    last = weights(full_run["last_model_checkpoint"])
    assert last.keys() == start.keys()
    unchanged = [k for k in start if torch.equal(start[k], last[k])]
    assert not unchanged
    assert optimized_tensors(full_run["last_model_checkpoint"]) == len(start)
    assert_eval_loss_fell(full_run["log_history"])


@pytest.mark.slow
def test_full_training_with_frozen_layer(model_dir, tmp_path):
    run = sft(model_dir, tmp_path, train_type="full", learning_rate=3e-3, freeze_parameters=["model.layers.0"],
              num_train_epochs=1, save_steps=4)
    start = load_file(f"{model_dir}/model.safetensors")
    last = weights(run["last_model_checkpoint"])
    frozen = [k for k in start if k.startswith("model.layers.0.")]
    assert frozen
    for k in start:
        assert torch.equal(start[k], last[k]) == (k in frozen), k
    assert optimized_tensors(run["last_model_checkpoint"]) == len(start) - len(frozen)
    assert_eval_loss_fell(run["log_history"])


def _assert_adapter_trained(run: dict, extra: tuple[str, ...] = ()) -> None:
    """The adapter holds LoRA tensors only; every one moved between the first and the last checkpoint (lora_B from
    zero); the optimizer updated exactly those tensors, so no base weight could change."""
    ckpts = sorted(Path(run["run_dir"]).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    first, last = weights(str(ckpts[0])), weights(str(ckpts[-1]))
    assert first.keys() == last.keys() and first
    assert all("lora_" in k for k in last), [k for k in last if "lora_" not in k]
    for kind in ("lora_A", "lora_B", *extra):
        assert any(kind in k for k in last), kind
    for k in last:
        assert not torch.equal(first[k], last[k]), k
        if "lora_B" in k:
            assert last[k].abs().sum() > 0, k
    assert optimized_tensors(str(ckpts[-1])) == len(last)
    assert_eval_loss_fell(run["log_history"])


@pytest.mark.slow
def test_lora_trains_only_the_adapter(lora_run):
    _assert_adapter_trained(lora_run)


@pytest.mark.slow
def test_dora_trains_only_the_adapter(model_dir, tmp_path):
    run = sft(model_dir, tmp_path, train_type="lora", use_dora=True, learning_rate=5e-3, num_train_epochs=1,
              save_steps=4)
    _assert_adapter_trained(run, extra=("lora_magnitude_vector",))


def test_freeze_prefix_does_not_end_inside_a_layer_number():
    """--freeze_parameters model.layers.1 freezes layer 1, not layers 10 and 11; a plain prefix still works."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from sartor.tuners.prepare import prepare_model

    config = Qwen2Config(vocab_size=32, hidden_size=8, intermediate_size=16, num_hidden_layers=12,
                         num_attention_heads=2, num_key_value_heads=1)
    model = prepare_model(Qwen2ForCausalLM(config), SftArguments(model="in-process", train_type="full",
                                                                  freeze_parameters=["model.layers.1", "model.embed"]))
    frozen = {".".join(n.split(".")[:3]) for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {"model.layers.1", "model.embed_tokens.weight"}
