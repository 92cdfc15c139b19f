"""Qwen (v1, VL), Qwen1.5, Qwen2, Qwen2.5 (+Coder), Qwen3 and Qwen2-VL."""
from sartor.model.registry import LoRATM

from ._helpers import BASE, add, size_key

# Qwen v1 (remote code; tokenizer is tiktoken-based)
for size in ["1_8B", "7B", "14B", "72B"]:
    key = size_key(size)
    for suffix, template in [("", BASE), ("-Chat", "qwen")]:
        add(
            f"qwen-{key}{suffix.lower()}",
            "qwen",
            f"qwen/Qwen-{size}{suffix}",
            f"Qwen/Qwen-{size}{suffix}",
            template,
            LoRATM.qwen,
            ["QWenLMHeadModel"],
            ["qwen"],
            remote_code=True,
        )

for suffix, template in [("", BASE), ("-Chat", "qwen-vl")]:
    add(
        f"qwen-vl{suffix.lower()}",
        "qwen_vl",
        f"qwen/Qwen-VL{suffix}",
        f"Qwen/Qwen-VL{suffix}",
        template,
        LoRATM.qwen,
        ["QWenLMHeadModel"],
        ["qwen"],
        remote_code=True,
        multimodal=True,
    )

# Qwen1.5 (ms-swift 2.x spelling: qwen1half)
for size in ["0.5B", "1.8B", "4B", "7B", "14B", "32B", "72B", "110B"]:
    key = size_key(size)
    for suffix, template in [("", BASE), ("-Chat", "qwen")]:
        add(
            f"qwen1half-{key}{suffix.lower()}",
            "qwen1_5",
            f"qwen/Qwen1.5-{size}{suffix}",
            f"Qwen/Qwen1.5-{size}{suffix}",
            template,
            LoRATM.llama,
            ["Qwen2ForCausalLM"],
            ["qwen2"],
        )
for suffix, template in [("", BASE), ("-Chat", "qwen")]:
    add(
        f"qwen1half-moe-a2_7b{suffix.lower()}",
        "qwen1_5",
        f"qwen/Qwen1.5-MoE-A2.7B{suffix}",
        f"Qwen/Qwen1.5-MoE-A2.7B{suffix}",
        template,
        LoRATM.llama,
        ["Qwen2MoeForCausalLM"],
        ["qwen2_moe"],
        tags=("moe",),
    )

# Qwen2
for size in ["0.5B", "1.5B", "7B", "72B"]:
    key = size_key(size)
    for suffix, template in [("", BASE), ("-Instruct", "qwen2")]:
        add(
            f"qwen2-{key}{suffix.lower()}",
            "qwen2",
            f"qwen/Qwen2-{size}{suffix}",
            f"Qwen/Qwen2-{size}{suffix}",
            template,
            LoRATM.llama,
            ["Qwen2ForCausalLM"],
            ["qwen2"],
        )
for suffix, template in [("", BASE), ("-Instruct", "qwen2")]:
    add(
        f"qwen2-57b-a14b{suffix.lower()}",
        "qwen2",
        f"qwen/Qwen2-57B-A14B{suffix}",
        f"Qwen/Qwen2-57B-A14B{suffix}",
        template,
        LoRATM.llama,
        ["Qwen2MoeForCausalLM"],
        ["qwen2_moe"],
        tags=("moe",),
    )

# Qwen2.5 and Qwen2.5-Coder
for size in ["0.5B", "1.5B", "3B", "7B", "14B", "32B", "72B"]:
    key = size_key(size)
    for suffix, template in [("", BASE), ("-Instruct", "qwen2.5")]:
        add(
            f"qwen2_5-{key}{suffix.lower()}",
            "qwen2_5",
            f"Qwen/Qwen2.5-{size}{suffix}",
            f"Qwen/Qwen2.5-{size}{suffix}",
            template,
            LoRATM.llama,
            ["Qwen2ForCausalLM"],
            ["qwen2"],
        )
for size in ["0.5B", "1.5B", "3B", "7B", "14B", "32B"]:
    key = size_key(size)
    for suffix, template in [("", BASE), ("-Instruct", "qwen2.5")]:
        add(
            f"qwen2_5-coder-{key}{suffix.lower()}",
            "qwen2_5_coder",
            f"Qwen/Qwen2.5-Coder-{size}{suffix}",
            f"Qwen/Qwen2.5-Coder-{size}{suffix}",
            template,
            LoRATM.llama,
            ["Qwen2ForCausalLM"],
            ["qwen2"],
            tags=("coding",),
        )

# Qwen3: the plain ids are the (hybrid-thinking) chat models; "-Base" are the base ones.
for size, has_base in [("0.6B", True), ("1.7B", True), ("4B", True), ("8B", True), ("14B", True), ("32B", False)]:
    key = size_key(size)
    add(f"qwen3-{key}", "qwen3", f"Qwen/Qwen3-{size}", f"Qwen/Qwen3-{size}", "qwen3", LoRATM.llama,
        ["Qwen3ForCausalLM"], ["qwen3"], tags=("reasoning",))
    if has_base:
        add(f"qwen3-{key}-base", "qwen3", f"Qwen/Qwen3-{size}-Base", f"Qwen/Qwen3-{size}-Base", BASE,
            LoRATM.llama, ["Qwen3ForCausalLM"], ["qwen3"])
for size, has_base in [("30B-A3B", True), ("235B-A22B", False)]:
    key = size_key(size)
    add(f"qwen3-{key}", "qwen3", f"Qwen/Qwen3-{size}", f"Qwen/Qwen3-{size}", "qwen3", LoRATM.attn_only,
        ["Qwen3MoeForCausalLM"], ["qwen3_moe"], tags=("moe", "reasoning"))
    if has_base:
        add(f"qwen3-{key}-base", "qwen3", f"Qwen/Qwen3-{size}-Base", f"Qwen/Qwen3-{size}-Base", BASE,
            LoRATM.attn_only, ["Qwen3MoeForCausalLM"], ["qwen3_moe"], tags=("moe",))

# Qwen2-VL (targets name the language model's projections; the vision tower uses qkv/proj/fc1/fc2)
for size in ["2B", "7B", "72B"]:
    add(
        f"qwen2-vl-{size_key(size)}-instruct",
        "qwen2_vl",
        f"Qwen/Qwen2-VL-{size}-Instruct",
        f"Qwen/Qwen2-VL-{size}-Instruct",
        "qwen2-vl",
        LoRATM.llama,
        ["Qwen2VLForConditionalGeneration"],
        ["qwen2_vl"],
        multimodal=True,
    )
