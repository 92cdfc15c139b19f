"""A dataset registered with --custom_dataset_info is found by infer and eval too, as by sft."""
import json
import uuid


def test_infer_and_eval_read_custom_dataset_info(sartor_main, tmp_path):
    name = f"my-qa-{uuid.uuid4().hex[:8]}"  # the registry is per process: a name no other test registered
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps({"q": f"question {i}", "a": f"answer {i}"}) + "\n"
                                               for i in range(3)))
    (tmp_path / "info.json").write_text(json.dumps([{"name": name, "dataset_path": "qa.jsonl",
                                                     "columns": {"q": "query", "a": "response"}}]))
    common = ["--model", "tiny", "--val_dataset", name, "--custom_dataset_info", "info.json", "--max_new_tokens", "4",
              "--temperature", "0"]
    sartor_main("infer", *common, "--result_path", "answers.jsonl", cwd=tmp_path)
    rows = [json.loads(x) for x in (tmp_path / "answers.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and "question 0" in json.dumps(rows[0], ensure_ascii=False)
    r = sartor_main("eval", *common, "--result_path", "eval", cwd=tmp_path)
    assert name in r.stdout and "metrics_path" in r.stdout
