"""Preference-training settings."""
from dataclasses import dataclass
from typing import Literal, Optional

from ..utils.errors import SartorError
from .fields import arg


@dataclass
class RLHFConcernArguments:
    rlhf_type: Literal["dpo", "orpo", "simpo", "cpo", "kto", "rm"] = arg("dpo", "Preference method.")
    ref_model: Optional[str] = arg(None, "Reference model (default: the base with the adapter disabled for LoRA, a frozen copy for full).")
    beta: Optional[float] = arg(None, "Preference temperature beta (default 0.1; 2.0 for simpo).")
    label_smoothing: float = arg(0.0, "Robust-DPO label smoothing.")
    rpo_alpha: Optional[float] = arg(None, "Weight of the SFT loss on chosen answers added to DPO (RPO).")
    cpo_alpha: float = arg(1.0, "Weight of the NLL term in CPO/SimPO.")
    simpo_gamma: float = arg(1.0, "SimPO target reward margin.")
    desirable_weight: float = arg(1.0, "KTO weight of desirable rows.")
    undesirable_weight: float = arg(1.0, "KTO weight of undesirable rows.")
    loss_type: Optional[str] = arg(None, "Loss variant of the method (e.g. sigmoid, hinge, ipo for dpo).")
    max_prompt_length: Optional[int] = arg(None, "Longest prompt in tokens (default: half of --max_length).")

    def _validate_rlhf(self) -> None:
        if self.beta is not None and self.beta <= 0:
            raise SartorError(f"--beta must be positive, got {self.beta}")
