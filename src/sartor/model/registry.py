"""The model registry: one entry per model family and size (hub ids, template, LoRA targets).

Entries live in `sartor.model.families.*`, one file per group of families, and are added by
`register_model` when this module is imported. Users add their own with `register_model`
(e.g. from a `--custom_register_path` file).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from sartor.utils.errors import SartorError

__all__ = [
    "ModelMeta",
    "MODEL_MAPPING",
    "ModelType",
    "LoRATM",
    "register_model",
    "get_model_meta",
    "list_model_types",
    "list_families",
]

# Default LoRA targets shared by several families.
_LLAMA = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class LoRATM:
    """Default LoRA target modules per architecture kind (copies are handed to each entry)."""

    llama = _LLAMA
    attn_only = ["q_proj", "k_proj", "v_proj", "o_proj"]
    qwen = ["c_attn", "c_proj", "w1", "w2"]
    chatglm = ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]
    glm4_hf = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_up_proj", "down_proj"]
    baichuan = ["W_pack", "o_proj", "gate_proj", "up_proj", "down_proj"]
    internlm2 = ["wqkv", "wo", "w1", "w2", "w3"]
    phi3 = ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]
    deepseek_v2 = ["q_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    bloom = ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]
    gpt2 = ["c_attn", "c_proj", "c_fc"]


@dataclass
class ModelMeta:
    """What Sartor knows about one model: where to get it and how to talk to it."""

    model_type: str
    family: str
    ms_model_id: str
    hf_model_id: str
    template: str
    lora_target_modules: list[str]
    requires_remote_code: bool = False
    architectures: list[str] = field(default_factory=list)
    config_model_type: list[str] = field(default_factory=list)
    is_multimodal: bool = False
    tags: list[str] = field(default_factory=list)
    builtin: bool = False  # built locally (the tiny demo model); never downloaded

    @property
    def is_chat(self) -> bool:
        """True for chat/instruct models (anything not using the plain generation template)."""
        return self.template != "default-generation"

    def model_id(self, use_hf: bool = True) -> str:
        """The hub id on Hugging Face (`use_hf=True`) or ModelScope."""
        return self.hf_model_id if use_hf else self.ms_model_id


MODEL_MAPPING: dict[str, ModelMeta] = {}


def _const_name(model_type: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", model_type)


class ModelType:
    """String constants for every registered model type, e.g. `ModelType.qwen2_5_7b_instruct`.

    Attribute names are the keys with `-` and `.` replaced by `_`; values are the keys.
    Custom entries added with `register_model` appear here too.
    """

    @classmethod
    def get_model_type_list(cls) -> list[str]:
        return list(MODEL_MAPPING)


def register_model(meta: ModelMeta, exist_ok: bool = False) -> ModelMeta:
    """Add `meta` to MODEL_MAPPING (and to ModelType). Re-registering needs `exist_ok=True`."""
    if not meta.model_type:
        raise SartorError("register_model: model_type must be a non-empty string")
    if meta.model_type in MODEL_MAPPING and not exist_ok:
        raise SartorError(
            f"model type {meta.model_type!r} is already registered; pass exist_ok=True to replace it"
        )
    if not meta.template:
        raise SartorError(f"register_model({meta.model_type!r}): template must be set")
    meta.lora_target_modules = list(meta.lora_target_modules)
    MODEL_MAPPING[meta.model_type] = meta
    setattr(ModelType, _const_name(meta.model_type), meta.model_type)
    return meta


def get_model_meta(model_type: str) -> ModelMeta:
    """The entry for `model_type`; unknown names raise a SartorError listing the closest ones."""
    meta = MODEL_MAPPING.get(model_type)
    if meta is None:
        # accept the ModelType attribute spelling too (qwen2_5_7b_instruct)
        by_const = {_const_name(k): v for k, v in MODEL_MAPPING.items()}
        meta = by_const.get(_const_name(model_type))
    if meta is None:
        close = difflib.get_close_matches(model_type, list(MODEL_MAPPING), n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise SartorError(
            f"unknown model type {model_type!r}.{hint} "
            f"See sartor.model.list_model_types() for all {len(MODEL_MAPPING)} entries, "
            "or pass a hub id / local directory with --model."
        )
    return meta


def list_model_types(family: str | None = None) -> list[str]:
    """All registered model types, or those of one family, in registration order."""
    if family is None:
        return list(MODEL_MAPPING)
    return [k for k, m in MODEL_MAPPING.items() if m.family == family]


def list_families() -> list[str]:
    """The registered families, in registration order."""
    return list(dict.fromkeys(m.family for m in MODEL_MAPPING.values()))


register_model(
    ModelMeta(
        model_type="tiny",
        family="tiny",
        ms_model_id="sartor/tiny",
        hf_model_id="sartor/tiny",
        template="chatml",
        lora_target_modules=_LLAMA,
        architectures=["Qwen2ForCausalLM"],
        config_model_type=["qwen2"],
        tags=["builtin", "chat", "demo"],
        builtin=True,
    )
)

# Fill the registry (import side effect; the family modules import only from this module).
from sartor.model import families as _families  # noqa: E402,F401
