"""Checkpoints that appear whole: each is written as tmp-checkpoint-N/ and renamed to checkpoint-N/ once every file
(weights, tokenizer, optimizer, scheduler, RNG states of every rank, trainer_state.json, args.json) is on disk.

A process killed during a save leaves at most a tmp-checkpoint-N/ leftover, which every reader of checkpoints
skips (core.checkpoints.checkpoints_of) and the next save in that run directory removes. Deleting a checkpoint (rotation by
--save_total_limit, or one of the same step being replaced) renames it to tmp-checkpoint-N.old/ first, so a
checkpoint-N/ is never half deleted either. transformers' Trainer writes straight into checkpoint-N/;
AtomicCheckpoints replaces its private `_save_checkpoint` with the same steps in this order (the steps, and the
signatures of the private methods called, are declared and checked in compat.transformers)."""
import os
import shutil
from pathlib import Path
from typing import Optional

from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, SaveStrategy

from ..compat.transformers import export_callback_states
from ..core.checkpoints import STAGING_PREFIX, STATE_FILE, checkpoints_of, why_incomplete
from ..core.runs import ARGS_FILE


def staging_path(final: str) -> str:
    """Where checkpoint-N/ is written before it is complete: tmp-checkpoint-N/ beside it."""
    return os.path.join(os.path.dirname(final), STAGING_PREFIX + os.path.basename(final))


def _fsync(path: str, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:  # a directory cannot be opened on some platforms
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(root: str) -> None:
    """Every file under root, then every directory, on disk (not just in the page cache)."""
    for parent, _, files in os.walk(root):
        for name in files:
            _fsync(os.path.join(parent, name))
    for parent, _, _ in os.walk(root, topdown=False):
        _fsync(parent, directory=True)


def clear_staging(run_dir: str) -> None:
    """Remove the leftovers of saves or deletions that a killed process did not finish."""
    for p in Path(run_dir).glob(f"{STAGING_PREFIX}{PREFIX_CHECKPOINT_DIR}-*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def discard(ckpt: str) -> None:
    """Delete a checkpoint: renamed out of the checkpoint-N name first, so no reader ever sees it half deleted."""
    gone = staging_path(ckpt) + ".old"
    shutil.rmtree(gone, ignore_errors=True)
    os.rename(ckpt, gone)
    shutil.rmtree(gone, ignore_errors=True)


def publish(staging: str, final: str) -> None:
    """Give a complete staging directory its checkpoint name, atomically (one rename on the same filesystem)."""
    fsync_tree(staging)
    if os.path.isdir(final):  # a checkpoint of the same step from an earlier run in this directory
        discard(final)
    try:
        os.rename(staging, final)
    except FileNotFoundError:  # another node's process renamed it (--save_on_each_node on a shared filesystem)
        if not os.path.isdir(final):
            raise
    _fsync(os.path.dirname(final) or ".", directory=True)


def rotate(run_dir: str, limit: Optional[int], newest: str, best: Optional[str]) -> None:
    """Keep at most `limit` complete checkpoints, oldest deleted first; never the newest or the best one."""
    if not limit or limit <= 0:
        return
    ckpts = checkpoints_of(run_dir)
    protected = {os.path.normpath(p) for p in (newest, best) if p}
    keep = max(limit, len(protected & {os.path.normpath(c) for c in ckpts}))
    excess = len(ckpts) - keep
    for ckpt in ckpts:
        if excess <= 0:
            break
        if os.path.normpath(ckpt) not in protected:
            discard(ckpt)
            excess -= 1


class AtomicCheckpoints:
    """Trainer mixin: `_save_checkpoint` writes into tmp-checkpoint-N/ and publishes it as checkpoint-N/.

    Every rank writes its part (model and optimizer shards under DeepSpeed/FSDP, its RNG state) into the same
    staging directory; after a barrier the saving process (rank 0, or each node's first with --save_on_each_node)
    renames it, and the others wait at a second barrier so no rank reads a checkpoint before it exists."""

    def _save_checkpoint(self, model, trial) -> None:
        run_dir = self._get_output_dir(trial=trial)
        final = os.path.join(run_dir, f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}")
        staging = staging_path(final)
        if self.hp_search_backend is None and trial is None:
            self.store_flos()
        if self.args.should_save:
            clear_staging(run_dir)
        self.accelerator.wait_for_everyone()  # nobody writes into the staging directory while it is cleared
        self.save_model(staging, _internal_call=True)
        if not self.args.save_only_model:
            self._save_optimizer_and_scheduler(staging)
            self._save_scaler(staging)
            self._save_rng_state(staging)
        self._track_best_checkpoint(run_dir, final)
        if self.args.should_save:
            export_callback_states(self)
            self.state.save_to_json(os.path.join(staging, STATE_FILE))
            args_json = os.path.join(self.args.output_dir, ARGS_FILE)  # so a checkpoint stands alone
            if os.path.isfile(args_json):
                shutil.copy(args_json, os.path.join(staging, ARGS_FILE))
        self.accelerator.wait_for_everyone()  # every rank's files are written
        if self.args.should_save:
            publish(staging, final)
        self.accelerator.wait_for_everyone()  # checkpoint-N exists for every rank
        if self.args.push_to_hub:
            self._push_from_checkpoint(final)
        if self.args.should_save:
            rotate(run_dir, self.args.save_total_limit, final, self.state.best_model_checkpoint)

    def _track_best_checkpoint(self, run_dir: str, final: str) -> None:
        """state.best_model_checkpoint names the best step's checkpoint once it is (or is about to be) complete."""
        strategies = (SaveStrategy.STEPS, SaveStrategy.EPOCH, SaveStrategy.BEST)
        if self.args.save_strategy not in strategies or not self.state.best_global_step:
            return
        best = os.path.join(run_dir, f"{PREFIX_CHECKPOINT_DIR}-{self.state.best_global_step}")
        if best == final or why_incomplete(best) is None:
            self.state.best_model_checkpoint = best
