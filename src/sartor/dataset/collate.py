"""Batch encoded rows: padded (right padding, labels -100), or padding-free (one flattened sequence)."""
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


class PaddingFreeCollator:
    """Flatten the micro-batch into one sequence of shape [1, total]; position ids restart per row.

    No attention mask is returned: the model derives a block-diagonal causal mask from the
    position ids, so attention never crosses rows. The first label of each row is masked,
    since in the flat sequence it would be predicted from the previous row."""

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        ids, labels, pos = [], [], []
        for r in rows:
            n = len(r["input_ids"])
            ids += list(r["input_ids"])
            row_pos = list(r["position_ids"]) if r.get("position_ids") is not None else list(range(n))
            row_labels = list(r["labels"])
            labels += [-100 if p == 0 else lab for p, lab in zip(row_pos, row_labels)]
            pos += row_pos
        return {"input_ids": torch.tensor([ids]), "labels": torch.tensor([labels]), "position_ids": torch.tensor([pos])}


def build_collator(tokenizer, padding_free: bool, packing: bool, pad_to_multiple_of: Optional[int] = None):
    """The collator the training arguments ask for (packed rows are always flattened)."""
    if padding_free or packing:
        return PaddingFreeCollator()
    return PaddedCollator(tokenizer.pad_token_id, pad_to_multiple_of)
