"""The web UI's forms as `sartor` argv: the page previews, validates and launches the same list.

A run launched from the page and the previewed command typed in a shell get the same argv,
hence the same args.json (apart from the run directory)."""
import os
import shlex
import sys
from typing import TYPE_CHECKING, Any, Optional

from ...utils.errors import SartorError

if TYPE_CHECKING:
    from .guard import Policy

TRAIN_COMMANDS = ("sft", "pt", "rlhf")
RLHF_TYPES = ("dpo", "orpo", "simpo", "cpo", "kto", "rm")
TRAIN_TYPES = ("lora", "full")
QUANT_METHODS = ("torchao", "hqq", "bnb", "fp8", "gptq", "awq")


def number(value: Any) -> str:
    """A number as a flag value: whole numbers without a fraction, others as Python writes them (2e-05, 0.002)."""
    x = float(value)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _words(text: Optional[str]) -> list[str]:
    try:
        return shlex.split(text or "")
    except ValueError as e:  # an unclosed quote
        raise SartorError(f"cannot split {text!r} into words: {e}") from None


def train_argv(form: dict) -> list[str]:
    """`[command, --flag, value, ...]` from the Train form; empty fields are left to the command's defaults."""
    kind = form.get("kind") or "sft"
    if kind not in TRAIN_COMMANDS:
        raise SartorError(f"training kind must be one of {', '.join(TRAIN_COMMANDS)}, got {kind!r}")
    argv = [kind]
    if _given(form.get("model")):
        argv += ["--model", str(form["model"]).strip()]
    datasets = [str(d).strip() for d in (form.get("datasets") or []) if _given(d)]
    if datasets:
        argv += ["--dataset", *datasets]
    if kind == "rlhf":
        argv += ["--rlhf_type", form.get("rlhf_type") or "dpo"]
    train_type = form.get("train_type") or "lora"
    argv += ["--train_type", train_type]
    if train_type == "lora":
        for key in ("lora_rank", "lora_alpha"):
            if _given(form.get(key)):
                argv += [f"--{key}", number(form[key])]
    for key in ("learning_rate", "num_train_epochs"):
        if _given(form.get(key)):
            argv += [f"--{key}", number(form[key])]
    if _given(form.get("max_steps")) and float(form["max_steps"]) > 0:
        argv += ["--max_steps", number(form["max_steps"])]
    for key in ("per_device_train_batch_size", "gradient_accumulation_steps", "max_length"):
        if _given(form.get(key)) and float(form[key]) > 0:
            argv += [f"--{key}", number(form[key])]
    for key in ("model_name", "model_author"):
        words = _words(form.get(key))
        if words:
            argv += [f"--{key}", *words]
    if _given(form.get("output_dir")):
        argv += ["--output_dir", str(form["output_dir"]).strip()]
    return argv + _words(form.get("extra"))


def export_argv(form: dict) -> list[str]:
    """`export --ckpt_dir ... [--merge_lora true] [--quant_method M --quant_bits B] [--output_dir D] ...`."""
    if not _given(form.get("ckpt_dir")):
        raise SartorError("pick a checkpoint to export")
    argv = ["export", "--ckpt_dir", str(form["ckpt_dir"]).strip()]
    if form.get("merge_lora"):
        argv += ["--merge_lora", "true"]
    if _given(form.get("quant_method")):
        argv += ["--quant_method", form["quant_method"]]
        if _given(form.get("quant_bits")):
            argv += ["--quant_bits", number(form["quant_bits"])]
    if _given(form.get("output_dir")):
        argv += ["--output_dir", str(form["output_dir"]).strip()]
    argv += _words(form.get("extra"))
    if len(argv) == 3:
        raise SartorError("choose Merge LoRA and/or a quantisation method")
    return argv


def infer_argv(form: dict) -> list[str]:
    """`infer --ckpt_dir X --val_dataset F --result_path P ...`: generation over a validation file."""
    if not _given(form.get("ckpt_dir")):
        raise SartorError("pick a checkpoint to evaluate")
    if not _given(form.get("val_dataset")):
        raise SartorError("give validation data (a file or a registered name)")
    argv = ["infer", "--ckpt_dir", str(form["ckpt_dir"]).strip(), "--val_dataset", *_words(form["val_dataset"]),
            "--result_path", str(form["result_path"])]
    if _given(form.get("val_dataset_sample")) and float(form["val_dataset_sample"]) > 0:
        argv += ["--val_dataset_sample", number(form["val_dataset_sample"])]
    for key in ("temperature", "max_new_tokens"):
        if _given(form.get(key)):
            argv += [f"--{key}", number(form[key])]
    return argv


def shell_command(argv: list[str]) -> str:
    """The command a user types: `sartor sft --model tiny ...`, each word shell-quoted."""
    return shlex.join(["sartor", *argv])


def process_command(argv: list[str]) -> list[str]:
    """What the web UI runs: `python -m sartor <argv>` (the same program as `sartor`)."""
    return [sys.executable, "-m", "sartor", *argv]


def args_class(command: str) -> type:
    from ... import arguments

    classes = {"sft": arguments.SftArguments, "pt": arguments.PtArguments, "rlhf": arguments.RLHFArguments,
               "export": arguments.ExportArguments, "infer": arguments.InferArguments}
    if command not in classes:
        raise SartorError(f"the web UI runs {', '.join(classes)}, not {command!r}")
    return classes[command]


def check_argv(argv: list[str], policy: Optional["Policy"] = None) -> None:
    """Parse argv as the command will (flags, choices, value types), so a bad form fails here, not in a log; with a
    policy, also refuse what the browser may not do (guard.py): flags that run code, paths outside the UI's folders."""
    from ...arguments.parser import parse_args
    from .guard import absolute_configs, check_before_parse, check_parsed

    if policy is not None:
        check_before_parse(argv, policy)
        argv = absolute_configs(argv, policy)  # config files as the command, in the policy's directory, reads them
    args, explicit = parse_args(args_class(argv[0]), argv[1:])
    if policy is not None:
        check_parsed(argv[0], args, explicit, policy)


def default_output_dir(root: str, model: Optional[str]) -> str:
    """<web UI output dir>/<last path component of the model>."""
    name = os.path.basename(os.path.normpath(model or "model")) or "model"
    return os.path.join(root, name)
