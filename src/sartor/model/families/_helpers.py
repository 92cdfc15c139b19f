"""A compact way for family modules to declare entries."""
from __future__ import annotations

from sartor.model.registry import ModelMeta, register_model

BASE = "default-generation"


def add(
    model_type: str,
    family: str,
    ms_model_id: str,
    hf_model_id: str,
    template: str,
    lora_target_modules: list[str],
    architectures: list[str],
    config_model_type: list[str],
    *,
    remote_code: bool = False,
    multimodal: bool = False,
    tags: tuple[str, ...] = (),
) -> ModelMeta:
    """Register one entry; tags get `chat` or `base` from the template automatically."""
    auto = ["base"] if template == BASE else ["chat"]
    if multimodal:
        auto.append("vision")
    return register_model(
        ModelMeta(
            model_type=model_type,
            family=family,
            ms_model_id=ms_model_id,
            hf_model_id=hf_model_id,
            template=template,
            lora_target_modules=list(lora_target_modules),
            requires_remote_code=remote_code,
            architectures=list(architectures),
            config_model_type=list(config_model_type),
            is_multimodal=multimodal,
            tags=list(dict.fromkeys([*auto, *tags])),
        )
    )


def size_key(size: str) -> str:
    """'1.8B' -> '1_8b', '30B-A3B' -> '30b-a3b' (model_type spelling)."""
    return size.lower().replace(".", "_")
