"""Trainer checkpoints: which are complete, the latest and the best of a run, and what --ckpt_dir and
--resume_from_checkpoint resolve to. A checkpoint is written as tmp-checkpoint-N/ and renamed once complete."""
import json
import os
import re
from pathlib import Path
from typing import Any, Optional

STAGING_PREFIX = "tmp-"  # a checkpoint is written as tmp-checkpoint-N/ and renamed to checkpoint-N/ once complete
STATE_FILE = "trainer_state.json"
_CKPT_NAME = re.compile(r"checkpoint-(\d+)")
_WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "model.safetensors.index.json",
                 "pytorch_model.bin", "pytorch_model.bin.index.json")


def _has_weights(ckpt: Path) -> bool:
    """A weights file, or the sharded states of DeepSpeed (global_stepN/) and FSDP (pytorch_model_fsdp_0/)."""
    return any((ckpt / f).is_file() for f in _WEIGHT_FILES) or any(
        p.is_dir() for pattern in ("global_step*", "pytorch_model_fsdp*") for p in ckpt.glob(pattern))


def why_incomplete(ckpt: str) -> Optional[str]:
    """Why a trainer checkpoint cannot be used (an interrupted save, a missing state or weights), else None."""
    p = Path(ckpt)
    if p.name.startswith(STAGING_PREFIX):
        return "the temporary directory of a save"
    if not (p / STATE_FILE).is_file():
        return f"no {STATE_FILE}"
    if not _has_weights(p):
        return "no weights"
    return None


def is_trainer_checkpoint(path: str) -> bool:
    """checkpoint-N/ or tmp-checkpoint-N*/ as the trainer names them, or any directory with a trainer state."""
    name = Path(path).name
    return bool(_CKPT_NAME.fullmatch(name)) or (
        name.startswith(STAGING_PREFIX) and bool(_CKPT_NAME.match(name[len(STAGING_PREFIX):]))) or (
        Path(path, STATE_FILE).is_file())


def _step(path: Path) -> int:
    m = _CKPT_NAME.search(path.name)
    return int(m.group(1)) if m else -1


def checkpoints_of(run_dir: str) -> list[str]:
    """Complete checkpoint-N directories of a run, in step order (incomplete ones: see incomplete_checkpoints_of)."""
    found = [p for p in Path(run_dir).glob("checkpoint-*") if p.is_dir() and _CKPT_NAME.fullmatch(p.name)
             and why_incomplete(str(p)) is None]
    return [str(p) for p in sorted(found, key=_step)]


def incomplete_checkpoints_of(run_dir: str) -> list[tuple[str, str]]:
    """(path, why) of a run's checkpoints that cannot be used: leftovers of interrupted saves, partial checkpoint-N."""
    found = [p for p in Path(run_dir).glob("*checkpoint-*") if p.is_dir() and is_trainer_checkpoint(str(p))]
    return [(str(p), why) for p in sorted(found, key=_step) if (why := why_incomplete(str(p)))]


_warned: set[str] = set()


def _warn_incomplete(run_dir: str) -> None:
    """One line per run directory and process, however often its checkpoints are resolved."""
    skipped = incomplete_checkpoints_of(run_dir)
    message = f"skipping incomplete checkpoint(s) in {run_dir}: " + ", ".join(f"{Path(p).name} ({why})"
                                                                            for p, why in skipped)
    if skipped and message not in _warned:
        from ..utils.logging import get_logger

        _warned.add(message)
        get_logger().warning(message)


def _check_complete(ckpt: str) -> None:
    why = why_incomplete(ckpt)
    if why is not None:
        from ..utils.errors import SartorError

        raise SartorError(f"{ckpt} is an incomplete checkpoint ({why}), as an interrupted save leaves: "
                          "give its run directory to use the latest complete checkpoint")


def _check_weights(ckpt: str) -> None:
    """A checkpoint given to load weights from (infer, export): a save's temporary directory or one without weights
    is an error; weights without a trainer state (an adapter saved by hand, or by another tool) load, with a note."""
    why = why_incomplete(ckpt)
    if why is None:
        return
    if why == f"no {STATE_FILE}" and _has_weights(Path(ckpt)):
        from ..utils.logging import get_logger

        get_logger().warning(f"{ckpt} has weights but no {STATE_FILE}: if a save was interrupted there, its weights "
                             "may be from an unfinished step")
        return
    _check_complete(ckpt)


def _runs_of(output_dir: Path) -> list[Path]:
    """v<N>-<timestamp> run directories, newest first."""
    runs = [r for r in output_dir.glob("v*-*") if r.is_dir() and re.match(r"v\d+-", r.name)]
    return sorted(runs, key=lambda r: int(r.name[1:].split("-")[0]), reverse=True)


def _run_with_checkpoints(path: str) -> Optional[Path]:
    """path itself when it holds checkpoints (a run directory), else its newest run that has a complete one;
    incomplete checkpoints on the way are skipped with a warning."""
    p = Path(path)
    looked = [p] + ([] if checkpoints_of(str(p)) else _runs_of(p))
    for run in looked:
        _warn_incomplete(str(run))
        if checkpoints_of(str(run)):
            return run
    return None


def latest_checkpoint(path: str) -> Optional[str]:
    """The checkpoint to resume from: a checkpoint as is (an incomplete one is an error), a run directory's last
    complete checkpoint, or that of an output directory's newest run that has one; None when there is none."""
    if is_trainer_checkpoint(path):
        _check_complete(path)
        return str(Path(path))
    run = _run_with_checkpoints(path)
    return checkpoints_of(str(run))[-1] if run is not None else None


def resolve_checkpoint(path: str) -> str:
    """A checkpoint directory as is (an incomplete one is an error); a run directory -> its best (else last)
    complete checkpoint; an output directory of versioned runs -> the newest run's (one with incomplete
    checkpoints only is an error); any other path as is."""
    p = Path(path)
    if is_trainer_checkpoint(path):
        _check_weights(path)
        return str(p)
    if (p / "adapter_config.json").is_file() or (p / "config.json").is_file():
        return str(p)
    run = _run_with_checkpoints(path)
    if run is None:
        if any(incomplete_checkpoints_of(str(r)) for r in [p, *_runs_of(p)]):
            from ..utils.errors import SartorError

            raise SartorError(f"{path} holds no complete checkpoint, only what interrupted saves left")
        return str(p)
    ckpts = checkpoints_of(str(run))
    best = json.loads((Path(ckpts[-1]) / STATE_FILE).read_text()).get("best_model_checkpoint")
    if best and Path(best).is_dir() and why_incomplete(best) is None:
        return best
    return ckpts[-1]


def resume_checkpoint(value: Any, output_dir: str) -> Optional[str]:
    """--resume_from_checkpoint: unset or false -> None; true -> the latest complete checkpoint of output_dir;
    a checkpoint, run or output directory -> its latest complete checkpoint. No complete checkpoint is an error."""
    from ..utils.errors import SartorError

    text = str(value).strip() if value is not None else ""
    if value is False or text.lower() in ("", "false", "none"):
        return None
    where = output_dir if value is True or text.lower() == "true" else text
    if not os.path.isdir(where):
        raise SartorError(f"--resume_from_checkpoint {text}: no such directory {where}"
                          + (" (the output directory: nothing to resume)" if where != text else ""))
    ckpt = latest_checkpoint(where)
    if ckpt is None:
        raise SartorError(f"--resume_from_checkpoint {text}: no complete checkpoint in {where}")
    return ckpt
