"""Load what inference needs from --ckpt_dir (adapter or full checkpoint) or --model alone.

A checkpoint's args.json fills every argument the user left unset, so nothing is repeated."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TypeVar, Union

from ..utils.errors import SartorError
from ..utils.logging import get_logger

if TYPE_CHECKING:
    from ..arguments import ExportArguments, InferArguments, ModelArguments
    from ..arguments.base import ArgumentsBase

    Arguments = TypeVar("Arguments", bound=ArgumentsBase)  # fill_from_checkpoint returns the class it was given

# Arguments a checkpoint's args.json may supply.
FROM_CHECKPOINT = (
    "model", "model_type", "model_revision", "tokenizer", "torch_dtype", "attn_impl", "quant_method", "quant_bits",
    "bnb_4bit_quant_type", "bnb_4bit_use_double_quant", "bnb_4bit_compute_dtype", "trust_remote_code", "use_hf",
    "template", "system", "max_length", "tools_prompt", "train_type", "model_name", "model_author",
    "custom_register_path",
)
DATASET_FROM_CHECKPOINT = ("dataset", "val_dataset", "split_dataset_ratio", "data_seed", "columns",
                           "custom_dataset_info", "max_train_samples")


def is_adapter(path: str) -> bool:
    return (Path(path) / "adapter_config.json").is_file()


def ckpt_of(args: Union[InferArguments, ExportArguments]) -> Optional[str]:
    """--ckpt_dir, or a single --adapters path (ms-swift 3/4 style), resolved to a checkpoint."""
    from ..core.checkpoints import resolve_checkpoint

    path = args.ckpt_dir
    if not path and args.adapters and len(args.adapters) == 1 and "=" not in args.adapters[0]:
        path = args.adapters[0]
    if not path:
        return None
    if not os.path.isdir(path):
        raise SartorError(f"--ckpt_dir {path}: no such directory")
    return resolve_checkpoint(path)


def fill_from_checkpoint(args: Arguments, ckpt: str, with_dataset: bool = False) -> Arguments:
    """Fill what the user left unset from the checkpoint's args.json (precedence: flags > args.json > defaults)."""
    from ..core.runs import read_args

    saved = read_args(ckpt)
    if saved is None:
        get_logger().warning(f"{ckpt} has no args.json: give --model and --template yourself")
        return args
    fields = {f.name for f in dataclasses.fields(args)}
    keys = FROM_CHECKPOINT + (DATASET_FROM_CHECKPOINT if with_dataset else ())
    updates = {}
    for key in keys:
        if key not in saved or key not in fields:
            continue
        if not args.was_given(key):
            updates[key] = saved[key]
    if saved.get("model_dir") and "model" in updates and not os.path.isdir(str(updates["model"])) and updates["model"] != "tiny":
        if os.path.isdir(saved["model_dir"]):
            updates["model"] = saved["model_dir"]  # reuse the downloaded copy
    if updates.get("custom_register_path"):  # the plug-in files training used, where they still are
        missing = [p for p in updates["custom_register_path"] if not os.path.isfile(p)]
        if missing:
            get_logger().warning(f"{ckpt} was trained with --custom_register_path {' '.join(missing)}, not found "
                                 "from here: pass --custom_register_path again if its model or template is needed")
        updates["custom_register_path"] = [p for p in updates["custom_register_path"] if p not in missing]
    return dataclasses.replace(args, **updates)


def load_model_for_inference(args: ModelArguments, ckpt: Optional[str]) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode: base + adapter for a LoRA checkpoint, the checkpoint itself when full."""
    from ..model.loader import get_model_tokenizer
    from ..core.resolve import model_kwargs_of

    kwargs = model_kwargs_of(args)
    if ckpt and not is_adapter(ckpt):
        kwargs["model"] = ckpt  # a full checkpoint is a model directory
    model, tokenizer = get_model_tokenizer(**kwargs)
    if ckpt and is_adapter(ckpt):
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, ckpt, is_trainable=False)
        tokenizer = _checkpoint_tokenizer(ckpt, tokenizer)
    model.eval()
    return model, tokenizer


def _checkpoint_tokenizer(ckpt: str, fallback: Any) -> Any:
    if (Path(ckpt) / "tokenizer_config.json").is_file():
        from ..model.loader import load_tokenizer

        return load_tokenizer(ckpt)
    return fallback
