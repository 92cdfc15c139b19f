"""The model registry: entries are well-formed, constants match, detection picks the right family."""
import json
import re

import pytest

from sartor.model.detect import detect_model_meta, detect_template
from sartor.model.registry import (
    MODEL_MAPPING,
    ModelMeta,
    ModelType,
    get_model_meta,
    list_families,
    list_model_types,
    register_model,
)
from sartor.utils.errors import SartorError

ALLOWED_TEMPLATES = {
    "default", "default-generation", "chatml", "qwen", "qwen2", "qwen2.5", "qwen3", "llama2", "llama3",
    "llama3.1", "llama3.2", "mistral", "mixtral", "gemma", "gemma3", "phi3", "phi4", "deepseek", "deepseek-r1",
    "deepseek-v2", "yi", "glm4", "chatglm2", "chatglm3", "baichuan", "baichuan2", "internlm", "internlm2",
    "xverse", "openbuddy", "zephyr", "vicuna", "alpaca", "falcon", "command-r", "polylm", "seqgpt", "qwen-vl",
    "qwen2-vl", "openchat", "starcoder2", "solar", "granite", "chatqa",
}
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def _builtin_entries():
    return [m for m in MODEL_MAPPING.values() if m.model_type in _BUILTIN_KEYS]


_BUILTIN_KEYS = set(MODEL_MAPPING)  # snapshot before any test registers a custom entry


@pytest.mark.parametrize("meta", _builtin_entries(), ids=lambda m: m.model_type)
def test_entry_is_well_formed(meta: ModelMeta):
    assert HUB_ID.match(meta.ms_model_id), meta.ms_model_id
    assert HUB_ID.match(meta.hf_model_id), meta.hf_model_id
    assert meta.template in ALLOWED_TEMPLATES
    assert meta.lora_target_modules and all(isinstance(t, str) and t for t in meta.lora_target_modules)
    assert meta.architectures and meta.config_model_type
    assert meta.family and meta.model_type == meta.model_type.lower()
    assert ("base" in meta.tags) == (meta.template == "default-generation")


def test_templates_exist_in_template_registry():
    try:
        from sartor.template import TEMPLATE_MAPPING
    except ImportError:
        pytest.skip("sartor.template.TEMPLATE_MAPPING not available yet")
    used = {m.template for m in _builtin_entries()}
    missing = sorted(used - set(TEMPLATE_MAPPING))
    assert not missing, f"templates used by the model registry but not registered: {missing}"


def test_expected_families_and_sizes_present():
    for key in [
        "qwen-7b-chat", "qwen-1_8b", "qwen-vl-chat", "baichuan2-13b-chat", "chatglm3-6b-32k", "llama2-70b-chat",
        "internlm2-20b-chat", "xverse-65b-chat", "polylm-13b", "seqgpt-560m", "qwen1half-110b-chat",
        "qwen2-72b-instruct", "qwen2_5-0_5b-instruct", "qwen2_5-coder-7b-instruct", "qwen3-30b-a3b",
        "llama3_1-405b-instruct", "llama3_2-1b-instruct", "mistral-7b-instruct-v3", "mixtral-moe-7b-instruct",
        "gemma2-27b-instruct", "gemma3-12b-instruct", "phi3-mini-4k-instruct", "phi3_5-mini-instruct", "phi4-14b",
        "deepseek-v2-lite-chat", "deepseek-r1-distill-llama-70b", "yi-34b-chat", "yi-1_5-6b-chat",
        "glm4-9b-chat", "qwen2-vl-7b-instruct", "tiny",
    ]:
        assert key in MODEL_MAPPING, key
    assert get_model_meta("qwen-7b-chat").requires_remote_code
    assert get_model_meta("qwen-7b-chat").lora_target_modules == ["c_attn", "c_proj", "w1", "w2"]
    assert get_model_meta("qwen2-vl-2b-instruct").is_multimodal
    assert get_model_meta("qwen2_5-7b").template == "default-generation"


def test_model_type_constants_map_to_keys():
    for key in MODEL_MAPPING:
        attr = re.sub(r"[-.]", "_", key)
        assert getattr(ModelType, attr) == key
    assert ModelType.qwen2_5_7b_instruct == "qwen2_5-7b-instruct"
    assert ModelType.llama3_1_8b_instruct == "llama3_1-8b-instruct"


def test_get_model_meta_unknown_lists_close_names():
    with pytest.raises(SartorError, match="qwen2_5-7b-instruct"):
        get_model_meta("qwen2_5-7b-instrct")
    assert get_model_meta("qwen2_5_7b_instruct").model_type == "qwen2_5-7b-instruct"


def test_list_model_types_by_family():
    qwen25 = list_model_types("qwen2_5")
    assert "qwen2_5-7b-instruct" in qwen25 and all(k.startswith("qwen2_5-") for k in qwen25)
    assert len(list_model_types()) == len(MODEL_MAPPING)
    assert "tiny" in list_families()


def test_tiny_is_builtin():
    tiny = get_model_meta("tiny")
    assert tiny.builtin and tiny.family == "tiny" and tiny.template == "chatml"
    assert tiny.architectures == ["Qwen2ForCausalLM"] and tiny.hf_model_id == "sartor/tiny"
    assert sum(m.builtin for m in MODEL_MAPPING.values()) == 1


def test_register_custom_model():
    meta = ModelMeta(
        model_type="acme-7b-chat", family="acme", ms_model_id="acme/Acme-7B-Chat", hf_model_id="acme/Acme-7B-Chat",
        template="chatml", lora_target_modules=["q_proj", "v_proj"], architectures=["AcmeForCausalLM"],
        config_model_type=["acme"],
    )
    try:
        register_model(meta)
        assert get_model_meta("acme-7b-chat") is meta
        assert ModelType.acme_7b_chat == "acme-7b-chat"
        with pytest.raises(SartorError, match="already registered"):
            register_model(meta)
        register_model(meta, exist_ok=True)
        # detection: by id, by family name in the name, by (custom) architecture alone
        assert detect_model_meta("acme/Acme-7B-Chat") is meta
        assert detect_model_meta({"architectures": ["AcmeForCausalLM"], "model_type": "acme"}, "acme-ft") is meta
        assert detect_model_meta({"architectures": ["AcmeForCausalLM"], "model_type": "acme"}) is meta
    finally:
        MODEL_MAPPING.pop("acme-7b-chat", None)
        delattr(ModelType, "acme_7b_chat")


# ---- detection -------------------------------------------------------------------------------

QWEN2_7B = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 3584, "num_hidden_layers": 28,
    "intermediate_size": 18944, "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064,
}
LLAMA3_8B = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
    "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
}


def _model_dir(tmp_path, name, config):
    d = tmp_path / name
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps(config))
    return str(d)


def test_detect_qwen2_arch_with_qwen2_5_name(tmp_path):
    meta = detect_model_meta(_model_dir(tmp_path, "Qwen2.5-7B-Instruct", QWEN2_7B))
    assert meta.family == "qwen2_5" and meta.model_type == "qwen2_5-7b-instruct"
    assert detect_template(_model_dir(tmp_path, "my-Qwen2.5-7B-Instruct-sft", QWEN2_7B)) == "qwen2.5"
    # base when the name says so; size from the name
    assert detect_model_meta(QWEN2_7B, "Qwen2.5-1.5B").model_type == "qwen2_5-1_5b"


def test_detect_name_beats_path_and_caches(tmp_path):
    # ModelScope cache spelling and Hugging Face cache layout
    assert detect_model_meta(_model_dir(tmp_path, "Qwen/Qwen2___5-7B-Instruct", QWEN2_7B)).family == "qwen2_5"
    hf = _model_dir(tmp_path, "models--Qwen--Qwen2.5-7B-Instruct/snapshots/" + "a" * 40, QWEN2_7B)
    assert detect_model_meta(hf).model_type == "qwen2_5-7b-instruct"
    # a run directory: the checkpoint dir says nothing, the parent does
    ckpt = _model_dir(tmp_path, "output/qwen2_5-7b-instruct/v0-20240101-120000/checkpoint-100", QWEN2_7B)
    assert detect_model_meta(ckpt).model_type == "qwen2_5-7b-instruct"
    # an explicit model id wins over the directory name
    assert detect_model_meta(_model_dir(tmp_path, "whatever", QWEN2_7B), "Qwen/Qwen2-7B-Instruct").family == "qwen2"


def test_detect_qwen2_arch_without_name_uses_architecture_and_size(tmp_path):
    meta = detect_model_meta(_model_dir(tmp_path, "checkpoint-50", QWEN2_7B))
    assert meta.family == "qwen2" and meta.model_type == "qwen2-7b-instruct"


def test_detect_llama3(tmp_path):
    assert detect_model_meta(_model_dir(tmp_path, "Meta-Llama-3-8B-Instruct", LLAMA3_8B)).model_type == (
        "llama3-8b-instruct"
    )
    cfg31 = {**LLAMA3_8B, "rope_scaling": {"rope_type": "llama3", "factor": 8.0}}
    assert detect_model_meta(_model_dir(tmp_path, "llama-3.1-8b-it-ft", cfg31)).model_type == "llama3_1-8b-instruct"
    # no name: the Llama 3 vocabulary and rope scaling place it
    assert detect_model_meta(cfg31).family == "llama3_1"
    # a llama config whose name says Qwen2.5 is not Qwen2.5 (architecture must fit)
    assert detect_model_meta(LLAMA3_8B, "Qwen2.5-7B-Instruct").family.startswith("llama3")


def test_detect_chatglm(tmp_path):
    cfg = {"architectures": ["ChatGLMModel"], "model_type": "chatglm", "padded_vocab_size": 65024}
    assert detect_model_meta(_model_dir(tmp_path, "chatglm3-6b", cfg)).model_type == "chatglm3-6b"
    assert detect_model_meta(_model_dir(tmp_path, "my-glm", cfg)).family.startswith("chatglm")
    assert detect_model_meta({**cfg, "padded_vocab_size": 151552}).family == "glm4"


def test_detect_unknown_returns_none(tmp_path):
    cfg = {"architectures": ["FooForCausalLM"], "model_type": "foo"}
    assert detect_model_meta(_model_dir(tmp_path, "foo-7b", cfg)) is None
    assert detect_template(cfg) is None
    # generic architectures with an unrelated name are not forced into a family
    assert detect_model_meta({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}, "gpt2") is None
    assert detect_model_meta(str(tmp_path / "missing-dir-model")) is None


def test_detect_from_hub_ids_without_config():
    assert detect_model_meta("Qwen/Qwen2.5-7B-Instruct").model_type == "qwen2_5-7b-instruct"
    assert detect_model_meta("qwen/Qwen-7B-Chat").model_type == "qwen-7b-chat"
    assert detect_model_meta("THUDM/chatglm3-6b").template == "chatglm3"
    assert detect_model_meta("Qwen3-8B-FP8").model_type == "qwen3-8b"
    assert detect_model_meta("DeepSeek-R1-Distill-Qwen-7B-GGUF").family == "deepseek_r1_distill"
    assert detect_model_meta("Mixtral-8x7B-Instruct-v0.1-AWQ").model_type == "mixtral-moe-7b-instruct"
    assert detect_model_meta("tiny").builtin


def test_detect_lora_checkpoint_uses_base_model(tmp_path):
    base = _model_dir(tmp_path, "Qwen2.5-0.5B-Instruct", {**QWEN2_7B, "hidden_size": 896})
    ckpt = tmp_path / "checkpoint-10"
    ckpt.mkdir()
    (ckpt / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base}))
    assert detect_model_meta(str(ckpt)).model_type == "qwen2_5-0_5b-instruct"
