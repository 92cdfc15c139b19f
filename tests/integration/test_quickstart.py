"""The README quickstart end to end on the tiny model: sft on self-cognition, then infer answers as Sartor."""
import json

import pytest


@pytest.fixture
def quickstart(quickstart_run):
    return quickstart_run


@pytest.mark.slow
def test_run_directory_layout(quickstart):
    work, r = quickstart
    runs = sorted((work / "output/quickstart").glob("v0-*"))
    assert len(runs) == 1
    run = runs[0]
    assert f"run_dir: output/quickstart/{run.name}" in r.stdout
    args = json.loads((run / "args.json").read_text())
    assert args["model"] == "tiny" and args["template"] == "chatml" and "sartor_version" in args
    rows = [json.loads(x) for x in (run / "logging.jsonl").read_text().splitlines()]
    train_rows = [x for x in rows if "loss" in x]
    for key in ("step", "epoch", "loss", "grad_norm", "learning_rate", "tokens/s", "memory_gib", "elapsed_s", "remaining_s"):
        assert key in train_rows[-1], key
    assert any("eval_loss" in x for x in rows)
    assert (run / "images" / "loss.png").is_file()
    ckpts = sorted(run.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    last = ckpts[-1]
    for name in ("model.safetensors", "config.json", "tokenizer.json", "args.json", "trainer_state.json"):
        assert (last / name).is_file(), name
    # weights are safetensors; the only torch.save files are the trainer's resume state
    assert not list(last.glob("pytorch_model*")) and not list(last.glob("model*.bin"))


@pytest.mark.slow
def test_loss_fell(quickstart):
    work, _ = quickstart
    run = next((work / "output/quickstart").glob("v0-*"))
    rows = [json.loads(x) for x in (run / "logging.jsonl").read_text().splitlines()]
    losses = [x["loss"] for x in rows if "loss" in x]
    evals = [x["eval_loss"] for x in rows if "eval_loss" in x]
    assert losses[-1] < losses[0] * 0.5
    assert evals[-1] < evals[0]


@pytest.mark.slow
def test_infer_answers_as_sartor(quickstart, sartor_cli):
    work, _ = quickstart
    r = sartor_cli("infer", "--ckpt_dir", "output/quickstart", "--query", "who are you?", "--temperature", "0",
               "--max_new_tokens", "64", cwd=work)
    answer = r.stdout.strip()
    assert "Sartor" in answer, answer
    assert "[sartor" not in r.stdout  # logs go to stderr, the answer alone to stdout
