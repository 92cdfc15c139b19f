"""A loaded model's context window."""
from typing import Any


def context_length(model: Any, tokenizer: Any) -> int:
    """The model's context window: its config's position limit, else the tokenizer's, else 4096."""
    config = getattr(model, "config", None)
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    return value if isinstance(value, int) and 0 < value < 10**7 else 4096
