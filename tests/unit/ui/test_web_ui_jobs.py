"""Jobs the web UI launches: status on disk, stop by process group, read back by a restarted server."""
import json
import os
import sys
import time

import pytest

from sartor.ui.web_ui.jobs import JobStore, pid_alive, tail


def _wait_status(store: JobStore, job_id: str, timeout: float = 30.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        rec = store.get(job_id)
        if rec["status"] != "running":
            return rec
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running")


def _py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_finished_job_records_argv_status_and_run_dir(tmp_path):
    store = JobStore("output", cwd=str(tmp_path))
    code = ("import sys; print('[sartor INFO] run directory: output/tiny/v0-20260101-120000', file=sys.stderr); "
            "print('last_model_checkpoint: output/tiny/v0-20260101-120000/checkpoint-5')")
    job = store.launch(["sft", "--model", "tiny"], cmd=_py(code), output_dir="output/tiny")
    assert job["shell"] == "sartor sft --model tiny" and job["status"] == "running"
    rec = _wait_status(store, job["id"])
    assert rec["status"] == "finished" and rec["returncode"] == 0
    assert rec["run_dir"] == "output/tiny/v0-20260101-120000"
    assert "run directory" in store.log(job["id"]) and "last_model_checkpoint" in store.stdout(job["id"])
    on_disk = json.loads((tmp_path / "output/.webui/jobs" / job["id"] / "job.json").read_text())
    assert on_disk["status"] == "finished" and on_disk["argv"] == ["sft", "--model", "tiny"]


def test_failed_job(tmp_path):
    store = JobStore("output", cwd=str(tmp_path))
    job = store.launch(["sft"], cmd=_py("import sys; sys.exit(3)"))
    rec = _wait_status(store, job["id"])
    assert rec["status"] == "failed" and rec["returncode"] == 3


def test_stop_ends_the_whole_process_group(tmp_path):
    store = JobStore("output", cwd=str(tmp_path))
    child_pid = tmp_path / "child.pid"
    code = ("import subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
            f"open({str(child_pid)!r}, 'w').write(str(p.pid)); time.sleep(120)")
    job = store.launch(["sft"], cmd=_py(code))
    deadline = time.time() + 30
    while not (child_pid.is_file() and child_pid.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    child = int(child_pid.read_text())
    assert store.get(job["id"])["status"] == "running" and pid_alive(child)
    store.stop(job["id"])
    rec = _wait_status(store, job["id"])
    assert rec["status"] == "stopped" and rec["stop_requested"]
    deadline = time.time() + 15
    while pid_alive(child) and time.time() < deadline:
        time.sleep(0.1)
    assert not pid_alive(job["pid"]) and not pid_alive(child)


def test_a_restarted_server_reads_jobs_back(tmp_path):
    first = JobStore("output", cwd=str(tmp_path))
    job = first.launch(["sft"], cmd=_py("import time; time.sleep(30)"))
    try:
        again = JobStore("output", cwd=str(tmp_path))  # a new server over the same output directory
        assert [j["id"] for j in again.list()] == [job["id"]]
        assert again.get(job["id"])["status"] == "running"
    finally:
        first.stop(job["id"])
        _wait_status(first, job["id"])

    # jobs whose server went away while they ran: the outcome comes from the files
    def orphan(name: str, stdout: str, **extra) -> str:
        folder = tmp_path / "output/.webui/jobs" / name
        folder.mkdir(parents=True)
        (folder / "stdout.log").write_text(stdout)
        (folder / "stderr.log").write_text("")
        rec = {"id": name, "command": "sft", "argv": ["sft"], "shell": "sartor sft", "pid": 2 ** 22 + 7,
               "pid_start": "1", "status": "running", "run_dir": None, **extra}
        (folder / "job.json").write_text(json.dumps(rec))
        return name

    store = JobStore("output", cwd=str(tmp_path))
    assert store.get(orphan("a-sft", "last_model_checkpoint: x\n"))["status"] == "finished"
    assert store.get(orphan("b-sft", "Traceback\n"))["status"] == "failed"
    assert store.get(orphan("c-sft", "", stop_requested=True))["status"] == "stopped"
    assert json.loads((tmp_path / "output/.webui/jobs/a-sft/job.json").read_text())["status"] == "finished"


def test_pid_alive_tells_a_reused_pid_apart():
    assert pid_alive(os.getpid())
    assert not pid_alive(os.getpid(), start="0") or not os.path.isdir("/proc")
    assert not pid_alive(None)


def test_tail_keeps_the_last_state_of_progress_bars(tmp_path):
    log = tmp_path / "err.log"
    log.write_text("start\ntrain: 10%\rtrain: 50%\rtrain: 100%\n" + "".join(f"line {i}\n" for i in range(100)))
    assert tail(log, lines=3).splitlines() == ["line 97", "line 98", "line 99"]
    assert "train: 100%" in tail(log, lines=200) and "train: 50%" not in tail(log, lines=200)
    assert tail(tmp_path / "missing.log") == ""


@pytest.mark.parametrize("bad", ["", "nope"])
def test_unknown_job(tmp_path, bad):
    store = JobStore("output", cwd=str(tmp_path))
    assert store.get(bad or "x") is None and store.stop(bad or "x") is None and store.list() == []
