"""DeepSeek LLM, DeepSeek-V2-Lite, DeepSeek-R1-Distill (Qwen / Llama), Yi and Yi-1.5."""
from sartor.model.registry import LoRATM

from ._helpers import BASE, add

_LLAMA_ARCH = (["LlamaForCausalLM"], ["llama"])

for size in ["7b", "67b"]:
    add(f"deepseek-{size}", "deepseek", f"deepseek-ai/deepseek-llm-{size}-base",
        f"deepseek-ai/deepseek-llm-{size}-base", BASE, LoRATM.llama, *_LLAMA_ARCH)
    add(f"deepseek-{size}-chat", "deepseek", f"deepseek-ai/deepseek-llm-{size}-chat",
        f"deepseek-ai/deepseek-llm-{size}-chat", "deepseek", LoRATM.llama, *_LLAMA_ARCH)

# DeepSeek-V2-Lite (MLA attention; native in transformers as deepseek_v2)
_DSV2 = (["DeepseekV2ForCausalLM"], ["deepseek_v2"])
add("deepseek-v2-lite", "deepseek_v2", "deepseek-ai/DeepSeek-V2-Lite", "deepseek-ai/DeepSeek-V2-Lite", BASE,
    LoRATM.deepseek_v2, *_DSV2, tags=("moe",))
add("deepseek-v2-lite-chat", "deepseek_v2", "deepseek-ai/DeepSeek-V2-Lite-Chat",
    "deepseek-ai/DeepSeek-V2-Lite-Chat", "deepseek-v2", LoRATM.deepseek_v2, *_DSV2, tags=("moe",))

# DeepSeek-R1 distilled into Qwen2.5 and Llama 3.x bodies
for base, size, arch in [
    ("Qwen", "1.5B", (["Qwen2ForCausalLM"], ["qwen2"])),
    ("Qwen", "7B", (["Qwen2ForCausalLM"], ["qwen2"])),
    ("Qwen", "14B", (["Qwen2ForCausalLM"], ["qwen2"])),
    ("Qwen", "32B", (["Qwen2ForCausalLM"], ["qwen2"])),
    ("Llama", "8B", _LLAMA_ARCH),
    ("Llama", "70B", _LLAMA_ARCH),
]:
    repo = f"deepseek-ai/DeepSeek-R1-Distill-{base}-{size}"
    add(f"deepseek-r1-distill-{base.lower()}-{size.lower().replace('.', '_')}", "deepseek_r1_distill", repo, repo,
        "deepseek-r1", LoRATM.llama, *arch, tags=("reasoning",))

# Yi (Llama architecture, 64k vocabulary)
for size in ["6B", "34B"]:
    add(f"yi-{size.lower()}", "yi", f"01ai/Yi-{size}", f"01-ai/Yi-{size}", BASE, LoRATM.llama, *_LLAMA_ARCH)
    add(f"yi-{size.lower()}-chat", "yi", f"01ai/Yi-{size}-Chat", f"01-ai/Yi-{size}-Chat", "yi", LoRATM.llama,
        *_LLAMA_ARCH)
for size in ["6B", "9B", "34B"]:
    add(f"yi-1_5-{size.lower()}", "yi1_5", f"01ai/Yi-1.5-{size}", f"01-ai/Yi-1.5-{size}", BASE, LoRATM.llama,
        *_LLAMA_ARCH)
    add(f"yi-1_5-{size.lower()}-chat", "yi1_5", f"01ai/Yi-1.5-{size}-Chat", f"01-ai/Yi-1.5-{size}-Chat", "yi",
        LoRATM.llama, *_LLAMA_ARCH)
