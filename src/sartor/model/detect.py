"""Match a model directory (its config.json) or a config dict to a registry entry.

Order of evidence: the model's name (hub id, directory name, `_name_or_path`) matched exactly
against the registry's hub ids; then a family named in the name (e.g. "Qwen2.5"), among the
families whose architecture fits the config; then the architecture alone. Inside a family the
closest entry wins (same size, chat vs base). Nothing fits -> None, and the caller uses the
tokenizer's own chat template (`jinja`).
"""
from __future__ import annotations

import difflib
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from sartor.model.registry import MODEL_MAPPING, ModelMeta
from sartor.utils.errors import SartorError
from sartor.utils.logging import get_logger

__all__ = ["detect_model_meta", "detect_template", "read_model_config"]

_S = r"[._-]?"  # optional separator in family name patterns
# Ordered most specific first: the first pattern found in the name decides the family.
_FAMILY_PATTERNS: list[tuple[str, str]] = [
    ("deepseek_r1_distill", rf"r1{_S}distill"),
    ("deepseek_v2", rf"deepseek{_S}v2"),
    ("openbuddy", r"openbuddy"),
    ("qwen2_5_coder", rf"qwen2[._-]5{_S}coder"),
    ("qwen2_vl", rf"qwen2{_S}vl"),
    ("qwen_vl", rf"qwen{_S}vl"),
    ("qwen3", r"qwen3"),
    ("qwen2_5", r"qwen2[._-]5(?!\d)"),
    ("qwen1_5", r"qwen1[._-]5(?!\d)|qwen1half"),
    ("qwen2", r"qwen2"),
    ("qwen", r"qwen"),
    ("llama3_2", rf"llama{_S}3[._-]2(?!\d)"),
    ("llama3_1", rf"llama{_S}3[._-]1(?!\d)"),
    ("llama3", rf"llama{_S}3"),
    ("llama2", rf"llama{_S}2"),
    ("yi1_5", r"(?<![a-z])yi[._-]1[._-]5"),
    ("yi", r"(?<![a-z])yi(?![a-z])"),
    ("glm4", rf"glm{_S}4"),
    ("chatglm3", r"chatglm3"),
    ("chatglm2", r"chatglm2"),
    ("internlm2_5", r"internlm2[._-]5"),
    ("internlm2", r"internlm2"),
    ("internlm", r"internlm"),
    ("baichuan2", r"baichuan2"),
    ("baichuan", r"baichuan"),
    ("xverse", r"xverse"),
    ("polylm", r"polylm"),
    ("seqgpt", r"seqgpt"),
    ("mixtral", r"mixtral"),
    ("mistral", r"mistral"),
    ("gemma3", rf"gemma{_S}3"),
    ("gemma2", rf"gemma{_S}2"),
    ("phi4", rf"phi{_S}4"),
    ("phi3_5", rf"phi{_S}3[._-]5"),
    ("phi3", rf"phi{_S}3"),
    ("deepseek", r"deepseek"),
]
_KNOWN_PATTERN_FAMILIES = {f for f, _ in _FAMILY_PATTERNS}

# Families chosen from the architecture alone (no name evidence), best guess first. Families
# that share a generic architecture with unrelated models (GPT-2, BLOOM, Llama fine-tunes) are
# left out on purpose; Llama-architecture models are placed only by their vocabulary.
_ARCH_ONLY_FAMILIES = [
    "qwen2", "qwen", "qwen_vl", "qwen2_vl", "qwen3", "qwen1_5", "mistral", "mixtral", "gemma2", "gemma3",
    "phi3", "chatglm3", "chatglm2", "glm4", "baichuan2", "baichuan", "internlm2", "internlm", "xverse",
    "deepseek_v2",
]

# Path components that never name a model (run directories, hub caches).
_SKIP_COMPONENT = re.compile(
    r"^(checkpoint-\d+(-merged)?|snapshots|[0-9a-f]{40}|v\d+-\d{8}-\d{6}|merged|best|last|final|"
    r"outputs?|models?|hub|huggingface|modelscope|\.cache|cache|tmp|\.)$"
)
_SIZE = re.compile(r"(?<![a-z0-9])(\d+(?:[._]\d+)?)b(?![a-z])")
_CHAT_HINT = re.compile(r"instruct|chat|(?<![a-z])it(?![a-z])")
_BASE_HINT = re.compile(r"(?<![a-z])(base|pt)(?![a-z])")


def _norm(name: str) -> str:
    # ModelScope caches write "." as "___" in directory names.
    return name.strip().rstrip("/").replace("___", ".").lower()


def _last(model_id: str) -> str:
    return _norm(model_id).split("/")[-1]


def read_model_config(model_dir: str, required: bool = False) -> dict[str, Any] | None:
    """config.json of a local model directory (or the path of a JSON file). Missing or unreadable: None with a
    warning, or with `required` a SartorError (a model directory must have one)."""
    path = Path(model_dir)
    if path.is_dir():
        path = path / "config.json"
    if not path.is_file():
        if required:
            raise SartorError(f"{model_dir} has no config.json: is it a model directory?")
        return None
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        if required:
            raise SartorError(f"cannot read {path}: {e}") from None
        get_logger().warning(f"could not read {path}: {e}")
        return None
    if not isinstance(data, dict):
        if required:
            raise SartorError(f"{path} holds no JSON object")
        return None
    return data


def _names_from_path(path: str) -> list[str]:
    names: list[str] = []
    for comp in reversed(Path(path).resolve().parts if os.path.exists(path) else Path(path).parts):
        if comp.startswith("models--"):  # Hugging Face cache: models--owner--name
            comp = comp.split("--")[-1]
        if not comp or comp == "/" or _SKIP_COMPONENT.match(comp.lower()):
            continue
        names.append(comp)
        if len(names) == 3:
            break
    return names


def _gather(src: str | dict, model_id: str | None) -> tuple[dict[str, Any] | None, list[str]]:
    """The config (if any) and candidate names, most telling first."""
    config: dict[str, Any] | None = None
    names: list[str] = []
    if model_id:
        names.append(_last(model_id))
    if isinstance(src, dict):
        config = src
    elif os.path.isdir(src) or (os.path.isfile(src) and src.endswith(".json")):
        config = read_model_config(src)
        base_dir = src if os.path.isdir(src) else os.path.dirname(src)
        names += _names_from_path(base_dir)
        adapter = Path(base_dir) / "adapter_config.json"
        if config is None and adapter.is_file():  # a LoRA checkpoint: look at its base model
            try:
                base = json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path")
            except (OSError, json.JSONDecodeError):
                base = None
            if base:
                names.append(_last(base))
                if os.path.isdir(base):
                    config = read_model_config(base)
    else:
        names.append(_last(src))  # a hub id or a bare name
    if config and isinstance(config.get("_name_or_path"), str) and config["_name_or_path"]:
        names.append(_last(config["_name_or_path"]))
    names = [_norm(n) for n in names if n]
    return config, list(dict.fromkeys(names))


def _compatible(meta: ModelMeta, config: dict[str, Any] | None) -> bool:
    if not config:
        return True
    archs = config.get("architectures") or []
    mtype = config.get("model_type")
    if not archs and not mtype:
        return True
    return any(a in meta.architectures for a in archs) or (mtype is not None and mtype in meta.config_model_type)


def _entry_size(meta: ModelMeta) -> set[str]:
    return {m.replace("_", ".") for m in _SIZE.findall(meta.model_type.lower())}


def _estimate_params(config: dict[str, Any]) -> float | None:
    """Rough parameter count from the config, used only to pick the closest size."""
    c = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
    h = c.get("hidden_size") or c.get("n_embd") or c.get("d_model")
    layers = c.get("num_hidden_layers") or c.get("n_layer") or c.get("num_layers")
    vocab = c.get("vocab_size") or c.get("padded_vocab_size")
    if not (isinstance(h, int) and isinstance(layers, int) and isinstance(vocab, int)):
        return None
    heads = c.get("num_attention_heads") or c.get("n_head") or max(1, h // 128)
    kv = c.get("num_key_value_heads") or c.get("multi_query_group_num") or heads
    head_dim = c.get("head_dim") or h // heads
    inter = c.get("intermediate_size") or c.get("ffn_hidden_size") or 4 * h
    experts = c.get("num_experts") or c.get("num_local_experts") or c.get("n_routed_experts")
    if isinstance(experts, int) and experts > 1:
        inter = (c.get("moe_intermediate_size") or inter) * experts
    attn = 2 * h * heads * head_dim + 2 * h * kv * head_dim
    mlp = 3 * h * inter
    emb = vocab * h * (1 if c.get("tie_word_embeddings") else 2)
    return float(layers * (attn + mlp) + emb)


def _closest(entries: list[ModelMeta], names: list[str], config: dict[str, Any] | None) -> ModelMeta:
    """The entry of one family that best fits the name (size, chat/base) or the config's size."""
    name = names[0] if names else ""
    sizes = {m.replace("_", ".") for m in _SIZE.findall(name)}
    wants_chat = True if _CHAT_HINT.search(name) else (False if _BASE_HINT.search(name) else None)
    est = _estimate_params(config) if (config and not sizes) else None

    def score(meta: ModelMeta) -> float:
        s = 0.0
        entry_sizes = _entry_size(meta)
        if sizes:
            s += 10.0 if entry_sizes & sizes else 0.0
        elif est and entry_sizes:
            size = min(float(x) for x in entry_sizes) * 1e9
            s += 10.0 * max(0.0, 1.0 - abs(math.log(est / size)) / math.log(10))
        if wants_chat is None:
            s += 1.0 if meta.is_chat else 0.0
        else:
            s += 5.0 if meta.is_chat == wants_chat else 0.0
        if name:
            s += 3.0 * difflib.SequenceMatcher(None, name, _last(meta.hf_model_id)).ratio()
        return s

    return max(entries, key=score)  # ties keep registration order


def _family_from_config(families: list[str], config: dict[str, Any]) -> str | None:
    """Best-guess family from the architecture and a few telling config values."""
    vocab = config.get("vocab_size") or config.get("padded_vocab_size")
    rope = config.get("rope_scaling") or config.get("rope_parameters") or {}
    rope = rope if isinstance(rope, dict) else {}
    rope_type = rope.get("rope_type") or rope.get("type")
    prefs: list[str] = []
    if vocab == 128256:  # Llama 3 tokenizer
        if rope_type == "llama3":
            prefs += ["llama3_2"] if float(rope.get("factor") or 0) >= 32 else ["llama3_1"]
        prefs += ["llama3"]
    elif vocab == 32000 and "LlamaForCausalLM" in (config.get("architectures") or []):
        prefs += ["llama2"]
    elif vocab == 64000:
        prefs += ["yi", "baichuan"]
    elif vocab == 102400:
        prefs += ["deepseek", "deepseek_v2"]
    elif vocab == 125696:
        prefs += ["baichuan2"]
    elif vocab == 151552:
        prefs += ["glm4"]
    elif vocab == 100352:
        prefs += ["phi4"]
    builtin_families = {m.family for m in MODEL_MAPPING.values() if m.builtin}
    custom = [f for f in families if f not in _KNOWN_PATTERN_FAMILIES and f not in builtin_families]
    for fam in [*prefs, *_ARCH_ONLY_FAMILIES, *custom]:
        if fam in families:
            return fam
    return None


def detect_model_meta(model_dir_or_config: str | dict, model_id: str | None = None) -> ModelMeta | None:
    """The registry entry that fits a local model directory, config dict or hub id; None if unknown."""
    config, names = _gather(model_dir_or_config, model_id)
    entries = [m for m in MODEL_MAPPING.values() if _compatible(m, config)]

    # 1. the name is a known hub id (or model_type)
    for name in names:
        for meta in entries:
            if name in (_last(meta.hf_model_id), _last(meta.ms_model_id), meta.model_type.lower()):
                return meta

    entries = [m for m in entries if not m.builtin]
    families = list(dict.fromkeys(m.family for m in entries))
    # 2. the name names a family; user-registered families first, with a pattern from their name
    patterns = [(f, re.escape(f).replace("_", _S)) for f in families if f not in _KNOWN_PATTERN_FAMILIES]
    patterns += [(f, p) for f, p in _FAMILY_PATTERNS if f in families]
    for name in names:
        for fam, pat in patterns:
            if re.search(pat, name):
                return _closest([m for m in entries if m.family == fam], names, config)

    # 3. the architecture alone
    if config and (config.get("architectures") or config.get("model_type")):
        fam = _family_from_config(families, config)
        if fam is not None:
            return _closest([m for m in entries if m.family == fam], names, config)
    return None


def detect_template(model_dir_or_config: str | dict, model_id: str | None = None) -> str | None:
    """The built-in template for a model, or None (then use the tokenizer's chat template)."""
    meta = detect_model_meta(model_dir_or_config, model_id)
    return meta.template if meta is not None else None
