"""Build transformers TrainingArguments from Sartor's training arguments."""
from __future__ import annotations

import importlib.util
import math
import os
from typing import TYPE_CHECKING, Any

import torch
from transformers import TrainingArguments

from ..arguments.passthrough import PRECISION_FLAGS, coerce_training_args
from ..arguments.secrets import SECRET_KEYS
from ..compat import relied_on
from ..compat.transformers import init_fields, rename_training_args
from ..utils.errors import SartorError
from ..utils.logging import get_logger
from .parallel_flags import parallel_kwargs

if TYPE_CHECKING:
    from ..arguments import SftArguments


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def default_grad_accum(batch_size: int) -> int:
    """ms-swift's default: 16 samples per optimizer step across all ranks."""
    return max(1, math.ceil(16 / (batch_size * world_size())))


def _report_to(values: list[str]) -> list[str]:
    out = []
    for v in values:
        if v == "none":
            return ["none"]
        if v == "tensorboard" and importlib.util.find_spec("tensorboard") is None and importlib.util.find_spec("tensorboardX") is None:
            get_logger().info("tensorboard is not installed: metrics go to logging.jsonl only")
            continue
        out.append(v)
    return out or ["none"]


def build_training_args(args: SftArguments, run_dir: str, has_eval: bool, torch_dtype: str) -> TrainingArguments:
    cuda = torch.cuda.is_available()
    lr = args.learning_rate if args.learning_rate is not None else (1e-5 if args.train_type == "full" else 1e-4)
    eval_strategy = args.eval_strategy or (args.save_strategy if has_eval else "no")
    if eval_strategy != "no" and not has_eval:
        raise SartorError(f"--eval_strategy {eval_strategy} needs validation data (--val_dataset or --split_dataset_ratio > 0)")
    metric = args.metric_for_best_model
    greater = args.greater_is_better if args.greater_is_better is not None else not metric.endswith("loss")
    if args.use_liger_kernel:  # before transformers, which would fail deep inside with a bare ImportError
        from ..utils.lazy import require

        require("liger_kernel", "liger", "liger-kernel")
    kwargs: dict[str, Any] = dict(
        output_dir=run_dir, num_train_epochs=args.num_train_epochs, max_steps=args.max_steps,
        per_device_train_batch_size=args.per_device_train_batch_size,
        per_device_eval_batch_size=args.per_device_eval_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps or default_grad_accum(args.per_device_train_batch_size),
        learning_rate=lr, lr_scheduler_type=args.lr_scheduler_type, warmup_steps=args.warmup_steps or args.warmup_ratio,  # < 1 is a ratio in transformers 5
        weight_decay=args.weight_decay, adam_beta1=args.adam_beta1, adam_beta2=args.adam_beta2, max_grad_norm=args.max_grad_norm,
        optim=args.optim or ("adamw_torch_fused" if cuda else "adamw_torch"), seed=args.seed, data_seed=args.data_seed,
        dataloader_pin_memory=cuda,
        logging_steps=args.logging_steps, logging_first_step=args.logging_first_step,
        save_strategy=args.save_strategy, save_steps=args.save_steps, save_total_limit=args.save_total_limit,
        save_only_model=args.save_only_model, eval_strategy=eval_strategy, eval_steps=args.eval_steps or args.save_steps,
        metric_for_best_model=metric if has_eval else None, greater_is_better=greater if has_eval else None,
        load_best_model_at_end=args.load_best_model_at_end and has_eval, neftune_noise_alpha=args.neftune_noise_alpha,
        report_to=_report_to(args.report_to), dataloader_num_workers=args.dataloader_num_workers,
        use_liger_kernel=args.use_liger_kernel, torch_compile=args.torch_compile, remove_unused_columns=False,
        bf16=torch_dtype == "bfloat16", fp16=torch_dtype == "float16", disable_tqdm=True,  # autocast on CPU too
        length_column_name="length", label_names=["labels"],
    )
    if not cuda and torch_dtype in ("bfloat16", "float16"):
        kwargs["use_cpu"] = True  # transformers asks for it before it allows 16-bit mixed precision without a GPU
    # under the names the installed TrainingArguments takes (compat.transformers.rename_training_args, below)
    kwargs.update(activation_checkpointing=args.gradient_checkpointing, activation_checkpointing_kwargs={"use_reentrant": False})
    kwargs.update(parallel_kwargs(args, activation_checkpointing=args.gradient_checkpointing))  # ddp, deepspeed, fsdp
    if args.group_by_length:
        kwargs["train_sampling_strategy"] = "group_by_length"
    elif not args.train_dataloader_shuffle:
        kwargs["train_sampling_strategy"] = "sequential"
    passed = coerce_training_args(args.training_args or {})  # the Python API's dict is typed like flags
    for key in SECRET_KEYS & set(passed):  # the Trainer pickles its arguments into every checkpoint
        passed.pop(key)
        get_logger().warning(f"training_args {key} is not passed on (it would be saved in every checkpoint): "
                             "Sartor downloads and pushes with --hub_token")
    for key in PRECISION_FLAGS:
        if key in passed and passed.pop(key) != kwargs[key]:
            raise SartorError(f"training_args {key} disagrees with --torch_dtype {torch_dtype}: use --torch_dtype")
    kwargs.update(rename_training_args(passed))
    kwargs = rename_training_args(kwargs)
    unknown = sorted(set(kwargs) - init_fields())
    if unknown:  # never dropped silently: a setting that does not reach the Trainer is a bug to hear about
        raise SartorError(f"{relied_on('transformers', 'TrainingArguments')} takes no {', '.join(unknown)}")
    try:
        return TrainingArguments(**kwargs)
    except (ValueError, TypeError) as e:
        raise SartorError(f"invalid training arguments: {e}") from None
