"""Run directories: versioned names, args.json, and resolving checkpoints from a run or output dir."""
import json
import re
from datetime import datetime

from sartor.arguments import SftArguments
from sartor.core.checkpoints import resolve_checkpoint
from sartor.core.runs import default_output_dir, next_run_dir, read_args, write_args


def test_versions_count_up_with_timestamps(tmp_path):
    t = datetime(2026, 1, 2, 3, 4, 5)
    a = next_run_dir(str(tmp_path), True, now=t)
    b = next_run_dir(str(tmp_path), True, now=t.replace(second=6))
    assert a.endswith("v0-20260102-030405") and b.endswith("v1-20260102-030406")
    assert next_run_dir(str(tmp_path / "flat"), False) == str(tmp_path / "flat")


def test_default_output_dir_uses_model_name():
    assert default_output_dir("Qwen/Qwen2.5-0.5B-Instruct") == "output/Qwen2.5-0.5B-Instruct"
    assert default_output_dir("/models/llama/") == "output/llama"


def test_args_json_holds_every_argument_and_version(tmp_path):
    args = SftArguments(model="tiny", dataset=["a.json"])
    write_args(str(tmp_path), args, model_dir="/x")
    data = json.loads((tmp_path / "args.json").read_text())
    assert data["model"] == "tiny" and data["dataset"] == ["a.json"] and data["lora_rank"] == 8
    assert re.match(r"\d+\.\d+", data["sartor_version"]) and data["model_dir"] == "/x"
    ckpt = tmp_path / "checkpoint-5"
    ckpt.mkdir()
    assert read_args(str(ckpt))["model"] == "tiny"  # falls back to the run directory


def test_resolve_checkpoint_from_run_and_output_dirs(tmp_path):
    run0 = tmp_path / "v0-20260101-000000"
    run1 = tmp_path / "v1-20260101-000001"
    for run, steps in ((run0, (5,)), (run1, (5, 10))):
        for s in steps:
            (run / f"checkpoint-{s}").mkdir(parents=True)
            for name, text in (("adapter_config.json", "{}"), ("trainer_state.json", "{}"), ("adapter_model.safetensors", "")):
                (run / f"checkpoint-{s}" / name).write_text(text)
    assert resolve_checkpoint(str(run1)) == str(run1 / "checkpoint-10")
    assert resolve_checkpoint(str(tmp_path)) == str(run1 / "checkpoint-10")
    (run1 / "checkpoint-10" / "trainer_state.json").write_text(json.dumps({"best_model_checkpoint": str(run1 / "checkpoint-5")}))
    assert resolve_checkpoint(str(run1)) == str(run1 / "checkpoint-5")
    assert resolve_checkpoint(str(run0 / "checkpoint-5")) == str(run0 / "checkpoint-5")
