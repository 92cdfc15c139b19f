"""Push checkpoints to the Hugging Face Hub or ModelScope while training (`--push_to_hub true`).

`--push_hub_strategy`:
- `end` (default): at the end, the model the run returns as best (the best checkpoint with
  --load_best_model_at_end, else the last) goes to the repository root;
- `push_best` / `push_last`: at the end, the best (else last) / the last checkpoint goes to the root;
- `checkpoint`: also, at every save, the newest checkpoint goes to `last-checkpoint/` (with its
  optimizer state, to resume);
- `all_checkpoints`: also, at every save, each checkpoint goes to `checkpoint-N/`.
The root upload leaves out optimizer and RNG state. `hub_callbacks(args)` checks the repository id and
the token before training starts, and is empty without --push_to_hub."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from ..utils.logging import get_logger

if TYPE_CHECKING:
    from ..arguments import SftArguments

STRATEGIES = ("end", "push_best", "push_last", "checkpoint", "all_checkpoints")


class PushToHubCallback(TrainerCallback):
    """Uploads checkpoints as --push_hub_strategy says (on the main process only)."""

    def __init__(self, target: Any, strategy: str = "end", load_best_model_at_end: bool = False) -> None:
        from ..utils.errors import SartorError

        if strategy not in STRATEGIES:
            raise SartorError(f"--push_hub_strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        self.target = target
        self.strategy = strategy
        self.load_best = load_best_model_at_end
        self.pushed: list[dict] = []

    def _push(self, folder: str, path_in_repo: str, message: str, ignore: Optional[list[str]] = None) -> None:
        from ..core.hub import push_folder

        self.pushed.append(push_folder(self.target, folder, path_in_repo=path_in_repo, commit_message=message,
                                       ignore_patterns=ignore))

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if self.strategy not in ("checkpoint", "all_checkpoints") or not state.is_world_process_zero:
            return
        folder = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        if not os.path.isdir(folder):
            return
        path = "last-checkpoint" if self.strategy == "checkpoint" else f"checkpoint-{state.global_step}"
        self._push(folder, path, f"{self.target.commit_message} (step {state.global_step})", ignore=[])

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if not state.is_world_process_zero:
            return
        last = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        best = state.best_model_checkpoint
        if self.strategy == "push_last":
            folder = last
        elif self.strategy == "push_best" or self.load_best:
            folder = best or last
        else:
            folder = last
        if not os.path.isdir(folder):
            get_logger().warning(f"--push_to_hub: {folder} does not exist (--save_strategy no?); nothing pushed")
            return
        self._push(folder, "", self.target.commit_message)


def hub_callbacks(args: SftArguments) -> list:
    """[PushToHubCallback] for --push_to_hub true (repository id and token checked now), else []."""
    from ..core.hub import check_push

    target = check_push(args)
    if target is None:
        return []
    return [PushToHubCallback(target, args.push_hub_strategy, args.load_best_model_at_end)]
