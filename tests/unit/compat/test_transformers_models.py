"""What the loss (train/loss.py) and the trainer's setup assume about transformers' model classes: which
configurations change the logits after the output layer, the boolean `logits_to_keep` mask, which classes are
transformers' own, and the flash-attention probe."""
import re
from pathlib import Path

import pytest
import torch
import transformers
from transformers import AutoConfig, Qwen2Config, Qwen2ForCausalLM

from sartor.compat import relied_on
from sartor.compat.transformers import (LOGIT_ADJUSTING_KEYS, flash_attn_2_available, is_library_model,
                                        logits_are_head_of_hidden, takes_logits_mask)

# configuration names the scan below meets after the output layer that do not change a causal LM's logits
NOT_LOGIT_KEYS = {
    "get_text_config": "the call the adjusting keys are read through",
    "decoder": "T5Gemma 2's decoder configuration, which holds final_logit_softcapping",
    "max_inference_chunksize": "xLSTM soft-caps in chunks at inference; output_logit_soft_cap is the cap",
    "vocab_size": "encoder-decoder models reshape the logits for their loss",
}
_ATTR = re.compile(r"(?:config|get_text_config\([^)]*\))\.(?:\w+_config\.)?(\w+)")


def _method(class_source: str, name: str) -> str:
    """The text of one method of a class (up to the next method or the end of the class)."""
    match = re.search(rf"\n    def {name}\(.*?(?=\n    def |\n    @|\Z)", class_source, re.S)
    return match.group(0) if match else ""


def keys_after_the_output_layer() -> dict[str, set[str]]:
    """Configuration names each causal LM class of the installed transformers reads between its lm_head call and its
    loss (directly, or through an attribute its __init__ set from the configuration). Text, not ast: milliseconds."""
    found: dict[str, set[str]] = {}
    for path in sorted((Path(transformers.__file__).parent / "models").glob("*/modeling_*.py")):
        source = path.read_text(encoding="utf-8")
        if "lm_head(" not in source:
            continue
        for chunk in re.split(r"\n(?=class )", source):
            cls = re.match(r"class (\w+(?:ForCausalLM|ForConditionalGeneration))\b", chunk)
            forward = _method(chunk, "forward") if cls else ""
            if "self.lm_head(" not in forward:
                continue
            region = []
            for line in forward.split("self.lm_head(", 1)[1].splitlines()[1:]:
                if re.search(r"\bloss\b|\breturn\b", line):
                    break
                region.append(line)
            text = "\n".join(region)
            names = set(_ATTR.findall(text))
            init = _method(chunk, "__init__")
            for attr in re.findall(r"self\.(\w+)", text):
                assigned = re.search(rf"self\.{attr}\s*=\s*(.*)", init)
                if assigned:
                    names |= set(_ATTR.findall(assigned.group(1)))
            for name in names:
                found.setdefault(name, set()).add(f"{path.parent.name}.{cls.group(1)}")
    return found


def test_every_configuration_that_changes_logits_after_the_head_is_known():
    found = keys_after_the_output_layer()
    assert {"final_logit_softcapping", "logit_scale", "logits_scaling"} <= set(found)  # the scan still sees them
    unknown = {k: sorted(v) for k, v in found.items() if k not in LOGIT_ADJUSTING_KEYS and k not in NOT_LOGIT_KEYS}
    assert not unknown, relied_on("transformers", f"model classes read {unknown} after their output layer: add each "
                                  "to sartor.compat.transformers.LOGIT_ADJUSTING_KEYS if it changes the logits "
                                  "(else to NOT_LOGIT_KEYS here, with why)")


@pytest.mark.parametrize("model_type, kwargs, plain", [
    ("qwen2", {}, True), ("llama", {}, True), ("gemma2", {}, False), ("cohere", {}, False),
    ("granite", {}, True), ("granite", {"logits_scaling": 8.0}, False), ("aya_vision", {}, False),  # a text config's
])
def test_configurations_whose_logits_are_adjusted_are_recognised(model_type, kwargs, plain):
    assert logits_are_head_of_hidden(AutoConfig.for_model(model_type, **kwargs)) is plain


def tiny_qwen2():
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False)
    return Qwen2ForCausalLM(config).eval()


def test_a_plain_head_gives_the_forward_s_logits():
    model = tiny_qwen2()
    ids = torch.randint(0, 64, (2, 6))
    with torch.no_grad():
        hidden = model.get_decoder()(input_ids=ids, use_cache=False).last_hidden_state
        split = model.get_output_embeddings()(hidden)
        want = model(input_ids=ids, use_cache=False).logits
    assert logits_are_head_of_hidden(model.config)
    assert torch.allclose(split, want, atol=1e-5), relied_on(
        "transformers", "Qwen2ForCausalLM's logits are no longer "
        "get_output_embeddings()(get_decoder()(...).last_hidden_state)")


def test_a_boolean_logits_to_keep_mask_keeps_those_positions():
    model = tiny_qwen2()
    ids = torch.randint(0, 64, (2, 7))
    keep = torch.zeros(2, 7, dtype=torch.bool)
    keep[0, 2] = keep[1, 4] = keep[1, 5] = True
    assert takes_logits_mask(model.forward)
    with torch.no_grad():
        got = model(input_ids=ids, logits_to_keep=keep, use_cache=False).logits
        full = model(input_ids=ids, use_cache=False).logits
    assert got.reshape(-1, 64).shape == (3, 64) and torch.allclose(got.reshape(-1, 64), full[keep], atol=1e-5), \
        relied_on("transformers", "a boolean [batch, seq] logits_to_keep no longer gives the logits of those positions")


def test_library_classes_are_told_from_repository_code():
    assert is_library_model(Qwen2ForCausalLM)
    remote = type("QWenLMHeadModel", (torch.nn.Module,), {"__module__": "transformers_modules.Qwen.modeling_qwen"})
    assert not is_library_model(remote)


def test_the_flash_attention_probe_answers():
    import transformers.utils

    assert callable(getattr(transformers.utils, "is_flash_attn_2_available", None)), relied_on(
        "transformers", "transformers.utils.is_flash_attn_2_available is gone")
    assert flash_attn_2_available() in (True, False)
