"""Tiny random-init models of the transformers-native architectures behind Sartor's registry entries, with each
family's quirks on, for the conformance matrix in this folder.

Every registry architecture maps to a spec here (same class, same config class) or to NOT_BUILT with the reason:

- Llama 2/3/3.1/3.2, Yi, DeepSeek LLM, DeepSeek-R1-Distill-Llama, OpenBuddy-Llama: LlamaForCausalLM (`llama`,
  `llama3_2_tied` with llama3 rope scaling and tied embeddings);
- Mistral, OpenBuddy-Mistral/Zephyr: `mistral` (sliding window 4 < the sequence); Mixtral: `mixtral`;
- Qwen1.5/2/2.5 (+Coder, Math), DeepSeek-R1-Distill-Qwen: `qwen2` (attention bias, tied embeddings);
- Qwen3 (qk-norm), Qwen2-MoE / Qwen1.5-MoE (shared expert), Qwen3-MoE: `qwen3`, `qwen2_moe`, `qwen3_moe`;
- Gemma 2 (soft-capping, sliding window; eager attention), Gemma 3 1B text (Gemma3ForCausalLM);
- Phi-3 / 3.5 / 4 (fused qkv_proj, gate_up_proj): `phi3`;
- DeepSeek-V2 (MLA, MoE; q_lora_rank None as in V2-Lite, whose q_proj the registry targets), DeepSeek-V3
  (MLA with q_lora_rank, grouped routing; no registry entry yet);
- GLM-4-9B-chat-hf: GlmForCausalLM (`glm`); GLM-4-0414 (`glm4`, Glm4ForCausalLM, no registry entry yet);
- SeqGPT: BloomForCausalLM (ALiBi); PolyLM: GPT2LMHeadModel (Conv1D);
- Cohere (logit_scale, qk-norm), Granite (logits_scaling and multipliers), OLMo-2 (qk-norm): native, no registry
  entry yet (LoRA falls back to all-linear, as the loader does for a model without an entry).

NOT_BUILT names what the matrix cannot build in-process offline, and why."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import transformers

VOCAB = 4096  # the tiny tokenizer's (sartor.model.tiny)
PAD = 0
SMALL = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=128, pad_token_id=PAD, bos_token_id=1, eos_token_id=2)

NOT_BUILT = {
    "QWenLMHeadModel": "Qwen v1 / Qwen-VL: model-repository code (trust_remote_code), not in transformers",
    "BaiChuanForCausalLM": "Baichuan 1: model-repository code, not in transformers",
    "BaichuanForCausalLM": "Baichuan / Baichuan 2: model-repository code, not in transformers",
    "ChatGLMModel": "ChatGLM2/3, GLM-4-9B (non-hf): model-repository code, not in transformers",
    "ChatGLMForConditionalGeneration": "ChatGLM2/3, GLM-4-9B (non-hf): model-repository code, not in transformers",
    "InternLMForCausalLM": "InternLM: model-repository code, not in transformers",
    "InternLM2ForCausalLM": "InternLM2 / 2.5: model-repository code; transformers has no native InternLM2 class",
    "XverseForCausalLM": "XVERSE: model-repository code, not in transformers",
    "Gemma3ForConditionalGeneration": "Gemma 3 4B+ (vision): multimodal, needs an image processor; its text "
                                      "decoder is Gemma3ForCausalLM's, covered as gemma3",
    "Qwen2VLForConditionalGeneration": "Qwen2-VL: multimodal, needs an image processor; its text decoder is "
                                       "Qwen2's, covered as qwen2",
    "AutoModelForCausalLM": "the `tiny` entry's placeholder; the tiny model itself is Qwen2 (covered as qwen2)",
}


@dataclass
class Spec:
    name: str
    model_class: str
    config_class: str
    config: dict[str, Any]
    moe: bool = False  # asks for the router's load-balancing loss (output_router_logits)
    covers: list[str] = field(default_factory=list)  # registry architectures this spec stands for
    attn: str | None = None  # the attention implementation transformers must choose when left unset

    def __str__(self) -> str:
        return self.name

    def build(self, seed: int = 0) -> Any:
        """The model, deterministic in `seed`; attention left for transformers to choose, as Sartor's loader does."""
        config = getattr(transformers, self.config_class)(**self.config)
        torch.manual_seed(seed)
        model = getattr(transformers, self.model_class)(config)
        model.generation_config.eos_token_id = 2
        model.generation_config.pad_token_id = PAD
        model.generation_config.bos_token_id = None
        return model.float()

    def registry_targets(self) -> list[str]:
        """The LoRA target modules the registry gives this architecture (all-linear without an entry)."""
        from sartor.model.registry import MODEL_MAPPING

        found = {tuple(m.lora_target_modules) for m in MODEL_MAPPING.values() if self.model_class in m.architectures}
        found |= {tuple(m.lora_target_modules) for m in MODEL_MAPPING.values()
                  if set(m.architectures) & set(self.covers)}
        assert len(found) <= 1, f"{self.name}: the registry gives several target lists {found}"
        return list(found.pop()) if found else ["all-linear"]


_MLA = dict(kv_lora_rank=16, qk_rope_head_dim=4, qk_nope_head_dim=8, v_head_dim=8, num_key_value_heads=4,
            moe_intermediate_size=16, n_routed_experts=4, n_shared_experts=1, num_experts_per_tok=2,
            first_k_dense_replace=1)
_SW = 4  # sliding window, smaller than every row of the batches

SPECS = [
    Spec("llama", "LlamaForCausalLM", "LlamaConfig", dict(SMALL, tie_word_embeddings=False)),
    Spec("llama3_2_tied", "LlamaForCausalLM", "LlamaConfig",
         dict(SMALL, tie_word_embeddings=True, head_dim=8,
              rope_parameters=dict(rope_type="llama3", rope_theta=500000.0, factor=8.0, low_freq_factor=1.0,
                                   high_freq_factor=4.0, original_max_position_embeddings=32))),
    Spec("mistral", "MistralForCausalLM", "MistralConfig", dict(SMALL, sliding_window=_SW)),
    Spec("mixtral", "MixtralForCausalLM", "MixtralConfig",
         dict(SMALL, sliding_window=_SW, num_local_experts=4, num_experts_per_tok=2, output_router_logits=True,
              router_aux_loss_coef=0.5), moe=True),
    Spec("qwen2", "Qwen2ForCausalLM", "Qwen2Config", dict(SMALL, tie_word_embeddings=True)),
    Spec("qwen3", "Qwen3ForCausalLM", "Qwen3Config", dict(SMALL, head_dim=8)),
    Spec("qwen2_moe", "Qwen2MoeForCausalLM", "Qwen2MoeConfig",
         dict(SMALL, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16,
              shared_expert_intermediate_size=32, output_router_logits=True, router_aux_loss_coef=0.5), moe=True),
    Spec("qwen3_moe", "Qwen3MoeForCausalLM", "Qwen3MoeConfig",
         dict(SMALL, head_dim=8, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16,
              output_router_logits=True, router_aux_loss_coef=0.5), moe=True),
    Spec("gemma2", "Gemma2ForCausalLM", "Gemma2Config",
         dict(SMALL, head_dim=8, sliding_window=_SW, final_logit_softcapping=2.0, attn_logit_softcapping=1.0,
              query_pre_attn_scalar=8), attn="eager"),
    Spec("gemma3", "Gemma3ForCausalLM", "Gemma3TextConfig",
         dict(SMALL, head_dim=8, sliding_window=_SW, layer_types=["sliding_attention", "full_attention"],
              final_logit_softcapping=2.0, query_pre_attn_scalar=8)),
    Spec("phi3", "Phi3ForCausalLM", "Phi3Config", dict(SMALL, sliding_window=_SW)),
    Spec("deepseek_v2", "DeepseekV2ForCausalLM", "DeepseekV2Config", dict(SMALL, **_MLA, q_lora_rank=None)),
    Spec("deepseek_v3", "DeepseekV3ForCausalLM", "DeepseekV3Config",
         dict(SMALL, **_MLA, q_lora_rank=16, n_group=2, topk_group=1)),
    Spec("glm", "GlmForCausalLM", "GlmConfig", dict(SMALL, head_dim=8)),
    Spec("glm4", "Glm4ForCausalLM", "Glm4Config", dict(SMALL, head_dim=8)),
    Spec("cohere", "CohereForCausalLM", "CohereConfig", dict(SMALL, logit_scale=0.5, use_qk_norm=True)),
    Spec("granite", "GraniteForCausalLM", "GraniteConfig",
         dict(SMALL, logits_scaling=4.0, embedding_multiplier=2.0, residual_multiplier=0.5, attention_multiplier=0.2)),
    Spec("olmo2", "Olmo2ForCausalLM", "Olmo2Config", dict(SMALL)),
    Spec("bloom", "BloomForCausalLM", "BloomConfig",
         dict(vocab_size=VOCAB, hidden_size=32, n_layer=2, n_head=4, pad_token_id=PAD, bos_token_id=1,
              eos_token_id=2)),
    Spec("gpt2", "GPT2LMHeadModel", "GPT2Config",
         dict(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=128, resid_pdrop=0.0, embd_pdrop=0.0,
              attn_pdrop=0.0, pad_token_id=PAD, bos_token_id=1, eos_token_id=2)),
]
BY_NAME = {s.name: s for s in SPECS}


def rows(seed: int = 5) -> list[dict]:
    """Three rows of different lengths (all longer than the sliding windows), prompts masked out of the labels."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for n, prompt in ((12, 4), (20, 7), (9, 2)):
        ids = torch.randint(3, VOCAB, (n,), generator=g).tolist()
        out.append({"input_ids": ids, "labels": [-100] * prompt + ids[prompt:]})
    return out


def padded_batch() -> dict:
    from sartor.dataset.collate import PaddedCollator

    return PaddedCollator(PAD)(rows())
