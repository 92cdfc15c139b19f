"""Flag names from older scripts, accepted with a one-line deprecation warning.

Each alias maps the old flag's value to new-flag values. Sources: ms-swift 1.x, 2.x and 4.x, the
transformers 4.x TrainingArguments names the fine-tuning scripts pass (Qwen finetune.py,
Chinese-LLaMA-Alpaca's run_sft, LLaMA-Factory), and those scripts' own flags. Each deprecation
names where the flag comes from; a name several script families share is labelled by all of them."""
from typing import Any, Callable

from ..utils.errors import SartorError
from .fields import parse_bool, split_list

_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32", "bfloat16": "bfloat16",
           "float16": "float16", "float32": "float32", "auto": None, "AUTO": None}


def _dtype(flag: str, target: str) -> Callable[[Any], dict]:
    def conv(v: Any) -> dict:
        key = str(v)
        if key not in _DTYPES and key.lower() not in _DTYPES:
            raise SartorError(f"--{flag} takes bf16, fp16, fp32 or AUTO, got {v!r}")
        return {target: _DTYPES.get(key, _DTYPES.get(key.lower()))}
    return conv


def _rename(target: str) -> Callable[[Any], dict]:
    return lambda v: {target: v}


def _target_modules(v: Any) -> dict:
    items = split_list(v) if isinstance(v, str) else list(v)
    mapped = ["all-linear" if str(x).upper() in ("ALL", "DEFAULT", "AUTO") else x for x in items]
    return {"target_modules": mapped}


def _quantization_bit(v: Any) -> dict:
    bits = int(v)
    return {} if bits == 0 else {"quant_method": "bnb", "quant_bits": bits}


def _use_flash_attn(v: Any) -> dict:
    return {"attn_impl": "flash_attn"} if parse_bool("use_flash_attn", v) else {}


def _use_lora(v: Any) -> dict:
    return {"train_type": "lora" if parse_bool("use_lora", v) else "full"}


def _q_lora(v: Any) -> dict:
    return {"train_type": "lora", "quant_method": "bnb", "quant_bits": 4} if parse_bool("q_lora", v) else {}


def _eval_human(v: Any) -> dict:
    return {} if parse_bool("eval_human", v) else {"load_dataset_config": True}


def _percentage(v: Any) -> dict:
    x = float(v)
    return {"split_dataset_ratio": x / 100.0 if x >= 1 else x}


_NO_EFFECT_WHY = {
    "overwrite_output_dir": "each run writes a new v<N>-<time> directory",
    "load_args_from_ckpt_dir": "a checkpoint's args.json is always read",
    "save_safetensors": "weights are always saved as safetensors",
}


def _no_effect(flag: str) -> Callable[[Any], dict]:
    def conv(v: Any) -> dict:
        return {}
    conv.no_effect = True  # type: ignore[attr-defined]
    conv.why = _NO_EFFECT_WHY.get(flag, "")  # type: ignore[attr-defined]
    return conv


def _sample_count(target: str) -> Callable[[Any], dict]:
    """ms-swift's `N` rows, where -1 (or any negative) meant all of them."""
    def conv(v: Any) -> dict:
        n = int(v)
        return {} if n < 0 else {target: n}
    return conv


def _do_sample(v: Any) -> dict:
    """ms-swift 1.x infer: --do_sample false is greedy decoding (--temperature 0); true samples, as
    --temperature > 0 does."""
    return {} if parse_bool("do_sample", v) else {"temperature": 0.0}


def _self_cognition_sample(v: Any) -> dict:
    """ms-swift 2.x: N self-cognition rows mixed into the training data (--dataset self-cognition#N)."""
    n = int(v)
    return {"dataset": [f"self-cognition#{n}"]} if n > 0 else {}


def _load_in_kbits(v: Any) -> dict:
    """Chinese-LLaMA-Alpaca-2: 4 or 8 quantises the base with bitsandbytes, 16 loads it as is."""
    bits = int(v)
    if bits in (4, 8):
        return {"quant_method": "bnb", "quant_bits": bits}
    if bits == 16:
        return {}
    raise SartorError(f"--load_in_kbits takes 4, 8 or 16, got {v!r}")


def _save_safetensors(v: Any) -> dict:
    if not parse_bool("save_safetensors", v):
        from ..utils.logging import get_logger

        get_logger().warning("--save_safetensors false: Sartor always saves safetensors (no pickled weights)")
    return {}


def _template_type(v: Any) -> dict:
    """ms-swift 1.x/2.x: AUTO (or auto) was the model's own template, what --template unset means now."""
    return {} if str(v).lower() == "auto" else {"template": v}


def _check_dataset_strategy(v: Any) -> dict:
    """ms-swift 1.x/2.x: error stopped at a bad row (--strict true); none, discard and warning went on."""
    v = str(v).lower()
    if v not in ("none", "discard", "error", "warning"):
        raise SartorError(f"--check_dataset_strategy takes none, discard, error or warning, got {v!r}")
    return {"strict": v == "error"}


def _train_type(v: Any) -> dict:
    v = str(v)
    if v == "qlora":
        return {"train_type": "lora", "quant_method": "bnb", "quant_bits": 4}
    return {"train_type": "full" if v in ("full", "freeze") else v}


# old flag -> (source, converter returning {new_flag: value})
ALIASES: dict[str, tuple[str, Callable[[Any], dict]]] = {
    # ms-swift 1.x / 2.x
    "model_id_or_path": ("ms-swift 1.x/2.x", _rename("model")),
    "sft_type": ("ms-swift 1.x/2.x", _train_type),
    "template_type": ("ms-swift 1.x/2.x", _template_type),
    "dtype": ("ms-swift 1.x/2.x", _dtype("dtype", "torch_dtype")),
    "quantization_bit": ("ms-swift 1.x/2.x", _quantization_bit),
    "bnb_4bit_comp_dtype": ("ms-swift 1.x/2.x", _dtype("bnb_4bit_comp_dtype", "bnb_4bit_compute_dtype")),
    "lora_target_modules": ("ms-swift 1.x/2.x", _target_modules),
    "lora_dropout_p": ("ms-swift 1.x/2.x", _rename("lora_dropout")),
    "batch_size": ("ms-swift 1.x/2.x", _rename("per_device_train_batch_size")),
    "eval_batch_size": ("ms-swift 1.x/2.x", _rename("per_device_eval_batch_size")),
    "dataset_test_ratio": ("ms-swift 1.x/2.x", _rename("split_dataset_ratio")),
    "dataset_split_seed": ("ms-swift 1.x/2.x", _rename("data_seed")),
    "train_dataset_sample": ("ms-swift 1.x/2.x", _sample_count("max_train_samples")),
    "custom_train_dataset_path": ("ms-swift 1.x/2.x", _rename("dataset")),
    "custom_val_dataset_path": ("ms-swift 1.x/2.x", _rename("val_dataset")),
    "only_save_model": ("ms-swift 1.x/2.x", _rename("save_only_model")),
    "deepspeed_config_path": ("ms-swift 1.x/2.x", _rename("deepspeed")),
    "use_flash_attn": ("ms-swift 1.x/2.x", _use_flash_attn),
    "merge_lora_and_save": ("ms-swift 1.x/2.x", _rename("merge_lora")),
    "eval_human": ("ms-swift 1.x/2.x", _eval_human),
    "show_dataset_sample": ("ms-swift 1.x/2.x", _sample_count("val_dataset_sample")),
    "check_model_is_latest": ("ms-swift 1.x/2.x", _no_effect("check_model_is_latest")),
    "preprocess_num_proc": ("ms-swift 1.x/2.x", _rename("dataset_num_proc")),
    "check_dataset_strategy": ("ms-swift 1.x/2.x", _check_dataset_strategy),
    "do_sample": ("ms-swift 1.x", _do_sample),
    "load_args_from_ckpt_dir": ("ms-swift 1.x", _no_effect("load_args_from_ckpt_dir")),
    "self_cognition_sample": ("ms-swift 1.x/2.x", _self_cognition_sample),
    # ms-swift 4.x
    "tuner_type": ("ms-swift 4.x", _rename("train_type")),
    # transformers 4.x TrainingArguments names that the fine-tuning scripts pass
    "evaluation_strategy": ("transformers 4.x TrainingArguments", _rename("eval_strategy")),
    "overwrite_output_dir": ("transformers 4.x TrainingArguments", _no_effect("overwrite_output_dir")),
    "save_safetensors": ("transformers 4.x TrainingArguments", _save_safetensors),
    # shared by the Hugging Face fine-tuning scripts
    "model_name_or_path": ("Qwen finetune.py, Chinese-LLaMA-Alpaca and LLaMA-Factory", _rename("model")),
    # Qwen finetune.py
    "data_path": ("Qwen finetune.py", _rename("dataset")),
    "eval_data_path": ("Qwen finetune.py", _rename("val_dataset")),
    "model_max_length": ("Qwen finetune.py", _rename("max_length")),
    "use_lora": ("Qwen finetune.py", _use_lora),
    "q_lora": ("Qwen finetune.py", _q_lora),
    "lora_r": ("Qwen finetune.py", _rename("lora_rank")),
    "lora_weight_path": ("Qwen finetune.py", _rename("adapters")),
    "lazy_preprocess": ("Qwen finetune.py", _rename("lazy_tokenize")),
    # Chinese-LLaMA-Alpaca run_sft
    "tokenizer_name_or_path": ("Chinese-LLaMA-Alpaca", _rename("tokenizer")),
    "preprocessing_num_workers": ("Chinese-LLaMA-Alpaca and LLaMA-Factory", _rename("dataset_num_proc")),
    "load_in_kbits": ("Chinese-LLaMA-Alpaca-2", _load_in_kbits),
    "dataset_dir": ("Chinese-LLaMA-Alpaca", _rename("dataset")),
    "validation_file": ("Chinese-LLaMA-Alpaca", _rename("val_dataset")),
    "validation_split_percentage": ("Chinese-LLaMA-Alpaca", _percentage),
    "max_seq_length": ("Chinese-LLaMA-Alpaca", _rename("max_length")),
    "trainable": ("Chinese-LLaMA-Alpaca", _target_modules),
    "peft_path": ("Chinese-LLaMA-Alpaca", _rename("adapters")),
    # LLaMA-Factory
    "finetuning_type": ("LLaMA-Factory", _train_type),
    "lora_target": ("LLaMA-Factory", _target_modules),
    "cutoff_len": ("LLaMA-Factory", _rename("max_length")),
}


def new_names(old: str) -> str:
    """The flag(s) an alias stands for, for the deprecation message."""
    source, conv = ALIASES[old]
    if getattr(conv, "no_effect", False) or old == "save_safetensors":
        why = getattr(conv, "why", "") or _NO_EFFECT_WHY.get(old, "")
        return "nothing (it has no effect and can be removed" + (f": {why})" if why else ")")
    names = {"sft_type": "train_type", "quantization_bit": "quant_method/quant_bits", "use_flash_attn": "attn_impl",
             "use_lora": "train_type", "q_lora": "train_type/quant_method/quant_bits", "eval_human": "load_dataset_config",
             "validation_split_percentage": "split_dataset_ratio", "trainable": "target_modules",
             "lora_target_modules": "target_modules", "lora_target": "target_modules", "dtype": "torch_dtype",
             "bnb_4bit_comp_dtype": "bnb_4bit_compute_dtype", "finetuning_type": "train_type",
             "do_sample": "temperature (0 is greedy)", "self_cognition_sample": "dataset self-cognition#N",
             "load_in_kbits": "quant_method/quant_bits", "train_dataset_sample": "max_train_samples",
             "show_dataset_sample": "val_dataset_sample", "check_dataset_strategy": "strict",
             "template_type": "template"}
    if old in names:
        return "--" + names[old]
    probe = conv("x")
    return "--" + next(iter(probe))
