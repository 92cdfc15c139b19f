"""Training runs read back from disk: run directories, their logs, curves, checkpoints and status."""
import json
import os
import re
from pathlib import Path
from typing import Any, Optional

from ...core.checkpoints import checkpoints_of
from ...core.runs import ARGS_FILE, LOG_FILE
from .jobs import JobStore

RUN_NAME = re.compile(r"^v\d+-\d{8}-\d{6}$")
TRAIN = ("sft", "pt", "rlhf")
_SKIP = {".webui", "images", "runs", "__pycache__"}


def find_run_dirs(root: str, depth: int = 3) -> list[str]:
    """Run directories (v<N>-<YYYYMMDD-HHMMSS>/) under root, up to `depth` levels down."""
    found: list[str] = []

    def walk(path: str, level: int) -> None:
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if not entry.is_dir() or entry.name in _SKIP or entry.name.startswith("checkpoint-"):
                continue
            if RUN_NAME.match(entry.name):
                found.append(entry.path)
            elif level < depth:
                walk(entry.path, level + 1)

    walk(root, 1)
    return found


def read_log(run_dir: str) -> list[dict]:
    """The rows of logging.jsonl (a half-written last line is skipped)."""
    rows = []
    try:
        text = (Path(run_dir) / LOG_FILE).read_text(encoding="utf-8")
    except OSError:
        return rows
    for line in text.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def read_args(run_dir: str) -> dict:
    try:
        return json.loads((Path(run_dir) / ARGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def curve_points(rows: list[dict]) -> list[dict]:
    """Loss (and eval loss) points for a line plot: step, value, series."""
    points = []
    for row in rows:
        for key in ("loss", "eval_loss"):
            if isinstance(row.get(key), (int, float)):
                points.append({"step": int(row.get("step", 0)), "value": float(row[key]), "series": key})
    return points


def curve_frame(rows: list[dict]):
    """Typed columns even when empty: the plot takes its axis types from the first frame it gets."""
    import pandas as pd

    points = curve_points(rows)
    return pd.DataFrame({"step": pd.Series([p["step"] for p in points], dtype="int64"),
                         "value": pd.Series([p["value"] for p in points], dtype="float64"),
                         "series": pd.Series([p["series"] for p in points], dtype="object")})


def file_status(run_dir: str, rows: Optional[list[dict]] = None) -> str:
    """The status of a run started outside the web UI: finished when the trainer logged its summary."""
    rows = read_log(run_dir) if rows is None else rows
    return "finished" if any("train_runtime" in r for r in rows) else "incomplete"


def progress(rows: list[dict]) -> tuple[Optional[int], Optional[int], Optional[float]]:
    """(last step, max steps, last training loss)."""
    steps = [r for r in rows if "step" in r]
    losses = [r["loss"] for r in rows if isinstance(r.get("loss"), (int, float))]
    max_steps = next((r["max_steps"] for r in reversed(steps) if r.get("max_steps")), None)
    return (steps[-1]["step"] if steps else None), max_steps, (losses[-1] if losses else None)


def _stamp(run_dir: str) -> str:
    """YYYYMMDD-HHMMSS from the run directory's name, for sorting."""
    name = os.path.basename(run_dir)
    return name.split("-", 1)[1] if "-" in name else name


def list_runs(store: JobStore) -> list[dict]:
    """Every training run, newest first: jobs the UI launched (by job id) and run directories found on disk."""
    runs: list[dict] = []
    claimed: set[str] = set()
    for job in store.list(TRAIN):
        run_dir = job.get("run_dir")
        abs_dir = store.abs_path(run_dir) if run_dir else None
        if abs_dir:
            claimed.add(os.path.realpath(abs_dir))
        runs.append({"key": job["id"], "job": job, "run_dir": run_dir, "abs_dir": abs_dir, "status": job["status"],
                     "command": job["command"], "sort": job["id"][:15]})
    for path in find_run_dirs(store.abs_path(store.root)):
        if os.path.realpath(path) in claimed:
            continue
        rel = os.path.relpath(path, store.cwd)
        runs.append({"key": rel, "job": None, "run_dir": rel, "abs_dir": path, "status": None,
                     "command": "sft" if read_args(path).get("rlhf_type") is None else "rlhf", "sort": _stamp(path)})
    runs.sort(key=lambda r: r["sort"], reverse=True)
    for run in runs:
        rows = read_log(run["abs_dir"]) if run["abs_dir"] else []
        run["rows"] = rows
        if run["status"] is None:
            run["status"] = file_status(run["abs_dir"], rows)
    return runs


def run_label(run: dict) -> str:
    name = run["run_dir"] or f"(starting) {run['job']['id']}"
    return f"{name} [{run['command']}]"


def runs_table(runs: list[dict], t=lambda s: s) -> list[list[Any]]:
    """Rows for the runs table: run, command, model, status (through the translator t), step, loss."""
    table = []
    for run in runs:
        step, max_steps, loss = progress(run["rows"])
        args = read_args(run["abs_dir"]) if run["abs_dir"] else {}
        model = args.get("model") or _flag(run["job"]["argv"], "--model") if run["job"] else args.get("model")
        table.append([run["run_dir"] or run["key"], run["command"], model or "", t(run["status"]),
                      f"{step}/{max_steps}" if step is not None else "", round(loss, 4) if loss is not None else ""])
    return table


def _flag(argv: list[str], flag: str) -> Optional[str]:
    return argv[argv.index(flag) + 1] if flag in argv and argv.index(flag) + 1 < len(argv) else None


def find_checkpoints(store: JobStore, runs: Optional[list[dict]] = None) -> list[str]:
    """Loadable checkpoints on disk, newest run first: checkpoint-N/ of each run and models exported beside them."""
    runs = list_runs(store) if runs is None else runs
    found: list[str] = []
    for run in runs:
        if not run["abs_dir"] or not os.path.isdir(run["abs_dir"]):
            continue
        for ckpt in reversed(checkpoints_of(run["abs_dir"])):
            found.append(os.path.relpath(ckpt, store.cwd))
        for entry in sorted(Path(run["abs_dir"]).iterdir()):  # merged / quantised exports: checkpoint-N-merged, ...
            exported = entry.name.startswith("checkpoint-") and not re.fullmatch(r"checkpoint-\d+", entry.name)
            if exported and entry.is_dir() and any((entry / f).is_file() for f in ("config.json", "adapter_config.json")):
                found.append(os.path.relpath(entry, store.cwd))
    return found
