"""Make the right parameters trainable: LoRA (DoRA, rsLoRA, QLoRA) through PEFT, or full with freezing."""
import re
from typing import Any

import torch

from ..utils.errors import SartorError
from ..utils.logging import get_logger


def _init_weights(value: str) -> Any:
    low = str(value).lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    return value


def lora_config(args: Any, default_targets: list[str] | None = None):
    """A peft LoraConfig from the tuner arguments."""
    from peft import LoraConfig, TaskType

    targets: Any = list(args.target_modules or ["all-linear"])
    if args.target_regex:
        targets = args.target_regex
    elif targets == ["all-linear"] or "all-linear" in targets:
        targets = "all-linear"
    return LoraConfig(
        task_type=TaskType.CAUSAL_LM, r=args.lora_rank, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
        target_modules=targets, modules_to_save=list(args.modules_to_save) or None, bias=args.lora_bias,
        use_dora=args.use_dora, use_rslora=args.use_rslora, init_lora_weights=_init_weights(args.init_weights),
    )


def _apply_lora(model, args: Any):
    from peft import PeftModel, get_peft_model, prepare_model_for_kbit_training

    if getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False):
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=args.gradient_checkpointing)
    if args.adapters:
        if len(args.adapters) > 1:
            raise SartorError("training continues from one adapter; give one path to --adapters")
        get_logger().info(f"continuing from the adapter {args.adapters[0]}")
        model = PeftModel.from_pretrained(model, args.adapters[0], is_trainable=True)
    else:
        try:
            model = get_peft_model(model, lora_config(args))
        except ValueError as e:
            raise SartorError(f"cannot apply LoRA: {e} (check --target_modules / --target_regex)") from None
    if args.lora_dtype:
        dtype = getattr(torch, args.lora_dtype)
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.data = p.data.to(dtype)
    if args.gradient_checkpointing:
        model.enable_input_require_grads()
    return model


def _apply_full(model, args: Any):
    names = [n for n, _ in model.named_parameters()]
    frozen: set[str] = set()
    if args.freeze_parameters_ratio > 0:
        frozen.update(names[: int(len(names) * args.freeze_parameters_ratio)])
    for prefix in args.freeze_parameters:
        frozen.update(n for n in names if n.startswith(prefix) or re.fullmatch(prefix, n))
    for name, p in model.named_parameters():
        p.requires_grad = name not in frozen
    return model


def prepare_model(model, args: Any):
    """Apply the tuner; `--trainable_parameters` prefixes stay trainable in every mode."""
    if args.train_type == "lora":
        model = _apply_lora(model, args)
    elif args.train_type == "full":
        model = _apply_full(model, args)
    else:  # pragma: no cover - Literal guards this
        raise SartorError(f"unknown --train_type {args.train_type}")
    for name, p in model.named_parameters():
        if any(name.startswith(t) or name.removeprefix("base_model.model.").startswith(t) for t in args.trainable_parameters):
            p.requires_grad = True
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    if trainable == 0:
        raise SartorError("no parameter is trainable: check --freeze_parameters / --target_modules")
    get_logger().info(f"trainable parameters: {trainable:,} of {total:,} ({100 * trainable / total:.4f}%)")
    return model
