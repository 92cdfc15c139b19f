"""Make the right parameters trainable: LoRA (DoRA, rsLoRA, QLoRA) through PEFT, or full with freezing."""
import re
from typing import Any, Literal, Optional, Protocol

import torch

from ..utils.errors import SartorError
from ..utils.logging import get_logger


class LoraSettings(Protocol):
    """The flags a LoRA config is made from: fields of arguments.TunerArguments (tuners and arguments are independent
    building blocks, so the fields are named here)."""

    @property
    def target_modules(self) -> list[str]: ...
    @property
    def target_regex(self) -> Optional[str]: ...
    @property
    def modules_to_save(self) -> list[str]: ...
    @property
    def lora_rank(self) -> int: ...
    @property
    def lora_alpha(self) -> int: ...
    @property
    def lora_dropout(self) -> float: ...
    @property
    def lora_bias(self) -> Literal["none", "all", "lora_only"]: ...
    @property
    def use_dora(self) -> bool: ...
    @property
    def use_rslora(self) -> bool: ...
    @property
    def init_weights(self) -> str: ...


class TunerSettings(LoraSettings, Protocol):
    """What `prepare_model` reads: the tuner flags (arguments.TunerArguments) and --gradient_checkpointing
    (arguments.TrainArguments); SftArguments, PtArguments and RLHFArguments have them all."""

    @property
    def train_type(self) -> str: ...
    @property
    def adapters(self) -> list[str]: ...
    @property
    def lora_dtype(self) -> Optional[str]: ...
    @property
    def freeze_parameters(self) -> list[str]: ...
    @property
    def freeze_parameters_ratio(self) -> float: ...
    @property
    def trainable_parameters(self) -> list[str]: ...
    @property
    def gradient_checkpointing(self) -> bool: ...


def _init_weights(value: str) -> Any:
    low = str(value).lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    return value


def lora_config(args: LoraSettings, default_targets: list[str] | None = None, task_type: str = "CAUSAL_LM"):
    """A peft LoraConfig from the tuner arguments (task_type SEQ_CLS for a reward model: peft saves its head)."""
    from peft import LoraConfig, TaskType

    targets: Any = list(args.target_modules or ["all-linear"])
    if args.target_regex:
        targets = args.target_regex
    elif targets == ["all-linear"] or "all-linear" in targets:
        targets = "all-linear"
    return LoraConfig(
        task_type=TaskType(task_type), r=args.lora_rank, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
        target_modules=targets, modules_to_save=list(args.modules_to_save) or None, bias=args.lora_bias,
        use_dora=args.use_dora, use_rslora=args.use_rslora, init_lora_weights=_init_weights(args.init_weights),
    )


def _apply_lora(model, args: TunerSettings, task_type: str = "CAUSAL_LM"):
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
            model = get_peft_model(model, lora_config(args, task_type=task_type))
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


def _has_prefix(name: str, prefix: str) -> bool:
    """`name` starts with `prefix`, which never ends inside a number: model.layers.1 is not model.layers.10."""
    if not name.startswith(prefix):
        return False
    rest = name[len(prefix):]
    return not (rest and prefix and prefix[-1].isdigit() and rest[0].isdigit())


def _matches(name: str, prefix: str) -> bool:
    try:
        return _has_prefix(name, prefix) or re.fullmatch(prefix, name) is not None
    except re.error:
        return False


def _apply_full(model, args: TunerSettings):
    names = [n for n, _ in model.named_parameters()]
    frozen: set[str] = set()
    if args.freeze_parameters_ratio > 0:
        frozen.update(names[: int(len(names) * args.freeze_parameters_ratio)])
    for prefix in args.freeze_parameters:
        matched = [n for n in names if _matches(n, prefix)]
        if not matched:
            get_logger().warning(f"--freeze_parameters {prefix}: no parameter name starts with it (e.g. {names[0]})")
        frozen.update(matched)
    for name, p in model.named_parameters():
        p.requires_grad = name not in frozen
    return model


def upcast_trainable(model, train_type: str) -> None:
    """Trainable 16-bit parameters get float32 master weights, as PEFT gives LoRA weights; autocast runs their
    matmuls in 16 bits. float16 weights always: AdamW's update underflows in float16 and the loss scaler refuses
    float16 gradients, so such a run ends in NaN weights. bfloat16 ones beside an adapter too (--modules_to_save,
    --trainable_parameters); a full bfloat16 run stays pure bfloat16, as in the plain Trainer (half the memory)."""
    dtypes = (torch.float16,) if train_type == "full" else (torch.float16, torch.bfloat16)
    moved = 0
    for p in model.parameters():
        if p.requires_grad and p.dtype in dtypes:
            p.data = p.data.float()
            moved += p.numel()
    if moved:
        get_logger().info(f"{moved:,} trainable 16-bit parameters kept in float32 (master weights; autocast runs them "
                          "in 16 bits)")


def prepare_model(model, args: TunerSettings, task_type: str = "CAUSAL_LM"):
    """Apply the tuner; `--trainable_parameters` prefixes stay trainable in every mode."""
    if args.train_type == "lora":
        model = _apply_lora(model, args, task_type)
    elif args.train_type == "full":
        model = _apply_full(model, args)
    else:  # pragma: no cover - Literal guards this
        raise SartorError(f"unknown --train_type {args.train_type}")
    for name, p in model.named_parameters():
        short = name.removeprefix("base_model.model.")
        if any(_has_prefix(name, t) or _has_prefix(short, t) for t in args.trainable_parameters):
            p.requires_grad = True
    upcast_trainable(model, args.train_type)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    if trainable == 0:
        raise SartorError("no parameter is trainable: check --freeze_parameters / --target_modules")
    get_logger().info(f"trainable parameters: {trainable:,} of {total:,} ({100 * trainable / total:.4f}%)")
    return model
