"""What the loader and padding-free batches assume about transformers' attention implementations: a model class's
`_supports_*` flags say which it accepts, the auto class's mapping names the class a config loads, a loaded model's
config says which it runs, and eager / sdpa / flex_attention follow restarting position ids without a mask."""
import pytest
import torch
from transformers import AutoModelForCausalLM, Gemma2Config, LlamaConfig

from sartor.compat import relied_on
from sartor.compat.transformers import (PACKED_POSITION_ATTN, accepted_attn_impls, attn_implementation,
                                        model_class_for)

SMALL = dict(vocab_size=101, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, head_dim=8, pad_token_id=0)


@pytest.mark.parametrize("config", [Gemma2Config(**SMALL), LlamaConfig(**SMALL)], ids=["gemma2", "llama"])
@pytest.mark.parametrize("impl", ["eager", "sdpa", "flex_attention"])
def test_the_flags_say_what_the_class_accepts(config, impl):
    cls = model_class_for(config)
    assert cls is not None and cls.__name__ == type(config).__name__.replace("Config", "ForCausalLM"), relied_on(
        "transformers", "AutoModelForCausalLM._model_mapping[type(config)] is the class it loads")
    try:
        model = AutoModelForCausalLM.from_config(config, attn_implementation=impl)
        taken = True
    except ValueError:
        taken = False
    what = relied_on("transformers", f"{cls.__name__}._supports_sdpa / _supports_flex_attn say whether it takes {impl}")
    assert (impl in accepted_attn_impls(cls)) == taken, what
    if taken:
        assert attn_implementation(model) == impl, relied_on("transformers", "config._attn_implementation")


def test_gemma2_refuses_sdpa_and_an_unknown_config_maps_to_none():
    assert "sdpa" not in accepted_attn_impls(model_class_for(Gemma2Config(**SMALL)))
    assert model_class_for(object()) is None


@pytest.mark.parametrize("impl", [i for i in PACKED_POSITION_ATTN if not i.startswith("flash")])
def test_restarting_position_ids_separate_rows_without_a_mask(impl):
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(LlamaConfig(**SMALL), attn_implementation=impl).eval()
    a, b = torch.randint(1, 101, (1, 5)), torch.randint(1, 101, (1, 7))
    flat = torch.cat([a, b], 1)
    pos = torch.cat([torch.arange(5), torch.arange(7)]).unsqueeze(0)
    with torch.no_grad():
        joined = model(input_ids=flat, position_ids=pos, use_cache=False).logits[0, 5:]
        alone = model(input_ids=b, use_cache=False).logits[0]
    assert torch.allclose(joined, alone, atol=1e-4), relied_on(
        "transformers", f"{impl}: without a cache or mask, the mask follows restarting position ids")
