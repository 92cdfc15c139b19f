"""Run directories: output/<model>/v<N>-<YYYYMMDD-HHMMSS>/ with args.json, logging.jsonl, images/, checkpoint-N/."""
from __future__ import annotations

import dataclasses
import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from ..version import __version__

if TYPE_CHECKING:
    from ..arguments.base import ArgumentsBase

ARGS_FILE = "args.json"
LOG_FILE = "logging.jsonl"


def default_output_dir(model: str) -> str:
    """output/<last path component of the model id or directory>."""
    name = os.path.basename(os.path.normpath(model)) or "model"
    return os.path.join("output", name)


def next_run_dir(output_dir: str, add_version: bool = True, now: Optional[datetime] = None) -> str:
    """A new v<N>-<timestamp> directory inside output_dir (or output_dir itself)."""
    root = Path(output_dir)
    if not add_version:
        root.mkdir(parents=True, exist_ok=True)
        return str(root)
    root.mkdir(parents=True, exist_ok=True)
    versions = [int(m.group(1)) for p in root.iterdir() if (m := re.match(r"v(\d+)-", p.name))]
    n = max(versions) + 1 if versions else 0
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    run = root / f"v{n}-{stamp}"
    run.mkdir(parents=True, exist_ok=False)
    return str(run)


def args_to_json(args: Union[ArgumentsBase, Mapping[str, Any]], **extra: Any) -> dict:
    """Every resolved argument plus the sartor version, as JSON-safe values; a secret (hub token) reads only that it
    was given."""
    from ..arguments.secrets import redacted_args

    data = ({f.name: getattr(args, f.name) for f in dataclasses.fields(args) if not f.metadata.get("internal")}
            if dataclasses.is_dataclass(args) else dict(args))
    data.update(extra)
    data["sartor_version"] = __version__
    return json.loads(json.dumps(redacted_args(args, data), default=str))


def write_args(run_dir: str, args: Union[ArgumentsBase, Mapping[str, Any]], **extra: Any) -> str:
    path = Path(run_dir) / ARGS_FILE
    path.write_text(json.dumps(args_to_json(args, **extra), ensure_ascii=False, indent=2), encoding="utf-8")
    return str(path)


def read_args(ckpt_or_run_dir: str) -> Optional[dict]:
    """args.json of a checkpoint, or of the run directory holding it."""
    for d in (Path(ckpt_or_run_dir), Path(ckpt_or_run_dir).parent):
        path = d / ARGS_FILE
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    return None
