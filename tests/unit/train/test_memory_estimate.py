"""The memory estimate of --dry_run: parameter counts from config shapes, and how each setting moves memory."""
import json
import subprocess
import sys

import pytest

from sartor.train.memory_estimate import count_parameters, estimate_memory, lora_parameters

QWEN25_05B = {"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
              "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936, "tie_word_embeddings": True}
QWEN25_7B = {"model_type": "qwen2", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
             "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064, "tie_word_embeddings": False}
LLAMA2_7B = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
             "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 32000, "tie_word_embeddings": False}
QWEN3_06B = {"model_type": "qwen3", "hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 28,
             "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936,
             "tie_word_embeddings": True}
MIXTRAL = {"model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
           "num_attention_heads": 32, "num_key_value_heads": 8, "num_local_experts": 8, "vocab_size": 32000}


@pytest.mark.parametrize("config, expected", [
    (QWEN25_05B, 494_032_768),     # Qwen2.5-0.5B: 0.49B on its model card
    (QWEN25_7B, 7_615_616_512),    # Qwen2.5-7B: 7.61B
    (LLAMA2_7B, 6_738_415_616),    # Llama-2-7b: 6.74B
    (QWEN3_06B, 596_049_920),      # Qwen3-0.6B: 0.6B (0.44B without embeddings)
    (MIXTRAL, 46_702_792_704),     # Mixtral-8x7B: 46.7B
])
def test_parameter_count_from_config_shapes(config, expected):
    assert abs(count_parameters(config)["total"] - expected) / expected < 0.01


def test_parameter_count_of_the_tiny_model_is_exact(tiny_dir):
    from transformers import AutoModelForCausalLM

    config = json.loads((__import__("pathlib").Path(tiny_dir) / "config.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    assert count_parameters(config)["total"] == sum(p.numel() for p in model.parameters())


def test_lora_count_matches_peft(tiny_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    config = json.loads((__import__("pathlib").Path(tiny_dir) / "config.json").read_text())
    for targets in (["all-linear"], ["q_proj", "v_proj"]):
        model = AutoModelForCausalLM.from_pretrained(tiny_dir)
        peft_model = get_peft_model(model, LoraConfig(r=8, target_modules="all-linear" if targets == ["all-linear"] else targets))
        trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
        assert lora_parameters(config, 8, targets) == trainable, targets


def test_nested_text_config_is_read():
    vl = {"model_type": "qwen2_5_vl", "text_config": {**QWEN25_05B, "model_type": "qwen2"}}
    assert count_parameters(vl)["total"] == count_parameters(QWEN25_05B)["total"]


def _gib(**kw):
    return estimate_memory(QWEN25_7B, max_length=2048, batch_size=1, **kw)["per_gpu_gib"]


def test_zero_stages_follow_the_zero_paper():
    """Full fine-tuning in bf16 under DeepSpeed: 2 + 2 + 12 bytes per parameter, sharded by stage."""
    p = count_parameters(QWEN25_7B)["total"] / 2**30
    w = 8
    z0 = _gib(train_type="full", world_size=w, zero_stage=0)
    z1 = _gib(train_type="full", world_size=w, zero_stage=1)
    z2 = _gib(train_type="full", world_size=w, zero_stage=2)
    z3 = _gib(train_type="full", world_size=w, zero_stage=3)
    assert z0["weights"] == pytest.approx(2 * p, rel=1e-3) and z0["optimizer_states"] == pytest.approx(12 * p, rel=1e-3)
    assert z1["optimizer_states"] == pytest.approx(12 * p / w, rel=1e-3) and z1["gradients"] == pytest.approx(2 * p, rel=1e-3)
    assert z2["gradients"] == pytest.approx(2 * p / w, rel=1e-3) and z2["weights"] == pytest.approx(2 * p, rel=1e-3)
    assert z3["weights"] == pytest.approx(2 * p / w, rel=1e-3)
    assert z0["total"] > z1["total"] > z2["total"] > z3["total"]


def test_offload_moves_states_to_the_cpu():
    z3 = estimate_memory(QWEN25_7B, train_type="full", world_size=8, zero_stage=3, offload_optimizer=True,
                         offload_param=True)
    assert z3["per_gpu_gib"]["optimizer_states"] == 0 and z3["per_gpu_gib"]["weights"] == 0
    assert z3["cpu_offload_gib"] > 10


def test_lora_checkpointing_and_batch():
    full, lora = _gib(train_type="full"), _gib(train_type="lora")
    assert lora["total"] < full["total"] / 3
    assert lora["weights"] == pytest.approx(count_parameters(QWEN25_7B)["total"] * 2 / 2**30, rel=0.01)
    assert _gib(gradient_checkpointing=False)["activations"] > 5 * _gib(gradient_checkpointing=True)["activations"]
    one = estimate_memory(QWEN25_7B, batch_size=1, max_length=1024)["per_gpu_gib"]
    four = estimate_memory(QWEN25_7B, batch_size=4, max_length=1024)["per_gpu_gib"]
    assert four["activations"] == pytest.approx(4 * one["activations"], rel=0.01)
    assert four["logits"] == pytest.approx(4 * one["logits"], rel=0.01)
    qlora = _gib(train_type="lora", quant_bits=4)
    assert qlora["weights"] < lora["weights"] / 2.5


def test_activation_offloading_leaves_one_layer_on_the_gpu():
    kept = _gib(gradient_checkpointing=False)["activations"]
    offloaded = _gib(gradient_checkpointing=False, activation_offloading=True)["activations"]
    assert offloaded == pytest.approx(kept / QWEN25_7B["num_hidden_layers"], rel=0.02)
    assert _gib(activation_offloading=True)["weights"] == _gib()["weights"]


def test_ddp_buckets_and_fsdp():
    single = _gib(train_type="full", dtype="bfloat16")
    ddp = _gib(train_type="full", dtype="bfloat16", world_size=2)
    assert single["ddp_buckets"] == 0 and ddp["ddp_buckets"] == pytest.approx(ddp["gradients"])
    fsdp = _gib(train_type="full", world_size=4, fsdp="full_shard auto_wrap")
    assert fsdp["weights"] == pytest.approx(single["weights"] / 4, rel=1e-3) and fsdp["ddp_buckets"] == 0


def test_model_parallel_splits_a_rank_over_its_gpus():
    one = _gib(train_type="lora")
    two = _gib(train_type="lora", gpus_per_rank=2)
    assert two["weights"] == pytest.approx(one["weights"] / 2, rel=1e-2)


def test_dry_run_prints_the_plan_without_loading(tmp_path, tiny_dir):
    """--dry_run reads config.json only: the plan comes from a directory with no weights in it."""
    import shutil

    model_dir = tmp_path / "config-only"
    model_dir.mkdir()
    for name in ("config.json", "tokenizer_config.json"):
        shutil.copy(f"{tiny_dir}/{name}", model_dir / name)
    env = {**__import__("os").environ, "NPROC_PER_NODE": "2"}
    r = subprocess.run([sys.executable, "-m", "sartor", "sft", "--model", str(model_dir), "--dry_run", "true",
                        "--deepspeed", "zero2", "--train_type", "full", "--per_device_train_batch_size", "2",
                        "--max_length", "512"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout)
    assert result["world"]["world_size"] == 2 and result["world"]["parallelism"] == "deepspeed zero2"
    assert result["world"]["global_batch_size"] == 2 * result["world"]["gradient_accumulation_steps"] * 2
    assert result["arguments"]["max_length"] == 512 and result["arguments"]["model"] == str(model_dir)
    assert result["memory"]["parameters"] == count_parameters(json.loads((model_dir / "config.json").read_text()))["total"]
    assert result["memory"]["per_gpu_gib"]["total"] > 0
    assert "launching" not in r.stderr and not (tmp_path / "output").exists()
