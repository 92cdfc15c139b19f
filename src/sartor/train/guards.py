"""Training stops at the first non-finite loss or gradient, and never saves non-finite weights.

A NaN loss used to be averaged away in the logs (transformers' `logging_nan_inf_filter`) and the run ended
with exit 0 and a model of NaNs. Now the step, the value and the likely cause are named and the run fails.
Under float16 mixed precision the loss scaler skips steps whose gradients overflow: that is expected, so
those steps are logged and counted instead."""
import math
from typing import Any

import torch
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from ..compat.accelerate import loss_scaler
from ..utils.errors import SartorError
from ..utils.logging import get_logger


def _precision_hint(args: TrainingArguments) -> str:
    if args.fp16:
        return ("float16 overflow is the usual cause: try --torch_dtype bfloat16 (or float32), a lower "
                "--learning_rate, or --max_grad_norm 1")
    return "try a lower --learning_rate, --max_grad_norm 1, or check the data for empty or extreme rows"


class NonFiniteError(SartorError):
    """Training produced a NaN or infinite loss, gradient norm or weight."""


def check_loss(loss: torch.Tensor, step: int, args: TrainingArguments) -> None:
    """Raise when a micro-batch's loss is NaN or infinite."""
    if not bool(torch.isfinite(loss.detach()).all()):
        raise NonFiniteError(f"step {step}: the training loss is {float(loss.detach().float().mean())} "
                             f"(not finite); stopped before any weight is saved. {_precision_hint(args).capitalize()}")


def nonfinite_parameters(model: torch.nn.Module) -> list[str]:
    """Names of trainable parameters holding a NaN or infinity."""
    return [n for n, p in model.named_parameters() if p.requires_grad and not bool(torch.isfinite(p).all())]


class FiniteGuardCallback(TrainerCallback):
    """Logs steps the float16 loss scaler skipped; fails on a non-finite gradient norm or on weights about to be saved."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        self.skipped = 0

    def on_optimizer_step(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw):
        acc = self.trainer.accelerator
        scaler = loss_scaler(acc)
        if scaler is not None and acc.optimizer_step_was_skipped:
            self.skipped += 1
            scale = scaler.get_scale()
            get_logger().warning(f"step {state.global_step + 1}: the float16 loss scaler skipped this step (gradients "
                                 f"overflowed; scale now {scale:g}; {self.skipped} skipped so far)")

    def check_log(self, logs: dict, step: int, args: TrainingArguments) -> None:
        """Add the count of skipped steps to a log row; fail on a non-finite gradient norm the scaler did not skip."""
        if self.skipped:
            logs["skipped_steps"] = self.skipped
        norm = logs.get("grad_norm")
        scaled = loss_scaler(self.trainer.accelerator) is not None
        if isinstance(norm, float) and not math.isfinite(norm) and not scaled:
            raise NonFiniteError(f"step {step}: the gradient norm is {norm}; stopped before any weight is saved. "
                                 f"{_precision_hint(args).capitalize()}")

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, model=None, **kw):
        if control.should_save and model is not None:
            bad = nonfinite_parameters(model)
            if bad:
                raise NonFiniteError(f"step {state.global_step}: {len(bad)} trainable weights are not finite "
                                     f"(e.g. {bad[0]}); no checkpoint saved. {_precision_hint(args).capitalize()}")
