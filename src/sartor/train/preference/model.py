"""Models of preference training: the policy's reference. (The reward model, which infer and export load too:
core.reward_model.)"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Optional

import torch

from ...utils.errors import SartorError
from ...utils.logging import get_logger

if TYPE_CHECKING:
    from ...arguments import RLHFArguments

NEEDS_REFERENCE = ("dpo", "kto")


def disable_dropout(model: torch.nn.Module) -> None:
    """Dropout off everywhere (LoRA's too): policy and reference then score a sequence identically at step 0."""
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0


def _freeze(model: torch.nn.Module) -> torch.nn.Module:
    model.eval()
    model.requires_grad_(False)
    return model


def build_reference(rlhf_type: str, policy: Any, args: RLHFArguments, model_kwargs: dict) -> Optional[torch.nn.Module]:
    """The reference model, or None when none is needed or the policy provides it.

    --ref_model given: that model, frozen. LoRA: None (the trainer disables the adapter: no second copy).
    Full: a frozen copy of the policy as loaded, made before training changes it."""
    from peft import PeftModel

    if rlhf_type not in NEEDS_REFERENCE:
        if args.ref_model:
            get_logger().warning(f"--rlhf_type {rlhf_type} uses no reference model: --ref_model is ignored")
        return None
    if args.ref_model:
        from ...model.loader import get_model_tokenizer

        ref, _ = get_model_tokenizer(**{**model_kwargs, "model": args.ref_model, "model_type": None})
        vocab, ref_vocab = policy.get_input_embeddings().num_embeddings, ref.get_input_embeddings().num_embeddings
        if vocab != ref_vocab:
            raise SartorError(f"--ref_model {args.ref_model} has a vocabulary of {ref_vocab} tokens, the model {vocab}: "
                              "the reference must share the policy's tokenizer")
        return _freeze(ref)
    if isinstance(policy, PeftModel):
        if args.adapters:
            get_logger().warning("training continues from --adapters: the reference is the base model with the "
                                 "adapter disabled, not the adapter you start from")
        return None
    if getattr(policy, "is_loaded_in_4bit", False) or getattr(policy, "is_loaded_in_8bit", False):
        raise SartorError("full training of a quantised model is not supported; use --train_type lora")
    return _freeze(copy.deepcopy(policy))
