"""Mistral, Mixtral, Gemma 2, Gemma 3, Phi-3, Phi-3.5 and Phi-4."""
from sartor.model.registry import LoRATM

from ._helpers import BASE, add

_MISTRAL = (["MistralForCausalLM"], ["mistral"])
add("mistral-7b", "mistral", "AI-ModelScope/Mistral-7B-v0.1", "mistralai/Mistral-7B-v0.1", BASE,
    LoRATM.llama, *_MISTRAL)
for model_type, ms_owner, version in [
    ("mistral-7b-instruct", "AI-ModelScope", "v0.1"),
    ("mistral-7b-instruct-v2", "AI-ModelScope", "v0.2"),
    ("mistral-7b-instruct-v3", "LLM-Research", "v0.3"),
]:
    add(model_type, "mistral", f"{ms_owner}/Mistral-7B-Instruct-{version}",
        f"mistralai/Mistral-7B-Instruct-{version}", "mistral", LoRATM.llama, *_MISTRAL)

_MIXTRAL = (["MixtralForCausalLM"], ["mixtral"])
add("mixtral-moe-7b", "mixtral", "AI-ModelScope/Mixtral-8x7B-v0.1", "mistralai/Mixtral-8x7B-v0.1", BASE,
    LoRATM.attn_only, *_MIXTRAL, tags=("moe",))
add("mixtral-moe-7b-instruct", "mixtral", "AI-ModelScope/Mixtral-8x7B-Instruct-v0.1",
    "mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral", LoRATM.attn_only, *_MIXTRAL, tags=("moe",))

# Gemma 2
for size in ["2b", "9b", "27b"]:
    add(f"gemma2-{size}", "gemma2", f"LLM-Research/gemma-2-{size}", f"google/gemma-2-{size}", BASE,
        LoRATM.llama, ["Gemma2ForCausalLM"], ["gemma2"])
    add(f"gemma2-{size}-instruct", "gemma2", f"LLM-Research/gemma-2-{size}-it", f"google/gemma-2-{size}-it",
        "gemma", LoRATM.llama, ["Gemma2ForCausalLM"], ["gemma2"])

# Gemma 3: 1b is text-only; 4b/12b/27b carry a SigLIP vision tower.
add("gemma3-1b", "gemma3", "LLM-Research/gemma-3-1b-pt", "google/gemma-3-1b-pt", BASE, LoRATM.llama,
    ["Gemma3ForCausalLM"], ["gemma3_text"])
add("gemma3-1b-instruct", "gemma3", "LLM-Research/gemma-3-1b-it", "google/gemma-3-1b-it", "gemma3",
    LoRATM.llama, ["Gemma3ForCausalLM"], ["gemma3_text"])
for size in ["4b", "12b", "27b"]:
    add(f"gemma3-{size}", "gemma3", f"LLM-Research/gemma-3-{size}-pt", f"google/gemma-3-{size}-pt", BASE,
        LoRATM.llama, ["Gemma3ForConditionalGeneration"], ["gemma3"], multimodal=True)
    add(f"gemma3-{size}-instruct", "gemma3", f"LLM-Research/gemma-3-{size}-it", f"google/gemma-3-{size}-it",
        "gemma3", LoRATM.llama, ["Gemma3ForConditionalGeneration"], ["gemma3"], multimodal=True)

# Phi-3 / 3.5 / 4 (fused qkv_proj and gate_up_proj)
_PHI3 = (["Phi3ForCausalLM"], ["phi3"])
for size in ["mini", "medium"]:
    for ctx in ["4k", "128k"]:
        add(f"phi3-{size}-{ctx}-instruct", "phi3", f"LLM-Research/Phi-3-{size}-{ctx}-instruct",
            f"microsoft/Phi-3-{size}-{ctx}-instruct", "phi3", LoRATM.phi3, *_PHI3)
add("phi3_5-mini-instruct", "phi3_5", "LLM-Research/Phi-3.5-mini-instruct", "microsoft/Phi-3.5-mini-instruct",
    "phi3", LoRATM.phi3, *_PHI3)
add("phi4-14b", "phi4", "LLM-Research/phi-4", "microsoft/phi-4", "phi4", LoRATM.phi3, *_PHI3)
