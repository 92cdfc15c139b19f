"""How much GPU memory a training run needs per GPU, from the model's config.json alone (no weights loaded).
The `--dry_run true` plan that prints it with the resolved arguments and the world layout is train/plan.py.

The estimate counts what the run keeps on each GPU: weights, gradients, optimizer states (with DeepSpeed's fp32
master copy), DDP's gradient buckets, activations (per token per layer, or layer inputs only under gradient
checkpointing, plus the logits and their fp32 copies for the loss) and a fixed allowance for the CUDA context.
ZeRO / FSDP sharding divides what they shard by the world size; offload moves it to the CPU. It is a planning
figure (within ~10-20% of the peak on typical runs), not a promise."""
from dataclasses import dataclass
from typing import Any, Optional

from ..utils.errors import SartorError

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
