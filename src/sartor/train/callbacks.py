"""Trainer callbacks: machine-readable logs, progress, curves (args.json goes into each checkpoint with the
checkpoint itself: see checkpoint.py)."""
import json
import sys
import time
from pathlib import Path

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from .plot import plot_run
from ..core.runs import LOG_FILE


class JsonlLogCallback(TrainerCallback):
    """One JSON object per log step in <run>/logging.jsonl, with elapsed and remaining time."""

    def __init__(self, run_dir: str):
        self.path = Path(run_dir) / LOG_FILE
        self.start = None
        self.start_step = 0

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw):
        self.start = time.time()
        self.start_step = state.global_step
        if state.global_step > 0 and state.is_world_process_zero:  # resumed from a checkpoint
            self._rows_up_to_checkpoint(state)

    def _rows_up_to_checkpoint(self, state) -> None:
        """A resumed run's log starts with every row up to the checkpoint's step, once, so the file and the loss
        curve read as one uninterrupted run: in a new run directory, the rows of the checkpoint's history; resumed
        in place (--add_version false), the file's own rows less those an interrupted run wrote after that step."""
        step = state.global_step
        if self.path.is_file():
            rows = [json.loads(x) for x in self.path.read_text(encoding="utf-8").splitlines() if x.strip()]
            rows = [r for r in rows if r.get("step", 0) <= step]
        else:
            rows = [{"step": h.get("step", step), "epoch": round(h.get("epoch") or 0.0, 4),
                     **{k: v for k, v in h.items() if k not in ("step", "epoch")}, "max_steps": state.max_steps}
                    for h in state.log_history if h.get("step", 0) <= step]
        self.path.write_text("".join(json.dumps(r, default=float) + "\n" for r in rows), encoding="utf-8")

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs=None, **kw):
        if not state.is_world_process_zero or not logs:
            return
        elapsed = time.time() - (self.start or time.time())
        done = max(state.global_step - self.start_step, 0)
        left = max(state.max_steps - state.global_step, 0)
        row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4), **logs,
               "elapsed_s": round(elapsed, 2), "remaining_s": round(elapsed / done * left, 2) if done else None,
               "max_steps": state.max_steps}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row, default=float) + "\n")

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw):
        if state.is_world_process_zero:
            plot_run(str(self.path.parent))


class ProgressBarCallback(TrainerCallback):
    """A progress bar on stderr with loss, tokens/s and ETA; log rows go below it as JSON."""

    def __init__(self):
        self.bar = None

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw):
        from ..utils.quiet import progress_bars_wanted

        if state.is_world_process_zero and progress_bars_wanted():  # piped stderr: the JSON lines alone
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="train", dynamic_ncols=True)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs=None, **kw):
        if not state.is_world_process_zero or not logs:
            return
        line = json.dumps({"step": state.global_step, **{k: (round(v, 6) if isinstance(v, float) else v)
                                                         for k, v in logs.items()}})
        if self.bar is None:
            print(line, file=sys.stderr, flush=True)
            return
        post = {k: logs[k] for k in ("loss", "tokens/s", "eval_loss") if k in logs}
        if post:
            self.bar.set_postfix({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in post.items()})
        self.bar.write(line, file=sys.stderr)

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class SaveLastCallback(TrainerCallback):
    """Always save the final step, so the last checkpoint exists whatever --save_steps is."""

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw):
        if state.global_step >= state.max_steps and args.save_strategy != "no":
            control.should_save = True
