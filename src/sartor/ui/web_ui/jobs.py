"""Commands the web UI launched, recorded on disk so a reloaded page (or a restarted server) finds them.

Each job is a folder `<output dir>/.webui/jobs/<id>/` holding `job.json` (argv, pid, status, the run
directory once known), `stdout.log` and `stderr.log`. A job runs in its own process group, so Stop
ends the command and every process it started. Status: running, finished, failed or stopped; when
the server that launched a job is gone, it is read back from the pid and the files."""
import json
import os
import re
import signal
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Optional

from .command import check_argv, process_command, shell_command
from .guard import Policy

JOBS_DIR = os.path.join(".webui", "jobs")
FINAL = ("finished", "failed", "stopped")
# what each command prints on stdout when it succeeded
_DONE_MARKERS = {"sft": "last_model_checkpoint:", "pt": "last_model_checkpoint:", "rlhf": "last_model_checkpoint:",
                 "infer": "result_path:", "export": "_model:"}
_RUN_DIR_RE = re.compile(r"run directory: (.+?)\s*$", re.M)
_JOB_ID_RE = re.compile(r"\w[\w.-]*", re.ASCII)  # a plain folder name: no separator, never `.` or `..`
_STOP_GRACE_S = 10.0


def _start_time(pid: int) -> Optional[str]:
    """The process's start time in clock ticks since boot (Linux), to tell it from a later process with its pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] == "Z" else fields[19]


def pid_alive(pid: Optional[int], start: Optional[str] = None) -> bool:
    if not pid:
        return False
    if os.path.isdir("/proc"):
        now = _start_time(pid)
        return now is not None and (start is None or now == start)
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def tail(path: Path, lines: int = 40, max_bytes: int = 64_000) -> str:
    """The last lines of a log; a progress bar's carriage-return updates collapse to their latest state."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    out = [line.rstrip("\r").split("\r")[-1] for line in text.split("\n")]
    return "\n".join(x for x in out[-lines - 1:] if x.strip())


class JobStore:
    """Launch, stop and read back the jobs under one web UI output directory. Commands run in `cwd`; what a command
    may be given from the browser is the policy's to say (guard.py)."""

    def __init__(self, root: str, cwd: Optional[str] = None, allow_code_flags: bool = False):
        self.root = root
        self.cwd = cwd or os.getcwd()
        self.dir = Path(self.cwd, root, JOBS_DIR)
        self.policy = Policy(self.cwd, root, allow_code_flags)
        self._lock = threading.Lock()

    # --- records -------------------------------------------------------------------------------------------
    def _folder(self, job_id: str) -> Optional[Path]:
        """A job's folder; None for a name that is not a plain folder name (a page sends the id: it may not name
        another path, e.g. `../../somewhere`)."""
        return self.dir / job_id if isinstance(job_id, str) and _JOB_ID_RE.fullmatch(job_id) else None

    def _path(self, job_id: str) -> Path:
        folder = self._folder(job_id)
        if folder is None:
            raise ValueError(f"not a job id: {job_id!r}")
        return folder / "job.json"

    def _read(self, job_id: str) -> Optional[dict]:
        try:
            return json.loads(self._path(job_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _write(self, rec: dict) -> None:
        path = self._path(rec["id"])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(rec, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)

    def _update(self, job_id: str, **values) -> dict:
        with self._lock:
            rec = self._read(job_id) or {"id": job_id}
            rec.update(values)
            self._write(rec)
            return rec

    # --- launch / stop -------------------------------------------------------------------------------------
    def launch(self, argv: list[str], output_dir: Optional[str] = None, cmd: Optional[list[str]] = None,
               **meta) -> dict:
        """Start `python -m sartor <argv>` (or `cmd`) in its own process group; returns the job record. argv is
        checked first (parsed, and refused where the policy says so): a SartorError launches nothing."""
        check_argv(argv, self.policy)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        job_id = f"{stamp}-{argv[0]}"
        folder = self.dir / job_id
        folder.mkdir(parents=True, exist_ok=False)
        cmd = cmd or process_command(argv)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(folder / "stdout.log", "wb") as out, open(folder / "stderr.log", "wb") as err:
            proc = subprocess.Popen(cmd, cwd=self.cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True)
        rec = {"id": job_id, "command": argv[0], "argv": argv, "shell": shell_command(argv), "process": cmd,
               "cwd": self.cwd, "pid": proc.pid, "pid_start": _start_time(proc.pid), "started": time.time(),
               "status": "running", "output_dir": output_dir, "run_dir": None, **meta}
        with self._lock:
            self._write(rec)
        threading.Thread(target=self._wait, args=(job_id, proc), daemon=True).start()
        return rec

    def _wait(self, job_id: str, proc: subprocess.Popen) -> None:
        rc = proc.wait()
        rec = self._read(job_id) or {}
        status = "stopped" if rec.get("stop_requested") else ("finished" if rc == 0 else "failed")
        self._find_run_dir(rec)
        self._update(job_id, status=status, returncode=rc, ended=time.time(), run_dir=rec.get("run_dir"))

    def stop(self, job_id: str) -> Optional[dict]:
        """SIGTERM to the job's process group, SIGKILL after a grace period."""
        rec = self.get(job_id)
        if rec is None or rec["status"] != "running":
            return rec
        rec = self._update(job_id, stop_requested=True)
        pgid = rec["pid"]
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            return self.get(job_id)

        def kill_later() -> None:
            deadline = time.time() + _STOP_GRACE_S
            while time.time() < deadline and pid_alive(pgid, rec.get("pid_start")):
                time.sleep(0.2)
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

        threading.Thread(target=kill_later, daemon=True).start()
        return self.get(job_id)

    # --- reading back --------------------------------------------------------------------------------------
    def get(self, job_id: str) -> Optional[dict]:
        """The record with its status brought up to date (and the run directory, once the command logged it)."""
        rec = self._read(job_id)
        if rec is None:
            return None
        changed = False
        if rec.get("run_dir") is None and rec.get("command") in ("sft", "pt", "rlhf"):
            changed = self._find_run_dir(rec)
        if rec["status"] not in FINAL and not pid_alive(rec.get("pid"), rec.get("pid_start")):
            time.sleep(0.2)  # the launching server's watcher may be writing the exit status right now
            rec = self._read(job_id) or rec
            if rec["status"] not in FINAL:  # launched by a server that has gone: read the outcome from the files
                rec["status"] = self._inferred_status(rec)
                rec.setdefault("ended", time.time())
                changed = True
        if changed:
            with self._lock:
                self._write(rec)
        return rec

    def _inferred_status(self, rec: dict) -> str:
        if rec.get("stop_requested"):
            return "stopped"
        out = tail(self.dir / rec["id"] / "stdout.log", lines=50)
        return "finished" if _DONE_MARKERS.get(rec.get("command"), "\0") in out else "failed"

    def _find_run_dir(self, rec: dict) -> bool:
        """The run directory the training command logged (`run directory: ...`); False while not yet known."""
        if rec.get("run_dir") or rec.get("command") not in ("sft", "pt", "rlhf"):
            return False
        found = _RUN_DIR_RE.search(tail(self.dir / rec["id"] / "stderr.log", lines=400, max_bytes=400_000))
        if not found:
            return False
        rec["run_dir"] = found.group(1)
        return True

    def list(self, command: Optional[tuple[str, ...]] = None) -> list[dict]:
        """Every job, newest first (optionally only those of the given commands)."""
        if not self.dir.is_dir():
            return []
        jobs = []
        for folder in sorted(self.dir.iterdir(), reverse=True):
            rec = self.get(folder.name) if (folder / "job.json").is_file() else None
            if rec and (command is None or rec.get("command") in command):
                jobs.append(rec)
        return jobs

    def log(self, job_id: str, lines: int = 40) -> str:
        folder = self._folder(job_id)
        return tail(folder / "stderr.log", lines=lines) if folder else ""

    def stdout(self, job_id: str, lines: int = 40) -> str:
        folder = self._folder(job_id)
        return tail(folder / "stdout.log", lines=lines) if folder else ""

    def abs_path(self, path: str) -> str:
        """A path a job's command was given (relative to the command's directory) as an absolute path."""
        return path if os.path.isabs(path) else os.path.join(self.cwd, path)
