"""Llama 2, Llama 3 / 3.1 / 3.2 and OpenBuddy (Llama- and Mistral-based)."""
from sartor.model.registry import LoRATM

from ._helpers import BASE, add

_LLAMA_ARCH = (["LlamaForCausalLM"], ["llama"])

for size in ["7b", "13b", "70b"]:
    add(f"llama2-{size}", "llama2", f"modelscope/Llama-2-{size}-ms", f"meta-llama/Llama-2-{size}-hf",
        BASE, LoRATM.llama, *_LLAMA_ARCH)
    add(f"llama2-{size}-chat", "llama2", f"modelscope/Llama-2-{size}-chat-ms",
        f"meta-llama/Llama-2-{size}-chat-hf", "llama2", LoRATM.llama, *_LLAMA_ARCH)

for size in ["8B", "70B"]:
    key = size.lower()
    add(f"llama3-{key}", "llama3", f"LLM-Research/Meta-Llama-3-{size}", f"meta-llama/Meta-Llama-3-{size}",
        BASE, LoRATM.llama, *_LLAMA_ARCH)
    add(f"llama3-{key}-instruct", "llama3", f"LLM-Research/Meta-Llama-3-{size}-Instruct",
        f"meta-llama/Meta-Llama-3-{size}-Instruct", "llama3", LoRATM.llama, *_LLAMA_ARCH)

for size, has_base in [("8B", True), ("70B", True), ("405B", False)]:
    key = size.lower()
    if has_base:
        add(f"llama3_1-{key}", "llama3_1", f"LLM-Research/Meta-Llama-3.1-{size}", f"meta-llama/Llama-3.1-{size}",
            BASE, LoRATM.llama, *_LLAMA_ARCH)
    add(f"llama3_1-{key}-instruct", "llama3_1", f"LLM-Research/Meta-Llama-3.1-{size}-Instruct",
        f"meta-llama/Llama-3.1-{size}-Instruct", "llama3.1", LoRATM.llama, *_LLAMA_ARCH)

for size in ["1B", "3B"]:
    key = size.lower()
    add(f"llama3_2-{key}", "llama3_2", f"LLM-Research/Llama-3.2-{size}", f"meta-llama/Llama-3.2-{size}",
        BASE, LoRATM.llama, *_LLAMA_ARCH)
    add(f"llama3_2-{key}-instruct", "llama3_2", f"LLM-Research/Llama-3.2-{size}-Instruct",
        f"meta-llama/Llama-3.2-{size}-Instruct", "llama3.2", LoRATM.llama, *_LLAMA_ARCH)

# OpenBuddy: multilingual chat fine-tunes; same hub ids on ModelScope and Hugging Face.
for model_type, repo, arch in [
    ("openbuddy-llama-65b-chat", "OpenBuddy/openbuddy-llama-65b-v8-bf16", _LLAMA_ARCH),
    ("openbuddy-llama2-13b-chat", "OpenBuddy/openbuddy-llama2-13b-v8.1-fp16", _LLAMA_ARCH),
    ("openbuddy-llama2-70b-chat", "OpenBuddy/openbuddy-llama2-70b-v10.1-bf16", _LLAMA_ARCH),
    ("openbuddy-mistral-7b-chat", "OpenBuddy/openbuddy-mistral-7b-v17.1-32k",
     (["MistralForCausalLM"], ["mistral"])),
    ("openbuddy-zephyr-7b-chat", "OpenBuddy/openbuddy-zephyr-7b-v14.1", (["MistralForCausalLM"], ["mistral"])),
]:
    add(model_type, "openbuddy", repo, repo, "openbuddy", LoRATM.llama, *arch)
