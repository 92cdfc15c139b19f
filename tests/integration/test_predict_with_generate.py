"""--predict_with_generate scores greedy answers on the validation split with ROUGE-L and BLEU-4."""
import json
from pathlib import Path

import pytest

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.yaml"


@pytest.mark.slow
def test_generation_metrics_are_logged_and_pick_the_best_checkpoint(tmp_path, sartor_main):
    r = sartor_main("sft", str(QUICKSTART), "--report_to", "none", "--output_dir", "out", "--dataset",
                    "self-cognition#320", "--predict_with_generate", "true", "--metric_for_best_model", "rouge-l",
                    "--save_steps", "13", "--eval_steps", "13", "--split_dataset_ratio", "0.03", cwd=tmp_path)
    run = next((tmp_path / "out").glob("v0-*"))
    rows = [json.loads(x) for x in (run / "logging.jsonl").read_text().splitlines()]
    scored = [x for x in rows if "eval_rouge-l" in x]
    assert len(scored) >= 2 and all("eval_bleu-4" in x for x in scored)
    assert all(0 <= x["eval_rouge-l"] <= 1 for x in scored)
    assert scored[-1]["eval_rouge-l"] > scored[0]["eval_rouge-l"] + 0.1  # answers move toward the references
    best = r.stdout.split("best_model_checkpoint: ")[1].split()[0]
    best_score = max(scored, key=lambda x: x["eval_rouge-l"])
    assert best.endswith(f"checkpoint-{best_score['step']}")
