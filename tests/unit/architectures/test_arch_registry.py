"""The matrix covers the registry: every architecture a registry entry names is built by a spec of arch_factory, or
is listed there (NOT_BUILT) with why it cannot be built in-process offline."""
import transformers
from arch_factory import NOT_BUILT, SPECS

from sartor.model.registry import MODEL_MAPPING


def test_every_registry_architecture_is_covered_or_listed_with_a_reason():
    built = {s.model_class for s in SPECS} | {a for s in SPECS for a in s.covers}
    named = {a for meta in MODEL_MAPPING.values() for a in meta.architectures}
    assert named - built - set(NOT_BUILT) == set()
    assert not built & set(NOT_BUILT)
    for arch in NOT_BUILT:  # listed as not native: really not in transformers (else it belongs in the matrix)
        if "model-repository code" in NOT_BUILT[arch]:
            assert not hasattr(transformers, arch), arch


def test_llama_architecture_families_share_the_llama_spec():
    """Llama 2/3/3.1/3.2, Yi and DeepSeek LLM are LlamaForCausalLM with the same default LoRA targets."""
    llama = next(s for s in SPECS if s.name == "llama")
    for prefix in ("llama2-", "llama3-", "llama3_1-", "llama3_2-", "yi-", "deepseek-"):
        entries = [m for t, m in MODEL_MAPPING.items() if t.startswith(prefix) and "LlamaForCausalLM" in m.architectures]
        assert entries, prefix
        assert all(m.lora_target_modules == llama.registry_targets() for m in entries), prefix
