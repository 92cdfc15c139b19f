"""Models of preference training: the policy's reference, and the reward model (a scalar head on the base)."""
import copy
from typing import Any, Optional

import torch

from ...utils.errors import SartorError
from ...utils.logging import get_logger

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


def build_reference(rlhf_type: str, policy: Any, args: Any, model_kwargs: dict) -> Optional[torch.nn.Module]:
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


def is_reward_checkpoint(ckpt: str) -> bool:
    """Whether a checkpoint (or run directory) holds a reward model: its args.json says rlhf_type rm."""
    from ...core.runs import read_args

    return (read_args(ckpt) or {}).get("rlhf_type") == "rm"


def load_reward_model(model_kwargs: dict, model_dir: str, pad_token_id: Optional[int]) -> Any:
    """AutoModelForSequenceClassification with one label: on a causal LM checkpoint the `score` head is new, a saved
    reward model loads as it is. dtype, attention, placement and quantisation as for the policy (the same loader)."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from ...model.loader import get_model_tokenizer, resolve_model_dir

    local = resolve_model_dir(model_dir, use_hf=model_kwargs.get("use_hf", True),
                              revision=model_kwargs.get("model_revision"), token=model_kwargs.get("hub_token"))
    try:
        config = AutoConfig.from_pretrained(local, num_labels=1,
                                            trust_remote_code=bool(model_kwargs.get("trust_remote_code")))
        if pad_token_id is not None:
            config.pad_token_id = pad_token_id  # the head reads the score at the last non-pad token
        extra = {**(model_kwargs.get("model_kwargs") or {}), "config": config}
        model, _ = get_model_tokenizer(**{**model_kwargs, "model": local, "model_kwargs": extra,
                                          "auto_class": AutoModelForSequenceClassification})
    except ValueError as e:
        raise SartorError(f"cannot build a reward model (sequence classification head) on {model_dir}: {e}") from None
    return model


@torch.no_grad()
def reward_scores(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """One scalar per row (the head's output at the row's last token)."""
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).logits[:, 0]
