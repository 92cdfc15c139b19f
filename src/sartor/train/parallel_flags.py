"""FSDP and DeepSpeed settings as TrainingArguments keywords, and the parallel flags checked against the world."""
from pathlib import Path
from typing import Optional

from ..arguments import SftArguments
from ..utils.errors import SartorError
from .processes import World, default_backend, get_world


def fsdp_settings(fsdp: Optional[str], fsdp_config: Optional[str]) -> tuple[bool, Optional[dict]]:
    """--fsdp and --fsdp_config as TrainingArguments' fsdp=True and an FSDP2 fsdp_config.

    --fsdp takes the usual option words ('full_shard auto_wrap', 'shard_grad_op', 'offload'; 'true' is full_shard),
    translated here into fsdp_config (reshard_after_forward, cpu_offload) as transformers wants them now."""
    if not fsdp or str(fsdp).lower() in ("false", "0", "no", "none"):
        return False, None
    import json

    config: dict = {}
    if fsdp_config:
        text = fsdp_config.strip()
        try:
            config = json.loads(text) if text.startswith("{") else json.loads(Path(text).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SartorError(f"--fsdp_config {fsdp_config}: no such file") from None
        except json.JSONDecodeError as e:
            raise SartorError(f"--fsdp_config {fsdp_config}: not valid JSON ({e})") from None
    config = {(k[5:] if k.startswith("fsdp_") else k): v for k, v in config.items()}
    config.setdefault("version", 2)
    for word in str(fsdp).replace(",", " ").split():
        word = word.lower()
        if word in ("true", "1", "yes", "fsdp", "fsdp2", "full_shard"):
            config.setdefault("reshard_after_forward", True)
        elif word == "shard_grad_op":
            config.setdefault("reshard_after_forward", False)
        elif word == "offload":
            config.setdefault("cpu_offload", True)
        elif word != "auto_wrap":
            raise SartorError(f"--fsdp {fsdp!r}: unknown option {word!r}; use e.g. 'full_shard auto_wrap' "
                              "(words: full_shard, shard_grad_op, offload, auto_wrap)")
    config.setdefault("reshard_after_forward", True)
    return True, config


def fsdp_layout(config: Optional[dict]) -> Optional[str]:
    """'full_shard' / 'shard_grad_op' (+ ' offload') of an fsdp_config, for the memory estimate."""
    if not config:
        return None
    return ("full_shard" if config.get("reshard_after_forward", True) else "shard_grad_op") + (
        " offload" if config.get("cpu_offload") else "")


def parallel_kwargs(args: SftArguments, activation_checkpointing: bool) -> dict:
    """The TrainingArguments fields of the parallel layout: backend, timeout, DeepSpeed config, FSDP.

    Under FSDP, gradient checkpointing is FSDP's own (fsdp_config activation_checkpointing), which avoids the
    extra all-gather of the Trainer's checkpointing."""
    import torch

    from .ds_configs import resolve_deepspeed

    world = get_world()
    fsdp, fsdp_config = fsdp_settings(args.fsdp, args.fsdp_config)
    if fsdp and args.deepspeed:
        raise SartorError("give --deepspeed or --fsdp, not both")
    kwargs: dict = dict(ddp_backend=args.ddp_backend or (default_backend() if world.distributed else None),
                        ddp_timeout=args.ddp_timeout, ddp_find_unused_parameters=args.ddp_find_unused_parameters,
                        deepspeed=resolve_deepspeed(args.deepspeed))
    if kwargs["deepspeed"]:
        import importlib.util

        if importlib.util.find_spec("deepspeed") is None:
            raise SartorError(f"--deepspeed {args.deepspeed} needs the deepspeed package: "
                              "pip install 'sartor[deepspeed]' (on a machine with CUDA)")
    if fsdp:  # FSDP checkpoints activations itself; the Trainer's checkpointing would add an all-gather
        if activation_checkpointing:
            fsdp_config.setdefault("activation_checkpointing", True)
        kwargs.update(fsdp=True, fsdp_config=fsdp_config, activation_checkpointing=False, gradient_checkpointing=False)
    if world.distributed and not torch.cuda.is_available():
        kwargs["use_cpu"] = True  # accelerate's multi-CPU (gloo) mode; otherwise it does not see the process group
    return kwargs


def check_world_args(args: SftArguments, world: World) -> None:
    """Option combinations several processes cannot take."""
    fsdp, _ = fsdp_settings(args.fsdp, args.fsdp_config)
    if args.deepspeed and fsdp:
        raise SartorError("give --deepspeed or --fsdp, not both")
    if fsdp and args.lorap_lr_ratio:
        raise SartorError("--lorap_lr_ratio builds its own optimizer, which the Trainer does not take under --fsdp")
    if not world.distributed:
        return
    if args.device_map not in (None, "cpu") and (args.deepspeed or fsdp):
        raise SartorError("--device_map (model parallel) combines with plain DDP only, not --deepspeed / --fsdp")
