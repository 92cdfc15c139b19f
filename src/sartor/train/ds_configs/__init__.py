"""Built-in DeepSpeed configs for `--deepspeed zero0|zero1|zero2|zero3|zero2_offload|zero3_offload`.

Their "auto" values (batch sizes, accumulation, clipping, precision, optimizer settings, bucket sizes) are filled
by transformers' HfTrainerDeepSpeedConfig from the training arguments and the model, so one file fits every run.
The non-offload configs have no optimizer block: the Trainer's own optimizer and scheduler (--optim,
--lr_scheduler_type) run under ZeRO. The offload configs name AdamW, which DeepSpeed runs as its CPU Adam
(ZeRO-Offload refuses a torch optimizer). ZeRO-3 gathers 16-bit weights when saving, so a checkpoint holds whole
tensors (for LoRA, peft keeps only the adapter's keys of that gathered state dict)."""
import json
from pathlib import Path
from typing import Any

from ...utils.errors import SartorError

CONFIG_DIR = Path(__file__).resolve().parent
BUILTIN = ("zero0", "zero1", "zero2", "zero3", "zero2_offload", "zero3_offload")


def builtin_path(name: str) -> str:
    return str(CONFIG_DIR / f"{name}.json")


def resolve_deepspeed(value: str | None) -> str | None:
    """--deepspeed as a JSON file path for TrainingArguments: a built-in name (zero2, zero3-offload, default-zero2)
    or a JSON file of the user's."""
    if not value:
        return None
    key = value.strip().lower().replace("-", "_")
    key = key.removeprefix("default_")  # ms-swift 2.x: default-zero2
    if key in BUILTIN:
        return builtin_path(key)
    path = Path(value).expanduser()
    if path.is_file():
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise SartorError(f"--deepspeed {value}: not valid JSON ({e})") from None
        return str(path)
    raise SartorError(f"--deepspeed {value}: give one of {', '.join(BUILTIN)} or an existing DeepSpeed JSON file")


def load_config(value: str) -> dict[str, Any]:
    """The config --deepspeed names, as a dict (auto values unfilled)."""
    path = resolve_deepspeed(value)
    assert path is not None
    return json.loads(Path(path).read_text(encoding="utf-8"))


def zero_stage(value: str | None) -> int | None:
    """The ZeRO stage of --deepspeed (None without DeepSpeed)."""
    if not value:
        return None
    return int(load_config(value).get("zero_optimization", {}).get("stage", 0))


def offloads(value: str | None) -> tuple[bool, bool]:
    """Whether --deepspeed offloads (optimizer states, parameters) to the CPU."""
    if not value:
        return False, False
    zero = load_config(value).get("zero_optimization", {})

    def on_cpu(key: str) -> bool:
        return str((zero.get(key) or {}).get("device", "none")).lower() in ("cpu", "nvme")

    return on_cpu("offload_optimizer"), on_cpu("offload_param")
