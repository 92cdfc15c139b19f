"""Batch encoded rows: padded (right padding, labels -100) for training."""
from typing import Optional

import torch


class PaddedCollator:
    """Pad input_ids/labels to the longest row of the micro-batch."""

    def __init__(self, pad_token_id: int, pad_to_multiple_of: Optional[int] = None, padding_side: str = "right"):
        self.pad = pad_token_id
        self.multiple = pad_to_multiple_of
        self.side = padding_side

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        longest = max(len(r["input_ids"]) for r in rows)
        if self.multiple:
            longest = -(-longest // self.multiple) * self.multiple
        ids, labels, mask = [], [], []
        for r in rows:
            n = len(r["input_ids"])
            fill = longest - n
            if self.side == "right":
                ids.append(list(r["input_ids"]) + [self.pad] * fill)
                labels.append(list(r["labels"]) + [-100] * fill)
                mask.append([1] * n + [0] * fill)
            else:
                ids.append([self.pad] * fill + list(r["input_ids"]))
                labels.append([-100] * fill + list(r["labels"]))
                mask.append([0] * fill + [1] * n)
        return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}
