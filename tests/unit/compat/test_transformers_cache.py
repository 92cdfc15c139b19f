"""DynamicCache's layers, as continuous batching edits them (infer/kv_cache.py, infer/scheduler.py): the keys and
values of each layer are [batch, heads, seq, dim] tensors that may be replaced, and a forward continues from the
edited cache exactly as from a cache of the kept rows alone."""
import inspect

import pytest
import torch
from transformers import DynamicCache, Qwen2Config, Qwen2ForCausalLM

from sartor.compat import relied_on
from sartor.compat.transformers import cache_argument, cache_layers, layer_kv, returned_cache, set_layer_kv


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2)
    return Qwen2ForCausalLM(config).eval()


def forward(model, ids, mask, cache=None):
    positions = (mask.cumsum(1) - 1).clamp(min=0)[:, -ids.shape[1]:]
    kwargs = {cache_argument(inspect.signature(model.forward).parameters): cache} if cache is not None else {}
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, **kwargs)


def test_the_forward_takes_and_returns_the_cache_under_the_names_used(model):
    params = inspect.signature(model.forward).parameters
    assert cache_argument(params) in params, relied_on("transformers", "the forward takes neither `cache` nor "
                                                       "`past_key_values`")
    out = forward(model, torch.tensor([[1, 2, 3]]), torch.ones(1, 3, dtype=torch.long))
    assert isinstance(returned_cache(out), DynamicCache), relied_on("transformers", "the forward returned no "
                                                                    "DynamicCache as `cache` or `past_key_values`")


def test_layers_hold_replaceable_keys_and_values(model):
    out = forward(model, torch.tensor([[1, 2, 3], [4, 5, 6]]), torch.ones(2, 3, dtype=torch.long))
    layers = cache_layers(returned_cache(out))
    assert layers is not None and len(layers) == 2, relied_on(
        "transformers", "DynamicCache no longer has `layers` of initialised DynamicLayer")
    keys, values = layer_kv(layers[0])
    assert keys.shape == values.shape == (2, 2, 3, 8), relied_on(
        "transformers", f"DynamicLayer keys/values are {tuple(keys.shape)}, not [batch, kv heads, seq, head dim]")


def test_a_forward_continues_from_edited_rows_as_from_those_rows_alone(model):
    """Drop row 0 of a left-padded batch and its leading padding column; the next step of row 1 must match."""
    ids = torch.tensor([[0, 7, 8], [3, 4, 5]])
    mask = torch.tensor([[0, 1, 1], [1, 1, 1]])
    cache = returned_cache(forward(model, ids, mask))
    for layer in cache_layers(cache):  # keep row 1
        keys, values = layer_kv(layer)
        set_layer_kv(layer, keys[1:], values[1:])
    assert cache.get_seq_length() == 3
    step = torch.tensor([[9]])
    got = forward(model, step, torch.ones(1, 4, dtype=torch.long), cache).logits[0, -1]

    alone = returned_cache(forward(model, ids[1:], mask[1:]))
    want = forward(model, step, torch.ones(1, 4, dtype=torch.long), alone).logits[0, -1]
    assert torch.allclose(got, want, atol=1e-5), relied_on(
        "transformers", "a forward from a DynamicCache whose layers' keys/values were replaced does not continue "
        "from the replaced tensors")


def test_caches_that_cannot_be_edited_are_recognised(model):
    assert cache_layers(DynamicCache()) is None  # nothing in it yet
    assert cache_layers(None) is None
    sliding = Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, use_sliding_window=True, sliding_window=4,
                          layer_types=["sliding_attention", "full_attention"])
    cache = DynamicCache(config=sliding)
    with torch.no_grad():
        Qwen2ForCausalLM(sliding).eval()(input_ids=torch.tensor([[1, 2, 3]]), use_cache=True,
                                         **{cache_argument(inspect.signature(model.forward).parameters): cache})
    assert cache_layers(cache) is None  # a sliding-window layer drops old columns itself
