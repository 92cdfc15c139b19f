"""Runs read back from disk for the run list, the loss curve and the checkpoint pickers."""
import json
import sys
import time
from pathlib import Path

from sartor.ui.web_ui.jobs import JobStore
from sartor.ui.web_ui.runs import (curve_frame, file_status, find_checkpoints, find_run_dirs, list_runs, read_log,
                                   runs_table)


def _run(root: Path, name: str, rows: list[dict], ckpts=(), finished=True, half_line=False) -> Path:
    run = root / name
    run.mkdir(parents=True)
    (run / "args.json").write_text(json.dumps({"model": "tiny", "rlhf_type": None}))
    lines = [json.dumps(r) for r in rows]
    if finished:
        lines.append(json.dumps({"step": rows[-1]["step"], "train_runtime": 1.0}))
    text = "\n".join(lines) + "\n" + ('{"step": 9, "lo' if half_line else "")
    (run / "logging.jsonl").write_text(text)
    for step in ckpts:
        (run / f"checkpoint-{step}").mkdir()
        for name in ("config.json", "model.safetensors", "trainer_state.json"):  # a complete checkpoint
            (run / f"checkpoint-{step}" / name).write_text("{}")
    return run


ROWS = [{"step": 1, "loss": 8.0, "max_steps": 4}, {"step": 2, "loss": 6.0, "eval_loss": 6.5, "max_steps": 4},
        {"step": 4, "loss": 3.0, "max_steps": 4}]


def test_logs_curves_and_status(tmp_path):
    run = _run(tmp_path / "output/tiny", "v0-20260101-120000", ROWS, finished=False, half_line=True)
    rows = read_log(str(run))
    assert len(rows) == 3 and file_status(str(run)) == "incomplete"
    frame = curve_frame(rows)
    assert list(frame["series"]) == ["loss", "loss", "eval_loss", "loss"] and list(frame["step"]) == [1, 2, 2, 4]
    assert str(frame["value"].dtype) == "float64" and str(frame["step"].dtype) == "int64"
    empty = curve_frame([])  # typed even when empty: the plot keeps the axis types of its first frame
    assert len(empty) == 0 and str(empty["value"].dtype) == "float64"
    done = _run(tmp_path / "output/tiny", "v1-20260101-130000", ROWS)
    assert file_status(str(done)) == "finished"


def test_run_list_merges_jobs_and_shell_runs(tmp_path):
    root = tmp_path / "output"
    _run(root / "tiny", "v0-20260101-120000", ROWS, ckpts=(2, 4))
    _run(root / "other" / "deeper", "v3-20260102-120000", ROWS, ckpts=(4,), finished=False)
    (root / "tiny" / "v0-20260101-120000" / "checkpoint-4-merged").mkdir()
    (root / "tiny" / "v0-20260101-120000" / "checkpoint-4-merged" / "config.json").write_text("{}")
    assert len(find_run_dirs(str(root))) == 2

    store = JobStore("output", cwd=str(tmp_path))  # a UI job that trained into a third run directory
    ui_run = _run(root / "tiny", "v1-20260103-120000", ROWS, ckpts=(4,))
    code = f"import sys; print('run directory: {ui_run.relative_to(tmp_path)}', file=sys.stderr); print('last_model_checkpoint: x')"
    job = store.launch(["sft", "--model", "tiny"], cmd=[sys.executable, "-c", code])
    deadline = time.time() + 30
    while store.get(job["id"])["status"] == "running" and time.time() < deadline:
        time.sleep(0.1)

    runs = list_runs(store)
    assert [r["run_dir"] for r in runs] == ["output/tiny/v1-20260103-120000", "output/other/deeper/v3-20260102-120000",
                                           "output/tiny/v0-20260101-120000"]
    assert [r["status"] for r in runs] == ["finished", "incomplete", "finished"]
    assert runs[0]["key"] == job["id"] and runs[1]["key"] == runs[1]["run_dir"]  # UI jobs by id, others by path
    table = runs_table(runs)
    assert table[0] == ["output/tiny/v1-20260103-120000", "sft", "tiny", "finished", "4/4", 3.0]

    assert find_checkpoints(store, runs) == [
        "output/tiny/v1-20260103-120000/checkpoint-4", "output/other/deeper/v3-20260102-120000/checkpoint-4",
        "output/tiny/v0-20260101-120000/checkpoint-4", "output/tiny/v0-20260101-120000/checkpoint-2",
        "output/tiny/v0-20260101-120000/checkpoint-4-merged"]
