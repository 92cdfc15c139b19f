"""sft and rlhf take one path when every validation row is over --max_length: a warning that says "validation",
then training without evaluation (rlhf used to abort with "no rows left to train on")."""
import json

import pytest


def write_rows(path, n, words):
    rows = [{"prompt": [{"role": "user", "content": " ".join(["word"] * words) + f" {i}"}],
             "chosen": [{"role": "assistant", "content": f"yes {i}"}],
             "rejected": [{"role": "assistant", "content": f"no {i}"}]} for i in range(n)]
    path.write_text(json.dumps(rows), encoding="utf-8")


@pytest.mark.parametrize("command", [["sft"], ["rlhf", "--rlhf_type", "dpo"]])
def test_all_validation_rows_over_length_trains_without_evaluation(command, sartor_main, tmp_path):
    write_rows(tmp_path / "train.json", 4, 3)
    write_rows(tmp_path / "val.json", 3, 200)
    r = sartor_main(*command, "--model", "tiny", "--dataset", "train.json", "--val_dataset", "val.json",
                    "--max_length", "64", "--truncation_strategy", "delete", "--max_steps", "1",
                    "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1",
                    "--report_to", "none", "--output_dir", "out", cwd=tmp_path)
    assert "every validation row is over --max_length" in r.stderr
    run = next((tmp_path / "out").glob("v0-*"))
    rows = [json.loads(x) for x in (run / "logging.jsonl").read_text().splitlines()]
    assert any("loss" in x for x in rows) and not any("eval_loss" in x for x in rows)
    assert (run / "checkpoint-1").is_dir()
