"""Parsing: every alias, YAML + flag precedence, booleans, and the unknown-flag error."""
import subprocess
import sys

import pytest

from sartor.arguments import ExportArguments, InferArguments, SftArguments, parse_args
from sartor.arguments.aliases import ALIASES
from sartor.utils.errors import SartorError

# old flag, value, expected {field: value}, argument class
ALIAS_CASES = [
    ("model_id_or_path", "qwen/Qwen-7B", {"model": "qwen/Qwen-7B"}, SftArguments),
    ("sft_type", "full", {"train_type": "full"}, SftArguments),
    ("template_type", "qwen", {"template": "qwen"}, SftArguments),
    ("dtype", "bf16", {"torch_dtype": "bfloat16"}, SftArguments),
    ("quantization_bit", "4", {"quant_method": "bnb", "quant_bits": 4}, SftArguments),
    ("bnb_4bit_comp_dtype", "fp16", {"bnb_4bit_compute_dtype": "float16"}, SftArguments),
    ("lora_target_modules", "ALL", {"target_modules": ["all-linear"]}, SftArguments),
    ("lora_dropout_p", "0.1", {"lora_dropout": 0.1}, SftArguments),
    ("batch_size", "4", {"per_device_train_batch_size": 4}, SftArguments),
    ("eval_batch_size", "2", {"per_device_eval_batch_size": 2}, SftArguments),
    ("dataset_test_ratio", "0.05", {"split_dataset_ratio": 0.05}, SftArguments),
    ("dataset_split_seed", "7", {"data_seed": 7}, SftArguments),
    ("train_dataset_sample", "100", {"max_train_samples": 100}, SftArguments),
    ("custom_train_dataset_path", "a.json", {"dataset": ["a.json"]}, SftArguments),
    ("custom_val_dataset_path", "b.json", {"val_dataset": ["b.json"]}, SftArguments),
    ("only_save_model", "true", {"save_only_model": True}, SftArguments),
    ("deepspeed_config_path", "ds.json", {"deepspeed": "ds.json"}, SftArguments),
    ("use_flash_attn", "true", {"attn_impl": "flash_attn"}, SftArguments),
    ("merge_lora_and_save", "true", {"merge_lora": True}, InferArguments),
    ("eval_human", "false", {"load_dataset_config": True}, InferArguments),
    ("show_dataset_sample", "10", {"val_dataset_sample": 10}, InferArguments),
    ("check_model_is_latest", "false", {}, SftArguments),
    ("tuner_type", "full", {"train_type": "full"}, SftArguments),
    ("model_name_or_path", "Qwen/Qwen-7B", {"model": "Qwen/Qwen-7B"}, SftArguments),
    ("data_path", "train.json", {"dataset": ["train.json"]}, SftArguments),
    ("eval_data_path", "dev.json", {"val_dataset": ["dev.json"]}, SftArguments),
    ("model_max_length", "512", {"max_length": 512}, SftArguments),
    ("use_lora", "false", {"train_type": "full"}, SftArguments),
    ("q_lora", "true", {"train_type": "lora", "quant_method": "bnb", "quant_bits": 4}, SftArguments),
    ("lora_r", "16", {"lora_rank": 16}, SftArguments),
    ("lora_weight_path", "adapter", {"adapters": ["adapter"]}, SftArguments),
    ("lazy_preprocess", "true", {"lazy_tokenize": True}, SftArguments),
    ("tokenizer_name_or_path", "tok", {"tokenizer": "tok"}, SftArguments),
    ("dataset_dir", "data", {"dataset": ["data"]}, SftArguments),
    ("validation_file", "dev.json", {"val_dataset": ["dev.json"]}, SftArguments),
    ("validation_split_percentage", "5", {"split_dataset_ratio": 0.05}, SftArguments),
    ("max_seq_length", "1024", {"max_length": 1024}, SftArguments),
    ("trainable", "q_proj,v_proj", {"target_modules": ["q_proj", "v_proj"]}, SftArguments),
    ("peft_path", "adapter", {"adapters": ["adapter"]}, SftArguments),
    ("finetuning_type", "lora", {"train_type": "lora"}, SftArguments),
    ("lora_target", "all", {"target_modules": ["all-linear"]}, SftArguments),
    ("cutoff_len", "256", {"max_length": 256}, SftArguments),
    ("evaluation_strategy", "steps", {"eval_strategy": "steps"}, SftArguments),
    ("overwrite_output_dir", "true", {}, SftArguments),
    ("save_safetensors", "false", {}, SftArguments),
    ("preprocess_num_proc", "4", {"dataset_num_proc": 4}, SftArguments),
    ("preprocessing_num_workers", "8", {"dataset_num_proc": 8}, SftArguments),
    ("do_sample", "false", {"temperature": 0.0}, InferArguments),
    ("load_args_from_ckpt_dir", "true", {}, InferArguments),
    ("self_cognition_sample", "500", {"dataset": ["self-cognition#500"]}, SftArguments),
    ("load_in_kbits", "4", {"quant_method": "bnb", "quant_bits": 4}, SftArguments),
    ("check_dataset_strategy", "error", {"strict": True}, SftArguments),
]


def test_every_alias_has_a_case():
    assert {c[0] for c in ALIAS_CASES} == set(ALIASES)


@pytest.mark.parametrize("old,value,expected,cls", ALIAS_CASES, ids=[c[0] for c in ALIAS_CASES])
def test_alias_maps_and_warns(old, value, expected, cls, caplog):
    import logging

    logger = logging.getLogger("sartor")
    logger.addHandler(caplog.handler)
    try:
        args, explicit = parse_args(cls, [f"--{old}", value])
    finally:
        logger.removeHandler(caplog.handler)
    for key, val in expected.items():
        assert getattr(args, key) == val
        assert key in explicit
    assert any(f"--{old}" in r.getMessage() and "deprecated" in r.getMessage() for r in caplog.records)


def test_yaml_then_flags_override(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("model: tiny\nlora_rank: 4\nlearning_rate: 0.001\ndataset:\n  - a.json\n  - b.json\nsft_type: full\n")
    args, explicit = parse_args(SftArguments, [str(cfg), "--lora_rank", "16"])
    assert args.model == "tiny"
    assert args.lora_rank == 16  # flag wins over YAML
    assert args.learning_rate == 0.001  # YAML wins over the default
    assert args.dataset == ["a.json", "b.json"]
    assert args.train_type == "full"  # aliases work in YAML too
    assert args.lora_alpha == 32  # default stays
    assert {"model", "lora_rank", "learning_rate", "dataset", "train_type"} <= explicit
    assert "lora_alpha" not in explicit


def test_config_flag_form(tmp_path):
    cfg = tmp_path / "c.yml"
    cfg.write_text("model: tiny\n")
    args, _ = parse_args(SftArguments, ["--config", str(cfg)])
    assert args.model == "tiny"


def test_multi_value_lists_and_commas():
    args, _ = parse_args(SftArguments, ["--dataset", "a.json", "b.json#10", "--target_modules", "q_proj,v_proj"])
    assert args.dataset == ["a.json", "b.json#10"]
    assert args.target_modules == ["q_proj", "v_proj"]


@pytest.mark.parametrize("text,value", [("true", True), ("false", False), ("True", True), ("0", False)])
def test_booleans(text, value):
    args, _ = parse_args(SftArguments, ["--gradient_checkpointing", text])
    assert args.gradient_checkpointing is value


def test_bad_boolean_is_clear():
    with pytest.raises(SartorError, match="--gradient_checkpointing takes true or false"):
        parse_args(SftArguments, ["--gradient_checkpointing", "maybe"])


def test_unknown_flag_names_the_closest():
    with pytest.raises(SartorError, match=r"unknown flag --lora_rnak.*did you mean --lora_rank\?"):
        parse_args(SftArguments, ["--lora_rnak", "8"])


def test_bad_choice_and_number():
    with pytest.raises(SartorError, match="--train_type must be one of"):
        parse_args(SftArguments, ["--train_type", "lorax"])
    with pytest.raises(SartorError, match="--lora_rank takes an integer"):
        parse_args(SftArguments, ["--lora_rank", "eight"])


def test_validation_in_post_init():
    with pytest.raises(SartorError, match="--split_dataset_ratio"):
        SftArguments(split_dataset_ratio=1.5)
    with pytest.raises(SartorError, match="--quant_method bnb takes --quant_bits 4 or 8"):
        SftArguments(quant_method="bnb", quant_bits=3)


def test_training_arguments_pass_through():
    args, _ = parse_args(SftArguments, ["--lr_scheduler_kwargs", '{"min_lr": 0.0}', "--adam_epsilon", "1e-6"])
    assert args.training_args == {"lr_scheduler_kwargs": {"min_lr": 0.0}, "adam_epsilon": 1e-6}


def test_alias_that_does_not_apply():
    with pytest.raises(SartorError, match="--merge_lora_and_save stands for --merge_lora"):
        parse_args(SftArguments, ["--merge_lora_and_save", "true"])


def test_export_takes_ckpt_dir():
    args, _ = parse_args(ExportArguments, ["--ckpt_dir", "x", "--merge_lora", "true"])
    assert args.ckpt_dir == "x" and args.merge_lora


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sartor", *argv], capture_output=True, text=True, timeout=120)


def test_cli_unknown_flag_exits_2_without_traceback():
    r = _cli("sft", "--model", "tiny", "--lora_rnak", "8")
    assert r.returncode == 2
    assert "did you mean --lora_rank" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_help_lists_flags_with_help():
    r = _cli("--help")
    assert r.returncode == 0
    for cmd in ("sft", "pt", "rlhf", "infer", "export", "deploy", "app", "web-ui", "eval"):
        assert cmd in r.stdout
    r = _cli("sft", "--help")
    assert r.returncode == 0
    assert "--lora_rank INT" in r.stdout and "LoRA rank r." in r.stdout
    assert "--model_id_or_path" in r.stdout  # aliases are listed


def test_names_and_stop_words_keep_their_spaces_while_datasets_split():
    from sartor.arguments import InferArguments

    args, _ = parse_args(SftArguments, ["--model", "tiny", "--model_name", "小黄 Xiao Huang", "--model_author", "魔搭",
                                        "ModelScope", "--dataset", "a.json b.json,c.json"])
    assert args.model_name == ["小黄 Xiao Huang"] and args.model_author == ["魔搭", "ModelScope"]
    assert args.dataset == ["a.json", "b.json", "c.json"]
    args, _ = parse_args(InferArguments, ["--model", "tiny", "--stop_words", "### User:", "Observation:"])
    assert args.stop_words == ["### User:", "Observation:"]


def test_streaming_needs_max_steps():
    with pytest.raises(SartorError, match="--max_steps"):
        parse_args(SftArguments, ["--model", "tiny", "--streaming", "true"])
    args, _ = parse_args(SftArguments, ["--model", "tiny", "--streaming", "true", "--max_steps", "10"])
    assert args.streaming and args.max_steps == 10


def test_deprecations_name_the_right_origin(caplog):
    import logging

    logger = logging.getLogger("sartor")
    logger.addHandler(caplog.handler)
    try:
        parse_args(InferArguments, ["--do_sample", "true", "--eval_human", "true"])
        parse_args(SftArguments, ["--model_name_or_path", "m", "--evaluation_strategy", "no"])
    finally:
        logger.removeHandler(caplog.handler)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "--do_sample (ms-swift 1.x)" in text and "--eval_human (ms-swift 1.x/2.x)" in text
    assert "--model_name_or_path (Qwen finetune.py, Chinese-LLaMA-Alpaca and LLaMA-Factory)" in text
    assert "--evaluation_strategy (transformers 4.x TrainingArguments) is deprecated: use --eval_strategy" in text


def test_old_flags_that_add_data_add_it_wherever_they_stand():
    for argv in (["--self_cognition_sample", "8", "--dataset", "a.json", "--custom_train_dataset_path", "b.json"],
                 ["--custom_train_dataset_path", "b.json", "--dataset", "a.json", "--self_cognition_sample", "8"]):
        args, _ = parse_args(SftArguments, argv)
        assert sorted(args.dataset) == ["a.json", "b.json", "self-cognition#8"]
    args, _ = parse_args(SftArguments, ["--train_dataset_sample", "-1"])  # ms-swift: -1 is every row
    assert args.max_train_samples is None
