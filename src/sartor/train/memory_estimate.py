"""How much GPU memory a training run needs per GPU, from the model's config.json alone (no weights loaded), and
the `--dry_run true` plan that prints it with the resolved arguments and the world layout.

The estimate counts what the run keeps on each GPU: weights, gradients, optimizer states (with DeepSpeed's fp32
master copy), DDP's gradient buckets, activations (per token per layer, or layer inputs only under gradient
checkpointing, plus the logits and their fp32 copies for the loss) and a fixed allowance for the CUDA context.
ZeRO / FSDP sharding divides what they shard by the world size; offload moves it to the CPU. It is a planning
figure (within ~10-20% of the peak on typical runs), not a promise."""
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Optional

from ..utils.errors import SartorError
from ..utils.logging import get_logger

GIB = 2**30
DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "fp32": 4, "bf16": 2, "fp16": 2}
CUDA_CONTEXT_GIB = 1.0  # CUDA context, cuBLAS / attention workspaces, allocator slack
_TEXT_KEYS = ("text_config", "llm_config", "language_config", "thinker_config")
_UNGATED = {"gpt2", "gpt_neox", "gptj", "phi", "falcon", "bloom", "opt", "starcoder2", "gpt_bigcode"}
_QKV_BIAS = {"qwen", "qwen2", "qwen2_moe", "qwen2_vl", "qwen2_5_vl"}


def text_config(config: dict) -> dict:
    """The language model's part of a config (multimodal configs nest it)."""
    for key in _TEXT_KEYS:
        if isinstance(config.get(key), dict) and config[key].get("hidden_size"):
            return {**config[key], "model_type": config[key].get("model_type", config.get("model_type"))}
    return config


@dataclass
class Shapes:
    """A decoder's shapes, read from its config."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tied: bool
    model_type: str
    experts: int = 0
    moe_intermediate: int = 0
    shared_intermediate: int = 0
    dense_layers: int = 0  # leading layers with a dense MLP in a MoE model

    @classmethod
    def from_config(cls, config: dict) -> "Shapes":
        c = text_config(config)
        try:
            h = int(c.get("hidden_size") or c.get("n_embd") or c["d_model"])
            layers = int(c.get("num_hidden_layers") or c.get("n_layer") or c["num_layers"])
            heads = int(c.get("num_attention_heads") or c["n_head"])
            vocab = int(c.get("vocab_size") or c["padded_vocab_size"])
        except (KeyError, TypeError, ValueError):
            raise SartorError("the model's config.json lacks hidden_size / num_hidden_layers / num_attention_heads / "
                              "vocab_size: cannot estimate its size") from None
        kv = int(c.get("num_key_value_heads") or c.get("multi_query_group_num") or (1 if c.get("multi_query") else heads))
        experts = int(c.get("num_experts") or c.get("num_local_experts") or c.get("n_routed_experts") or 0)
        moe_i = int(c.get("moe_intermediate_size") or 0)
        shared = int(c.get("shared_expert_intermediate_size") or 0) or int(c.get("n_shared_experts") or 0) * moe_i
        inter = int(c.get("intermediate_size") or c.get("ffn_hidden_size") or c.get("n_inner") or 4 * h)
        return cls(hidden=h, layers=layers, heads=heads, kv_heads=kv, head_dim=int(c.get("head_dim") or h // heads),
                   intermediate=inter, vocab=vocab, tied=bool(c.get("tie_word_embeddings", False)),
                   model_type=str(c.get("model_type") or ""), experts=experts, moe_intermediate=moe_i or inter,
                   shared_intermediate=shared, dense_layers=int(c.get("first_k_dense_replace") or 0) if experts else 0)

    def linears(self, moe_layer: bool) -> dict[str, tuple[int, int, int]]:
        """name -> (in, out, count) of one layer's linear layers (LLaMA names)."""
        h, d = self.hidden, self.head_dim
        out = {"q_proj": (h, self.heads * d, 1), "k_proj": (h, self.kv_heads * d, 1),
               "v_proj": (h, self.kv_heads * d, 1), "o_proj": (self.heads * d, h, 1)}
        if self.model_type in _UNGATED:
            out.update(up_proj=(h, self.intermediate, 1), down_proj=(self.intermediate, h, 1))
        elif moe_layer:
            e, i = self.experts, self.moe_intermediate
            out.update(gate_proj=(h, i, e), up_proj=(h, i, e), down_proj=(i, h, e))
            if self.shared_intermediate:
                s = self.shared_intermediate
                out.update(shared_gate_proj=(h, s, 1), shared_up_proj=(h, s, 1), shared_down_proj=(s, h, 1))
        else:
            i = self.intermediate
            out.update(gate_proj=(h, i, 1), up_proj=(h, i, 1), down_proj=(i, h, 1))
        return out

    def layer_kinds(self) -> list[bool]:
        """Whether each layer's MLP is a mixture of experts."""
        return [bool(self.experts) and i >= self.dense_layers for i in range(self.layers)]


def count_parameters(config: dict) -> dict[str, int]:
    """Parameters by part (embedding, layers, lm_head, total), from the config's shapes."""
    s = Shapes.from_config(config)
    h = s.hidden
    qkv_bias = s.model_type in _QKV_BIAS or bool(text_config(config).get("attention_bias") or text_config(config).get("qkv_bias"))
    o_bias = bool(text_config(config).get("attention_bias"))
    layers = 0
    for moe in s.layer_kinds():
        lin = s.linears(moe)
        layers += sum(i * o * n for i, o, n in lin.values())
        if qkv_bias:
            layers += (s.heads + 2 * s.kv_heads) * s.head_dim
        if o_bias:
            layers += h
        if s.model_type in _UNGATED:
            layers += s.intermediate + h  # MLP biases
        if moe:
            layers += h * s.experts + (h if s.shared_intermediate else 0)  # router (+ shared-expert gate)
        layers += 2 * h  # two norms
        if s.model_type.startswith("qwen3"):
            layers += 2 * s.head_dim  # q_norm, k_norm
    embed = s.vocab * h
    lm_head = 0 if s.tied else s.vocab * h
    return {"embedding": embed, "layers": layers, "final_norm": h, "lm_head": lm_head,
            "total": embed + layers + h + lm_head}


def lora_parameters(config: dict, rank: int, target_modules: Optional[list[str]] = None) -> int:
    """LoRA A and B parameters over the target linear layers (all-linear: every linear but lm_head)."""
    s = Shapes.from_config(config)
    targets = [t for t in (target_modules or ["all-linear"])]
    every = not targets or "all-linear" in targets or "ALL" in targets
    total = 0
    for moe in s.layer_kinds():
        for name, (i, o, n) in s.linears(moe).items():
            base = name.removeprefix("shared_")
            if every or name in targets or base in targets:
                total += rank * (i + o) * n
    if total == 0 and not every:  # names of another family (c_attn, query_key_value, ...): assume all-linear
        return lora_parameters(config, rank, None)
    return total


def activation_bytes_per_token(config: dict, dtype_bytes: int, gradient_checkpointing: bool,
                               lora_dropout: bool = False, offloaded: bool = False) -> float:
    """Bytes of saved activations per token across the layers (not counting the logits). Offloaded to host
    memory, only the layer being computed (or recomputed, or brought back for its backward) stays on the GPU."""
    s = Shapes.from_config(config)
    h, d = s.hidden, s.head_dim
    inter = s.moe_intermediate if s.experts else s.intermediate
    mlp_in_dims = 2 * h + inter  # inputs of gate, up (shared) and down
    # norm inputs 2h, attention input h, q k v, attention output, MLP input h, gate/up/act/product 4 x inter
    per_layer = 2 * h + h + (s.heads + 2 * s.kv_heads) * d + s.heads * d + h + 4 * inter
    if lora_dropout:  # LoRA keeps a dropped-out copy of each target's input
        per_layer += h + s.heads * d + mlp_in_dims
    if offloaded:
        return per_layer * dtype_bytes
    if gradient_checkpointing:
        return (s.layers * h + per_layer) * dtype_bytes  # layer inputs, plus one layer recomputed in backward
    return s.layers * per_layer * dtype_bytes


def estimate_memory(config: dict, *, train_type: str = "lora", dtype: str = "bfloat16", world_size: int = 1,
                    zero_stage: Optional[int] = None, offload_optimizer: bool = False, offload_param: bool = False,
                    fsdp: Optional[str] = None, gradient_checkpointing: bool = True, batch_size: int = 1,
                    max_length: int = 2048, lora_rank: int = 8, target_modules: Optional[list[str]] = None,
                    lora_dtype: Optional[str] = None, lora_dropout: float = 0.0, quant_bits: Optional[int] = None,
                    gpus_per_rank: int = 1, activation_offloading: bool = False) -> dict[str, Any]:
    """GiB per GPU, by component, for one training configuration."""
    params = count_parameters(config)
    total_params = params["total"]
    b = DTYPE_BYTES.get(dtype, 4)
    full = train_type == "full"
    trainable = total_params if full else lora_parameters(config, lora_rank, target_modules)
    train_b = b if full else DTYPE_BYTES.get(lora_dtype or "float32", 4)  # peft keeps adapters in fp32
    fsdp_opts = set((fsdp or "").split())
    if fsdp_opts:  # FSDP2: full_shard shards like ZeRO-3, shard_grad_op like ZeRO-2
        zero_stage = 3 if "full_shard" in fsdp_opts or "hybrid_shard" in fsdp_opts else 2
        offload_optimizer = offload_param = "offload" in fsdp_opts
    stage = zero_stage or 0
    w = max(world_size, 1)

    if quant_bits:  # bnb quantises the layers' linear weights; embeddings, norms (and lm_head) stay in dtype
        linear = params["layers"]
        weights = linear * (quant_bits / 8 + (0.0625 if quant_bits == 4 else 0.03)) + (total_params - linear) * b
    else:
        weights = total_params * b
    if stage == 3:
        weights = 0.0 if offload_param else weights / w
    weights += 0 if full else trainable * train_b  # adapters (sharded with the rest under ZeRO-3: small anyway)

    deepspeed = zero_stage is not None and not fsdp_opts
    grads = trainable * train_b / (w if stage >= 2 else 1)
    if deepspeed:  # Adam m and v in fp32, plus an fp32 master copy when training in 16 bits
        optim = trainable * (8 + (4 if train_b < 4 else 0))
    else:  # torch AdamW: m and v in the parameters' dtype
        optim = trainable * 2 * train_b
    optim = 0.0 if offload_optimizer else optim / (w if stage >= 1 else 1)
    ddp_buckets = trainable * train_b if w > 1 and not deepspeed and not fsdp_opts else 0.0  # torch DDP's copy

    s = Shapes.from_config(config)
    tokens = batch_size * max_length
    acts = tokens * activation_bytes_per_token(config, b, gradient_checkpointing, lora_dropout > 0 and not full,
                                               activation_offloading)
    logits = tokens * s.vocab * (b + 8)  # logits, their fp32 copy for the loss, and its gradient
    parts = {"weights": weights, "gradients": grads, "optimizer_states": optim, "ddp_buckets": ddp_buckets,
             "activations": acts, "logits": logits}
    k = max(gpus_per_rank, 1)
    gib = {name: round(v / k / GIB, 3) for name, v in parts.items()}
    gib["cuda_context"] = CUDA_CONTEXT_GIB
    gib["total"] = round(sum(gib.values()), 2)
    cpu = (total_params * b / w if stage == 3 and offload_param else 0) + (
        trainable * (12 if deepspeed else 2 * train_b) / w if offload_optimizer else 0)
    return {"parameters": total_params, "trainable_parameters": trainable, "per_gpu_gib": gib,
            "cpu_offload_gib": round(cpu / GIB, 2)}


# --- the --dry_run plan -------------------------------------------------------------------------------------


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


def plan(args: Any) -> dict[str, Any]:
    """Resolved arguments, world layout and memory per GPU, reading config files only."""
    from ..model.loader import resolve_model_info
    from .distributed import fsdp_layout, fsdp_settings, planned_world
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
    fsdp = fsdp_layout(fsdp_settings(getattr(args, "fsdp", None), getattr(args, "fsdp_config", None))[1])
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
        gpus_per_rank=gpus_per_rank, activation_offloading=getattr(args, "activation_offloading", False))
    layout = {"nnodes": world.nnodes, "nproc_per_node": world.local_world_size, "world_size": world.world_size,
              "gpus_per_rank": gpus_per_rank, "backend": args.ddp_backend or ("nccl" if n_gpus else "gloo"),
              "parallelism": f"deepspeed {_ds_name(args.deepspeed)}" if deepspeed else (f"fsdp2 ({fsdp})" if fsdp else
                             ("model parallel + ddp" if gpus_per_rank > 1 else ("ddp" if world.distributed else "single process"))),
              "per_device_train_batch_size": args.per_device_train_batch_size, "gradient_accumulation_steps": accum,
              "global_batch_size": args.per_device_train_batch_size * accum * world.world_size,
              "max_length": args.max_length, "torch_dtype": args.torch_dtype}
    from ..arguments.secrets import redacted_args

    arguments = redacted_args(args, {k: v for k, v in vars(args).items() if not k.startswith("_")})
    return {"arguments": arguments, "world": layout, "memory": memory}


def _ds_name(value: str) -> str:
    from .ds_configs import BUILTIN

    key = value.strip().lower().replace("-", "_").removeprefix("default_")
    return key if key in BUILTIN else value


def _local_gpus() -> int:
    from ..core.world import visible_device_count

    return visible_device_count(os.environ)


def print_plan(args: Any) -> dict[str, Any]:
    """--dry_run: print the plan as JSON on stdout (rank 0 only) and a summary on stderr; load nothing."""
    from .distributed import get_world

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
