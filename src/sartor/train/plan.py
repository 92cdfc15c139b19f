"""`--dry_run true`: the plan (resolved arguments, world layout, memory per GPU) from config files alone."""
import json
import os
import sys
from typing import Any, Optional

from ..arguments import SftArguments
from ..utils.errors import SartorError
from ..utils.logging import get_logger
from .memory_estimate import estimate_memory


def config_dir(model: str, use_hf: bool = True, revision: Optional[str] = None, token: Optional[str] = None) -> str:
    """A directory with the model's config.json (and tokenizer_config.json when there is one), without weights:
    a local directory as is, the tiny model's cache, else those small files from the hub."""
    from ..model.tiny import TINY_NAME, ensure_tiny_model

    if model == TINY_NAME:
        return ensure_tiny_model()
    expanded = os.path.expanduser(model)
    if os.path.isdir(expanded):
        return expanded
    from ..model.hub import get_hub_token, is_offline
    from ..model.registry import MODEL_MAPPING

    meta = MODEL_MAPPING.get(model)
    repo = meta.model_id(use_hf) if meta is not None and not meta.builtin else model
    token = get_hub_token(use_hf, token)
    found = None
    for name in ("config.json", "tokenizer_config.json"):
        try:
            if use_hf:
                from huggingface_hub import hf_hub_download

                path = hf_hub_download(repo, name, revision=revision, token=token, local_files_only=is_offline())
            else:
                from modelscope.hub.file_download import model_file_download

                path = model_file_download(repo, name, revision=revision or "master")
        except Exception as e:  # noqa: BLE001 - only config.json is required
            if name == "config.json":
                raise SartorError(f"--dry_run: cannot get config.json of {model!r} ({type(e).__name__}: {e})") from None
            continue
        found = found or os.path.dirname(path)
    return found


class _TokenizerFiles:
    """What template resolution needs from a tokenizer (its chat template), read from the files."""

    def __init__(self, model_dir: str):
        self.chat_template = None
        path = os.path.join(model_dir, "tokenizer_config.json")
        if os.path.isfile(os.path.join(model_dir, "chat_template.jinja")):
            self.chat_template = "chat_template.jinja"
        elif os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                self.chat_template = json.load(f).get("chat_template")


def plan(args: SftArguments) -> dict[str, Any]:
    """Resolved arguments, world layout and memory per GPU, reading config files only."""
    from ..model.loader import resolve_model_info
    from .parallel_flags import fsdp_layout, fsdp_settings
    from .processes import planned_world
    from .ds_configs import offloads, resolve_deepspeed, zero_stage
    from ..core.resolve import resolve

    model = args.model
    if not model and args.model_type:
        from ..model.registry import get_model_meta

        meta = get_model_meta(args.model_type)
        model = "tiny" if meta.builtin else meta.model_id(args.use_hf)
    if not model:
        raise SartorError("give --model (a hub id, a local directory, or 'tiny')")
    directory = config_dir(model, args.use_hf, args.model_revision, args.hub_token)
    info = resolve_model_info(model, model_type=args.model_type, torch_dtype=args.torch_dtype, use_hf=args.use_hf,
                              revision=args.model_revision, token=args.hub_token, model_dir=directory)
    args = resolve(args, info, _TokenizerFiles(directory))
    world = planned_world()
    deepspeed = resolve_deepspeed(args.deepspeed)
    fsdp = fsdp_layout(fsdp_settings(args.fsdp, args.fsdp_config)[1])
    offload_opt, offload_param = offloads(args.deepspeed)
    n_gpus = _local_gpus()
    gpus_per_rank = max(1, n_gpus // world.local_world_size) if args.device_map and args.device_map != "cpu" and n_gpus else 1
    # training_args.default_grad_accum's rule (16 samples per step), for the world that will be launched
    accum = args.gradient_accumulation_steps or max(1, -(-16 // (args.per_device_train_batch_size * world.world_size)))
    train_type = "full" if args.train_type == "full" else "lora"
    memory = estimate_memory(
        info.config, train_type=train_type, dtype=args.torch_dtype, world_size=world.world_size,
        zero_stage=zero_stage(args.deepspeed), offload_optimizer=offload_opt, offload_param=offload_param, fsdp=fsdp,
        gradient_checkpointing=args.gradient_checkpointing, batch_size=args.per_device_train_batch_size,
        max_length=args.max_length, lora_rank=args.lora_rank,
        target_modules=list(args.target_modules or info.lora_target_modules or ["all-linear"]),
        lora_dtype=args.lora_dtype, lora_dropout=args.lora_dropout, quant_bits=args.quant_bits if args.quant_method else None,
        gpus_per_rank=gpus_per_rank, activation_offloading=args.activation_offloading)
    layout = {"nnodes": world.nnodes, "nproc_per_node": world.local_world_size, "world_size": world.world_size,
              "gpus_per_rank": gpus_per_rank, "backend": args.ddp_backend or ("nccl" if n_gpus else "gloo"),
              "parallelism": f"deepspeed {_ds_name(args.deepspeed)}" if deepspeed else (f"fsdp2 ({fsdp})" if fsdp else
                             ("model parallel + ddp" if gpus_per_rank > 1 else ("ddp" if world.distributed else "single process"))),
              "per_device_train_batch_size": args.per_device_train_batch_size, "gradient_accumulation_steps": accum,
              "global_batch_size": args.per_device_train_batch_size * accum * world.world_size,
              "max_length": args.max_length, "torch_dtype": args.torch_dtype}
    from ..arguments.secrets import redacted_args

    arguments = redacted_args(args, args.to_dict())
    return {"arguments": arguments, "world": layout, "memory": memory}


def _ds_name(value: str) -> str:
    from .ds_configs import BUILTIN

    key = value.strip().lower().replace("-", "_").removeprefix("default_")
    return key if key in BUILTIN else value


def _local_gpus() -> int:
    from ..core.world import visible_device_count

    return visible_device_count(os.environ)


def print_plan(args: SftArguments) -> dict[str, Any]:
    """--dry_run: print the plan as JSON on stdout (rank 0 only) and a summary on stderr; load nothing."""
    from .processes import get_world

    result = plan(args)
    if not get_world().is_main:
        return result
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    w, m = result["world"], result["memory"]
    gib = m["per_gpu_gib"]
    get_logger().info(
        f"plan: {w['world_size']} process(es) ({w['nnodes']} node(s) x {w['nproc_per_node']}), {w['parallelism']}; "
        f"global batch {w['global_batch_size']} = {w['per_device_train_batch_size']} x {w['gradient_accumulation_steps']}"
        f" accumulation x {w['world_size']}; {m['trainable_parameters']:,} of {m['parameters']:,} parameters trained")
    get_logger().info("estimated GPU memory per GPU: " + ", ".join(f"{k} {v} GiB" for k, v in gib.items())
                      + (f"; CPU offload {m['cpu_offload_gib']} GiB" if m["cpu_offload_gib"] else ""))
    sys.stdout.flush()
    return result
