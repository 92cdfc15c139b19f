"""Labels from character spans: tokenise the whole text once, mark tokens by their offsets."""
from typing import Any, Optional

from .errors import TemplateError

IGNORE_INDEX = -100


def tokenize_with_offsets(tokenizer: Any, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Ids of `text` (no special tokens added) and each token's character offsets."""
    try:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    except NotImplementedError:
        raise TemplateError("encoding needs a fast tokenizer (one that returns offsets)") from None
    return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]


def select_spans(spans: list[tuple[int, int, int]], messages: list[dict],
                 loss_scale: str) -> list[tuple[int, int]]:
    """The spans that carry loss: every assistant turn, or only the last one; `loss` flags win."""
    assistant = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    last = assistant[-1] if assistant else None
    chosen = []
    for start, end, idx in spans:
        flag = messages[idx].get("loss")
        keep = (idx == last) if loss_scale == "last_round" else True
        if flag is not None:
            keep = bool(flag)
        if keep:
            chosen.append((start, end))
    return sorted(chosen)


def label_tokens(ids: list[int], offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[int]:
    """A token is labelled when its first character lies inside a span."""
    labels = [IGNORE_INDEX] * len(ids)
    k = 0
    for t, (start, _end) in enumerate(offsets):
        while k < len(spans) and spans[k][1] <= start:
            k += 1
        if k == len(spans):
            break
        if spans[k][0] <= start < spans[k][1]:
            labels[t] = ids[t]
    return labels


def truncate(ids: list[int], labels: list[int], max_length: Optional[int],
             strategy: str) -> Optional[tuple[list[int], list[int]]]:
    """Apply max_length: None for 'delete', else keep the last ('left') or first ('right') tokens."""
    if max_length is None or len(ids) <= max_length:
        return ids, labels
    if strategy == "delete":
        return None
    if strategy == "left":
        return ids[-max_length:], labels[-max_length:]
    return ids[:max_length], labels[:max_length]
