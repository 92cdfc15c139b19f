"""float16 training with trained embedding and output layers (the Chinese-LLaMA-Alpaca script's combination)
ends with a finite model that generates, and --bf16 / --fp16 choose the precision on CPU too."""
import json
import math
from pathlib import Path

import torch
from safetensors.torch import load_file

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"


def test_fp16_with_trained_embeddings_stays_finite(sartor_main, tmp_path, shared_datasets):
    data = f"{shared_datasets / 'alpaca_en_demo.json'}#16"
    sartor_main("sft", "--model", "tiny", "--dataset", data, "--torch_dtype", "float16", "--modules_to_save",
                "embed_tokens", "lm_head", "--max_steps", "2", "--logging_steps", "1", "--report_to", "none",
                "--output_dir", "out", cwd=tmp_path)
    run = next((tmp_path / "out").glob("v0-*"))
    rows = [json.loads(x) for x in (run / "logging.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if "loss" in r]
    assert len(losses) == 2 and all(math.isfinite(x) and x > 1.0 for x in losses)  # was 8.37, then 0.0 and NaN
    assert all(math.isfinite(r["eval_loss"]) for r in rows if "eval_loss" in r)
    weights = load_file(run / "checkpoint-2" / "adapter_model.safetensors")
    assert any("modules_to_save" in k or "embed_tokens" in k for k in weights)
    assert all(torch.isfinite(t).all() for t in weights.values())
    r = sartor_main("infer", "--ckpt_dir", str(run), "--query", "hi", "--max_new_tokens", "4", "--temperature", "0",
                    cwd=tmp_path)
    assert r.stdout.strip()


def test_bf16_flag_trains_in_bfloat16_on_cpu(sartor_main, tmp_path):
    sartor_main("sft", "--model", "tiny", "--dataset", "self-cognition#8", "--model_name", "Sartor", "--model_author",
                "Acme", "--bf16", "--max_steps", "1", "--split_dataset_ratio", "0", "--report_to", "none",
                "--output_dir", "out", cwd=tmp_path)
    run = next((tmp_path / "out").glob("v0-*"))
    args = json.loads((run / "args.json").read_text())
    assert args["torch_dtype"] == "bfloat16" and "bf16" not in (args.get("training_args") or {})
