"""PEFT's adapter layers expose `cast_input_dtype_enabled`, the switch behind peft.helpers.disable_input_dtype_casting;
turned off, a LoRA layer of a 16-bit model takes its input as it comes instead of copying it to float32."""
import inspect

import peft.helpers
import torch
from peft import LoraConfig, get_peft_model
from transformers import Qwen2Config, Qwen2ForCausalLM

from sartor.compat import relied_on
from sartor.compat.peft import CAST_SWITCH, input_casting_layers, set_adapter_input_casting


def bf16_lora_model():
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2)
    return get_peft_model(Qwen2ForCausalLM(config).to(torch.bfloat16), LoraConfig(r=4, target_modules="all-linear"))


def lora_a_input_dtypes(model, layers) -> set:
    seen = []
    hooks = [m.lora_A["default"].register_forward_pre_hook(lambda mod, a: seen.append(a[0].dtype)) for m in layers]
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        model(input_ids=torch.tensor([[1, 2, 3]]), use_cache=False)
    for h in hooks:
        h.remove()
    return set(seen)


def test_every_lora_layer_has_the_switch_and_it_is_on():
    model = bf16_lora_model()
    layers = input_casting_layers(model)
    assert len(layers) == 2 * 7, relied_on("peft", f"LoRA layers no longer expose {CAST_SWITCH}")
    assert all(getattr(m, CAST_SWITCH) is True for m in layers)


def test_turning_the_switch_off_keeps_the_input_dtype():
    model = bf16_lora_model()
    layers = input_casting_layers(model)
    assert lora_a_input_dtypes(model, layers) == {torch.float32}  # on: copied to the adapter's float32
    before = set_adapter_input_casting(layers, False)
    assert before == [True] * len(layers)
    assert lora_a_input_dtypes(model, layers) == {torch.bfloat16}, relied_on(
        "peft", f"{CAST_SWITCH} = False no longer leaves a LoRA layer's input in its dtype")
    assert set_adapter_input_casting(layers, before) == [False] * len(layers)
    assert all(getattr(m, CAST_SWITCH) for m in layers)


def test_it_is_the_switch_of_the_public_helper():
    source = inspect.getsource(peft.helpers.disable_input_dtype_casting)
    assert f"module.{CAST_SWITCH} = False" in source, relied_on(
        "peft", f"disable_input_dtype_casting no longer flips {CAST_SWITCH}")
