"""LoRA+: the B matrices learn `ratio` times faster than A (Hayou et al., 2024)."""
from typing import Any

import torch


def lora_plus_param_groups(model: Any, lr: float, ratio: float, weight_decay: float) -> list[dict]:
    """AdamW parameter groups: lora_B (and embedding B) at lr * ratio; no decay on biases and norms."""
    groups: dict[tuple[bool, bool], list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        is_b = "lora_B" in name or "lora_embedding_B" in name
        no_decay = p.ndim < 2 or name.endswith(".bias") or "norm" in name.lower()
        groups.setdefault((is_b, no_decay), []).append(p)
    return [{"params": ps, "lr": lr * ratio if is_b else lr, "weight_decay": 0.0 if no_decay else weight_decay}
            for (is_b, no_decay), ps in groups.items()]


def lora_plus_optimizer(model: Any, training_args: Any, ratio: float) -> torch.optim.Optimizer:
    """AdamW over LoRA+ groups with the run's betas, epsilon and (on CUDA) the fused kernel."""
    groups = lora_plus_param_groups(model, training_args.learning_rate, ratio, training_args.weight_decay)
    fused = torch.cuda.is_available() and "fused" in str(training_args.optim)
    return torch.optim.AdamW(groups, lr=training_args.learning_rate, betas=(training_args.adam_beta1, training_args.adam_beta2),
                             eps=training_args.adam_epsilon, fused=fused or None)
