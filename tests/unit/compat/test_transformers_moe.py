"""The MoE router loss the split loss route computes from the decoder's router logits (train/loss.py) is the one
the model's own forward computes: its modeling module's `load_balancing_loss_func` with its experts and top-k."""
import pytest
import torch
from transformers import (LlamaConfig, LlamaForCausalLM, MixtralConfig, MixtralForCausalLM, Qwen2MoeConfig,
                          Qwen2MoeForCausalLM, Qwen3MoeConfig, Qwen3MoeForCausalLM)

from sartor.compat import relied_on
from sartor.compat.transformers import router_balance_loss_fn

SMALL = dict(vocab_size=101, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, pad_token_id=0, output_router_logits=True)
MOE = {
    "mixtral": lambda: MixtralForCausalLM(MixtralConfig(**SMALL, num_local_experts=4, num_experts_per_tok=2)),
    "qwen2_moe": lambda: Qwen2MoeForCausalLM(Qwen2MoeConfig(**SMALL, num_experts=4, num_experts_per_tok=2,
                                                            moe_intermediate_size=32,
                                                            shared_expert_intermediate_size=32)),
    "qwen3_moe": lambda: Qwen3MoeForCausalLM(Qwen3MoeConfig(**SMALL, num_experts=4, num_experts_per_tok=2,
                                                            moe_intermediate_size=32)),
}


@pytest.mark.parametrize("name", list(MOE))
@pytest.mark.parametrize("padded", [True, False])
def test_router_balance_loss_is_the_models_own(name, padded):
    torch.manual_seed(0)
    model = MOE[name]()
    ids = torch.randint(1, 101, (2, 9))
    inputs = {"input_ids": ids}
    if padded:
        inputs["attention_mask"] = torch.ones_like(ids)
        inputs["attention_mask"][1, 6:] = 0
    own = model(**inputs).aux_loss
    fn = router_balance_loss_fn(model)
    what = relied_on("transformers", f"{type(model).__module__}.load_balancing_loss_func(router_logits, num_experts, "
                                     "top_k, attention_mask) is the aux_loss of the forward")
    assert fn is not None, what
    router_logits = model.get_decoder()(**inputs, output_router_logits=True).router_logits
    assert torch.allclose(fn(router_logits, inputs.get("attention_mask")), own, atol=1e-6), what


def test_a_dense_model_has_none():
    model = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in SMALL.items() if k != "output_router_logits"}))
    assert router_balance_loss_fn(model) is None
