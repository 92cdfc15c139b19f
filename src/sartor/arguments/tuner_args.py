"""Which parameters train: full, LoRA (and DoRA/rsLoRA), frozen or trainable parts."""
from dataclasses import dataclass
from typing import Literal, Optional

from ..utils.errors import SartorError
from .fields import arg


@dataclass
class TunerArguments:
    train_type: Literal["lora", "full"] = arg("lora", "lora (QLoRA with --quant_method bnb) or full.")
    target_modules: list[str] = arg(["all-linear"], "Modules that get LoRA: all-linear, or module names such as q_proj v_proj.")
    target_regex: Optional[str] = arg(None, "Regex over module names that get LoRA (overrides --target_modules).")
    modules_to_save: list[str] = arg([], "Modules trained in full beside LoRA and saved with the adapter, e.g. embed_tokens lm_head.")
    lora_rank: int = arg(8, "LoRA rank r.")
    lora_alpha: int = arg(32, "LoRA alpha (scaling = alpha / r).")
    lora_dropout: float = arg(0.05, "Dropout on the LoRA input.")
    lora_bias: Literal["none", "all", "lora_only"] = arg("none", "Which biases train with LoRA.")
    lora_dtype: Optional[Literal["bfloat16", "float16", "float32"]] = arg(None, "dtype of the LoRA weights (default: PEFT's choice, float32).")
    init_weights: str = arg("true", "LoRA init: true, false, gaussian, pissa, olora, loftq ...")
    use_dora: bool = arg(False, "Weight-decomposed LoRA (DoRA).")
    use_rslora: bool = arg(False, "Rank-stabilised LoRA scaling alpha / sqrt(r).")
    lorap_lr_ratio: Optional[float] = arg(None, "LoRA+: learning-rate ratio of B over A (e.g. 16).")
    adapters: list[str] = arg([], "Existing LoRA adapter directories to load (to continue training, or for inference).")
    freeze_parameters: list[str] = arg([], "Full training: parameter-name prefixes to freeze.")
    freeze_parameters_ratio: float = arg(0.0, "Full training: freeze this fraction of parameters from the bottom.")
    trainable_parameters: list[str] = arg([], "Parameter-name prefixes to keep trainable (wins over freezing).")
    tuner_backend: Literal["peft", "swift", "unsloth"] = arg("peft", "Library that builds the tuner: peft (swift, ms-swift 1.x/2.x's own, is read as peft; unsloth is not available yet).")

    def _validate_tuner(self) -> None:
        if self.tuner_backend == "unsloth":
            raise SartorError("--tuner_backend unsloth is not available: Sartor builds tuners with PEFT "
                              "(--tuner_backend peft, the default)")
        if self.lora_rank < 1:
            raise SartorError(f"--lora_rank must be at least 1, got {self.lora_rank}")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise SartorError(f"--lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if not 0.0 <= self.freeze_parameters_ratio <= 1.0:
            raise SartorError(f"--freeze_parameters_ratio must be in [0, 1], got {self.freeze_parameters_ratio}")
