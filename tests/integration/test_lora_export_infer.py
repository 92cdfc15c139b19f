"""LoRA SFT, merge with export, and dataset inference, as a user runs them."""
import json
from pathlib import Path

import pytest
import torch

ALPACA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "alpaca_en_demo.json"


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, sartor_cli):
    if not ALPACA.is_file():
        pytest.skip("shared datasets not present")
    work = tmp_path_factory.mktemp("lora")
    sartor_cli("sft", "--model", "tiny", "--dataset", f"{ALPACA}#64", "--train_type", "lora", "--lora_rank", "8",
           "--learning_rate", "5e-3", "--max_steps", "8", "--per_device_train_batch_size", "4",
           "--gradient_accumulation_steps", "1", "--split_dataset_ratio", "0.1", "--save_steps", "4",
           "--logging_steps", "2", "--max_length", "256", "--report_to", "none", "--output_dir", "out", cwd=work)
    run = next((work / "out").glob("v0-*"))
    return work, run


@pytest.mark.slow
def test_lora_checkpoint_is_a_standard_peft_adapter(lora_run):
    _, run = lora_run
    ckpt = run / "checkpoint-8"
    assert (ckpt / "adapter_config.json").is_file() and (ckpt / "adapter_model.safetensors").is_file()
    assert not (ckpt / "model.safetensors").exists()
    cfg = json.loads((ckpt / "adapter_config.json").read_text())
    assert cfg["r"] == 8 and cfg["lora_alpha"] == 32


@pytest.mark.slow
def test_export_merge_loads_in_plain_transformers_and_matches_adapter(lora_run, sartor_main):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from sartor.model.tiny import ensure_tiny_model

    work, run = lora_run
    ckpt = run / "checkpoint-8"
    r = sartor_main("export", "--ckpt_dir", str(ckpt), "--merge_lora", "true", cwd=work)
    merged_dir = Path(f"{ckpt}-merged")
    assert f"merged_model: {merged_dir}" in r.stdout
    for name in ("config.json", "generation_config.json", "tokenizer.json", "args.json"):
        assert (merged_dir / name).is_file(), name
    assert list(merged_dir.glob("*.safetensors"))

    tok = AutoTokenizer.from_pretrained(merged_dir)
    ids = tok(["Give three tips for staying healthy.", "你好，世界"], return_tensors="pt", padding=True)
    merged = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32).eval()
    base = AutoModelForCausalLM.from_pretrained(ensure_tiny_model(), dtype=torch.float32).eval()
    with torch.no_grad():
        base_logits = base(**ids).logits
        adapter = PeftModel.from_pretrained(base, str(ckpt)).eval()
        adapter_logits = adapter(**ids).logits
        merged_logits = merged(**ids).logits
    mask = ids["attention_mask"].bool()
    assert (adapter_logits - base_logits)[mask].abs().max() > 1e-3  # training moved the adapter
    assert (merged_logits - adapter_logits)[mask].abs().max() < 1e-4


@pytest.mark.slow
def test_infer_over_a_dataset_writes_every_row(lora_run, sartor_main):
    work, run = lora_run
    out = work / "result.jsonl"
    r = sartor_main("infer", "--ckpt_dir", str(run), "--val_dataset", f"{ALPACA}#20", "--max_new_tokens", "8",
               "--temperature", "0", "--max_batch_size", "8", "--result_path", str(out), cwd=work)
    assert f"result_path: {out}" in r.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 20
    assert all(set(row) >= {"query", "response", "label"} and row["label"] for row in rows)


@pytest.mark.slow
def test_infer_reuses_the_run_validation_split(lora_run, sartor_main):
    work, run = lora_run
    r = sartor_main("infer", "--ckpt_dir", str(run), "--load_dataset_config", "true", "--max_new_tokens", "4",
               "--temperature", "0", cwd=work)
    path = Path(work / r.stdout.split("result_path: ")[1].strip())
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 7  # 10% of 64 rows held out at training time
    assert str(path).startswith(str(run / "checkpoint-8"))


@pytest.mark.slow
def test_eval_scores_answers_against_references(lora_run, sartor_main):
    work, run = lora_run
    r = sartor_main("eval", "--ckpt_dir", str(run), "--val_dataset", f"{ALPACA}#6", "--max_new_tokens", "8",
                    "--result_path", "evals", cwd=work)
    metrics_path = Path(work / r.stdout.split("metrics_path: ")[1].strip())
    report = json.loads(metrics_path.read_text())
    (m,) = report.values()
    assert m["rows"] == 6 and 0 <= m["rouge-l"] <= 1 and 0 <= m["bleu-4"] <= 1 and m["exact_match"] == 0
    answers = [json.loads(x) for x in next(metrics_path.parent.glob("*.jsonl")).read_text().splitlines()]
    assert len(answers) == 6


@pytest.mark.slow
def test_infer_merge_lora_answers_as_the_adapter(lora_run, sartor_main):
    work, run = lora_run
    ckpt = run / "checkpoint-4"
    query = ["--query", "Give three tips for staying healthy.", "--temperature", "0", "--max_new_tokens", "12"]
    adapter = sartor_main("infer", "--ckpt_dir", str(ckpt), *query, cwd=work).stdout
    merged = sartor_main("infer", "--ckpt_dir", str(ckpt), "--merge_lora", "true", *query, cwd=work).stdout
    assert (Path(f"{ckpt}-merged") / "config.json").is_file()  # merged first, then served from the merged weights
    assert merged.strip() and merged == adapter


@pytest.mark.slow
def test_training_continues_from_an_adapter(lora_run, sartor_main):
    """--adapters starts from the trained adapter (a fresh LoRA has lora_B = 0): one step at lr 1e-9 keeps it."""
    from safetensors.torch import load_file

    work, run = lora_run
    start = run / "checkpoint-8"
    sartor_main("sft", "--model", "tiny", "--adapters", str(start), "--dataset", f"{ALPACA}#8", "--max_steps", "1",
                "--learning_rate", "1e-9", "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1",
                "--split_dataset_ratio", "0", "--report_to", "none", "--output_dir", "continued", cwd=work)
    new = next((work / "continued").glob("v0-*")) / "checkpoint-1"
    before, after = load_file(start / "adapter_model.safetensors"), load_file(new / "adapter_model.safetensors")
    assert before.keys() == after.keys()
    assert max(float(t.abs().max()) for k, t in before.items() if "lora_B" in k) > 1e-3
    for key, t in before.items():
        torch.testing.assert_close(after[key], t, rtol=0, atol=1e-6, msg=lambda m: f"{key}: {m}")
