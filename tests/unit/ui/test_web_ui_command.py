"""The web UI's forms become exactly the argv a shell user would type, and parse as the command will."""
import shlex

import pytest

from sartor.arguments import ExportArguments, InferArguments, RLHFArguments, SftArguments
from sartor.arguments.parser import parse_args
from sartor.ui.web_ui.command import (check_argv, default_output_dir, export_argv, infer_argv, number,
                                      process_command, shell_command, train_argv)
from sartor.utils.errors import SartorError

FORM = {"model": "tiny", "kind": "sft", "rlhf_type": "dpo", "train_type": "full", "datasets": ["self-cognition#400"],
        "learning_rate": 0.002, "num_train_epochs": 1.0, "max_steps": 40, "per_device_train_batch_size": 8,
        "gradient_accumulation_steps": 1, "lora_rank": 8, "lora_alpha": 32, "max_length": 0, "model_name": "Sartor",
        "model_author": "Acme", "output_dir": "output/tiny", "extra": "--split_dataset_ratio 0 --report_to none"}


def test_train_form_to_argv():
    assert train_argv(FORM) == [
        "sft", "--model", "tiny", "--dataset", "self-cognition#400", "--train_type", "full", "--learning_rate", "0.002",
        "--num_train_epochs", "1", "--max_steps", "40", "--per_device_train_batch_size", "8",
        "--gradient_accumulation_steps", "1", "--model_name", "Sartor", "--model_author", "Acme",
        "--output_dir", "output/tiny", "--split_dataset_ratio", "0", "--report_to", "none"]


def test_train_argv_parses_to_the_form_values():
    args, explicit = parse_args(SftArguments, train_argv(FORM)[1:])
    assert args.model == "tiny" and args.dataset == ["self-cognition#400"] and args.train_type == "full"
    assert args.learning_rate == 0.002 and args.num_train_epochs == 1 and args.max_steps == 40
    assert args.per_device_train_batch_size == 8 and args.gradient_accumulation_steps == 1
    assert args.model_name == ["Sartor"] and args.model_author == ["Acme"] and args.split_dataset_ratio == 0
    assert args.max_length is None  # 0 in the form: left to the model's default
    assert "lora_rank" not in explicit  # LoRA settings only for LoRA


def test_lora_and_rlhf_fields():
    argv = train_argv({**FORM, "kind": "rlhf", "rlhf_type": "orpo", "train_type": "lora", "lora_rank": 16,
                       "lora_alpha": 64, "max_steps": -1, "gradient_accumulation_steps": None, "extra": ""})
    assert argv[0] == "rlhf" and argv[argv.index("--rlhf_type") + 1] == "orpo"
    assert "--max_steps" not in argv and "--gradient_accumulation_steps" not in argv
    args, _ = parse_args(RLHFArguments, argv[1:])
    assert args.rlhf_type == "orpo" and args.lora_rank == 16 and args.lora_alpha == 64
    assert "--rlhf_type" not in train_argv(FORM)


def test_two_part_self_cognition_names_and_quoting():
    argv = train_argv({**FORM, "model_name": "小黄 'Xiao Huang'", "output_dir": "my runs/tiny", "datasets": ["a b.jsonl"]})
    assert argv[argv.index("--model_name") + 1: argv.index("--model_author")] == ["小黄", "Xiao Huang"]
    line = shell_command(argv)
    assert line.startswith("sartor sft ") and "'my runs/tiny'" in line and "'a b.jsonl'" in line
    assert shlex.split(line)[1:] == argv  # what a shell gives the program is what the UI launches
    assert process_command(argv)[1:] == ["-m", "sartor", *argv]


def test_numbers_are_written_as_flags():
    assert number(2e-5) == "2e-05" and number(0.002) == "0.002" and number(1.0) == "1" and number(8) == "8"
    assert float(number(1e-4)) == 1e-4


def test_bad_forms_are_user_errors():
    with pytest.raises(SartorError, match="unclosed|split"):
        train_argv({**FORM, "extra": "--system 'oops"})
    with pytest.raises(SartorError, match="did you mean --learning_rate"):
        check_argv(train_argv({**FORM, "extra": "--learning_rat 1"}))
    with pytest.raises(SartorError, match="kind"):
        train_argv({**FORM, "kind": "dpo"})
    check_argv(train_argv(FORM))


def test_export_argv():
    assert export_argv({"ckpt_dir": "out/v0/checkpoint-5", "merge_lora": True, "quant_method": "", "quant_bits": "8"}) \
        == ["export", "--ckpt_dir", "out/v0/checkpoint-5", "--merge_lora", "true"]
    argv = export_argv({"ckpt_dir": "c", "merge_lora": False, "quant_method": "torchao", "quant_bits": "4",
                        "output_dir": "q", "extra": "--group_size 32"})
    assert argv == ["export", "--ckpt_dir", "c", "--quant_method", "torchao", "--quant_bits", "4", "--output_dir", "q",
                    "--group_size", "32"]
    args, _ = parse_args(ExportArguments, argv[1:])
    assert args.quant_method == "torchao" and args.quant_bits == 4
    with pytest.raises(SartorError, match="checkpoint"):
        export_argv({"ckpt_dir": "", "merge_lora": True})
    with pytest.raises(SartorError, match="Merge LoRA"):
        export_argv({"ckpt_dir": "c", "merge_lora": False, "quant_method": ""})


def test_infer_argv():
    argv = infer_argv({"ckpt_dir": "c", "val_dataset": "val.jsonl", "result_path": "r.jsonl", "val_dataset_sample": 0,
                       "temperature": 0, "max_new_tokens": 32})
    assert argv == ["infer", "--ckpt_dir", "c", "--val_dataset", "val.jsonl", "--result_path", "r.jsonl",
                    "--temperature", "0", "--max_new_tokens", "32"]
    args, _ = parse_args(InferArguments, argv[1:])
    assert args.val_dataset == ["val.jsonl"] and args.temperature == 0 and args.max_new_tokens == 32
    with pytest.raises(SartorError, match="validation data"):
        infer_argv({"ckpt_dir": "c", "val_dataset": " ", "result_path": "r"})


def test_default_output_dir():
    assert default_output_dir("output", "Qwen/Qwen2.5-0.5B-Instruct") == "output/Qwen2.5-0.5B-Instruct"
    assert default_output_dir("output", "/models/my-model/") == "output/my-model"
