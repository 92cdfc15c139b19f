"""--infer_backend vllm on a GPU: a trained tiny checkpoint (full, then LoRA) answers the same under vllm
and pt, greedy; the throughput ratio goes to bench/results/vllm_vs_pt.json. Skipped without CUDA or vllm."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gpu, pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("vllm") is None,
                                 reason="needs vllm (pip install 'sartor[vllm]')")]

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = str(REPO / "examples" / "quickstart.yaml")
SERVE = ["--torch_dtype", "float16", "--temperature", "0", "--max_model_len", "1024"]
VLLM = ["--infer_backend", "vllm", "--gpu_memory_utilization", "0.3", "--enforce_eager", "true"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, sartor_cli) -> Path:
    """The README quickstart (full SFT of tiny on self-cognition), and the same run as LoRA."""
    root = tmp_path_factory.mktemp("vllm")
    sartor_cli("sft", QUICKSTART, "--output_dir", str(root / "full"), cwd=root)
    sartor_cli("sft", QUICKSTART, "--train_type", "lora", "--lora_rank", "8", "--lora_alpha", "32",
               "--learning_rate", "5e-3", "--output_dir", str(root / "lora"), cwd=root)
    return root


def bench(ckpt: Path, out: Path, *extra: str) -> dict:
    r = subprocess.run([sys.executable, str(REPO / "bench" / "vllm_vs_pt.py"), "--ckpt_dir", str(ckpt),
                        "--out", str(out), "--gpu_memory_utilization", "0.3", *extra],
                       capture_output=True, text=True, cwd=REPO, timeout=1800)
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_cli_query_answers_the_same_with_both_backends(checkpoints, sartor_cli):
    argv = ["infer", "--ckpt_dir", str(checkpoints / "full"), "--query", "who are you?", *SERVE]
    pt = sartor_cli(*argv, "--device_map", "cuda:0", cwd=checkpoints).stdout.strip()
    vllm = sartor_cli(*argv, *VLLM, cwd=checkpoints).stdout.strip()
    assert pt and vllm == pt


def test_full_checkpoint_same_greedy_answers_and_throughput_ratio(checkpoints):
    result = bench(checkpoints / "full", REPO / "bench" / "results" / "vllm_vs_pt.json")
    assert result["lora"] is False
    assert result["same_greedy_answers"] == result["requests"], result["mismatches"]
    assert result["vllm_backend"]["tokens_per_s"] > 0 and result["pt_backend"]["tokens_per_s"] > 0
    assert result["throughput_ratio_vllm_over_pt"] > 0


def test_lora_checkpoint_is_base_plus_adapter_with_the_same_answers(checkpoints, tmp_path):
    result = bench(checkpoints / "lora", tmp_path / "lora.json", "--requests", "16", "--enforce_eager")
    assert result["lora"] is True
    assert result["same_greedy_answers"] == result["requests"], result["mismatches"]
