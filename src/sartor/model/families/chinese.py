"""Baichuan, Baichuan2, ChatGLM2/3, GLM-4, InternLM, InternLM2, XVERSE, PolyLM and SeqGPT."""
from sartor.model.registry import LoRATM

from ._helpers import BASE, add

# Baichuan (v1: 7B base, 13B base/chat). Baichuan2 chat uses the same prompt tokens.
add("baichuan-7b", "baichuan", "baichuan-inc/baichuan-7B", "baichuan-inc/Baichuan-7B", BASE, LoRATM.baichuan,
    ["BaiChuanForCausalLM"], ["baichuan"], remote_code=True)
add("baichuan-13b", "baichuan", "baichuan-inc/Baichuan-13B-Base", "baichuan-inc/Baichuan-13B-Base", BASE,
    LoRATM.baichuan, ["BaichuanForCausalLM"], ["baichuan"], remote_code=True)
add("baichuan-13b-chat", "baichuan", "baichuan-inc/Baichuan-13B-Chat", "baichuan-inc/Baichuan-13B-Chat",
    "baichuan", LoRATM.baichuan, ["BaichuanForCausalLM"], ["baichuan"], remote_code=True)
for size in ["7B", "13B"]:
    key = size.lower()
    add(f"baichuan2-{key}", "baichuan2", f"baichuan-inc/Baichuan2-{size}-Base",
        f"baichuan-inc/Baichuan2-{size}-Base", BASE, LoRATM.baichuan, ["BaichuanForCausalLM"], ["baichuan"],
        remote_code=True)
    add(f"baichuan2-{key}-chat", "baichuan2", f"baichuan-inc/Baichuan2-{size}-Chat",
        f"baichuan-inc/Baichuan2-{size}-Chat", "baichuan", LoRATM.baichuan, ["BaichuanForCausalLM"],
        ["baichuan"], remote_code=True)

# ChatGLM2 / ChatGLM3 (remote code, ChatGLMModel)
_CHATGLM = (["ChatGLMModel", "ChatGLMForConditionalGeneration"], ["chatglm"])
for model_type, name, template in [
    ("chatglm2-6b", "chatglm2-6b", "chatglm2"),
    ("chatglm2-6b-32k", "chatglm2-6b-32k", "chatglm2"),
]:
    add(model_type, "chatglm2", f"ZhipuAI/{name}", f"THUDM/{name}", template, LoRATM.chatglm, *_CHATGLM,
        remote_code=True)
for model_type, name, template in [
    ("chatglm3-6b-base", "chatglm3-6b-base", BASE),
    ("chatglm3-6b", "chatglm3-6b", "chatglm3"),
    ("chatglm3-6b-32k", "chatglm3-6b-32k", "chatglm3"),
    ("chatglm3-6b-128k", "chatglm3-6b-128k", "chatglm3"),
]:
    add(model_type, "chatglm3", f"ZhipuAI/{name}", f"THUDM/{name}", template, LoRATM.chatglm, *_CHATGLM,
        remote_code=True)

# GLM-4 9B: the original remote-code repos and the transformers-native "-hf" ones.
add("glm4-9b", "glm4", "ZhipuAI/glm-4-9b", "THUDM/glm-4-9b", BASE, LoRATM.chatglm, *_CHATGLM, remote_code=True)
add("glm4-9b-chat", "glm4", "ZhipuAI/glm-4-9b-chat", "THUDM/glm-4-9b-chat", "glm4", LoRATM.chatglm, *_CHATGLM,
    remote_code=True)
add("glm4-9b-chat-1m", "glm4", "ZhipuAI/glm-4-9b-chat-1m", "THUDM/glm-4-9b-chat-1m", "glm4", LoRATM.chatglm,
    *_CHATGLM, remote_code=True)
add("glm4-9b-chat-hf", "glm4", "ZhipuAI/glm-4-9b-chat-hf", "THUDM/glm-4-9b-chat-hf", "glm4", LoRATM.glm4_hf,
    ["GlmForCausalLM"], ["glm"])

# InternLM (v1) and InternLM2 (remote code)
for size in ["7b", "20b"]:
    add(f"internlm-{size}", "internlm", f"Shanghai_AI_Laboratory/internlm-{size}", f"internlm/internlm-{size}",
        BASE, LoRATM.llama, ["InternLMForCausalLM"], ["internlm"], remote_code=True)
    add(f"internlm-{size}-chat", "internlm", f"Shanghai_AI_Laboratory/internlm-chat-{size}",
        f"internlm/internlm-chat-{size}", "internlm", LoRATM.llama, ["InternLMForCausalLM"], ["internlm"],
        remote_code=True)
_INTERNLM2 = (["InternLM2ForCausalLM"], ["internlm2"])
for size in ["1_8b", "7b", "20b"]:
    add(f"internlm2-{size}", "internlm2", f"Shanghai_AI_Laboratory/internlm2-{size}",
        f"internlm/internlm2-{size}", BASE, LoRATM.internlm2, *_INTERNLM2, remote_code=True)
    add(f"internlm2-{size}-chat", "internlm2", f"Shanghai_AI_Laboratory/internlm2-chat-{size}",
        f"internlm/internlm2-chat-{size}", "internlm2", LoRATM.internlm2, *_INTERNLM2, remote_code=True)
add("internlm2_5-7b-chat", "internlm2_5", "Shanghai_AI_Laboratory/internlm2_5-7b-chat",
    "internlm/internlm2_5-7b-chat", "internlm2", LoRATM.internlm2, *_INTERNLM2, remote_code=True)

# XVERSE (remote code)
for size in ["7B", "13B", "65B"]:
    key = size.lower()
    for suffix, template in [("", BASE), ("-Chat", "xverse")]:
        add(f"xverse-{key}{suffix.lower()}", "xverse", f"xverse/XVERSE-{size}{suffix}",
            f"xverse/XVERSE-{size}{suffix}", template, LoRATM.llama, ["XverseForCausalLM"], ["xverse"],
            remote_code=True)

# PolyLM (GPT-2 architecture, Conv1D c_attn) and SeqGPT (BLOOM)
add("polylm-13b", "polylm", "damo/nlp_polylm_13b_text_generation", "DAMO-NLP-MT/polylm-13b", BASE, LoRATM.gpt2,
    ["GPT2LMHeadModel"], ["gpt2"])
add("polylm-13b-chat", "polylm", "damo/nlp_polylm_assistant_13b_text_generation", "DAMO-NLP-MT/polylm-chat-13b",
    "polylm", LoRATM.gpt2, ["GPT2LMHeadModel"], ["gpt2"])
add("seqgpt-560m", "seqgpt", "damo/nlp_seqgpt-560m", "DAMO-NLP/SeqGPT-560M", "seqgpt", LoRATM.bloom,
    ["BloomForCausalLM"], ["bloom"])
