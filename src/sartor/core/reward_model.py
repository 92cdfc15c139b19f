"""The reward model: a sequence-classification head (one label) on the base model. rlhf --rlhf_type rm trains it;
infer scores with it and export merges its adapter, so it is loaded here, below all three."""
from typing import Any, Optional

import torch

from ..utils.errors import SartorError


def is_reward_checkpoint(ckpt: str) -> bool:
    """Whether a checkpoint (or run directory) holds a reward model: its args.json says rlhf_type rm."""
    from .runs import read_args

    return (read_args(ckpt) or {}).get("rlhf_type") == "rm"


def load_reward_model(model_kwargs: dict, model_dir: str, pad_token_id: Optional[int]) -> Any:
    """AutoModelForSequenceClassification with one label: on a causal LM checkpoint the `score` head is new, a saved
    reward model loads as it is. dtype, attention, placement and quantisation as for the policy (the same loader)."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from ..model.loader import get_model_tokenizer, resolve_model_dir

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
