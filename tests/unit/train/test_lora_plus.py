"""LoRA+ gives the B matrices a larger learning rate than A."""
from peft import LoraConfig, get_peft_model
from transformers import Qwen2Config, Qwen2ForCausalLM, TrainingArguments

from sartor.tuners.lora_plus import lora_plus_optimizer


def test_b_matrices_get_ratio_times_the_learning_rate(tmp_path):
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=1))
    model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=1e-4, weight_decay=0.1, report_to="none")
    opt = lora_plus_optimizer(model, args, ratio=16)
    names = {id(p): n for n, p in model.named_parameters()}
    for group in opt.param_groups:
        for p in group["params"]:
            expected = 1.6e-3 if "lora_B" in names[id(p)] else 1e-4
            assert abs(group["lr"] - expected) < 1e-12
    n_trainable = sum(1 for p in model.parameters() if p.requires_grad)
    assert sum(len(g["params"]) for g in opt.param_groups) == n_trainable
