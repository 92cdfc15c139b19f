"""Labels from character spans: tokenise whole texts (a batch at a time), mark tokens by their offsets."""
from bisect import bisect_left
from operator import itemgetter
from typing import Any, Optional, Sequence

from .errors import TemplateError

IGNORE_INDEX = -100
_START = itemgetter(0)


def tokenize_batch_with_offsets(tokenizer: Any, texts: Sequence[str]) -> tuple[list[list[int]], list[list]]:
    """Ids and character offsets of every text, from one call of the fast tokenizer (no special tokens added)."""
    if not texts:
        return [], []
    try:
        enc = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True,
                        return_attention_mask=False, return_token_type_ids=False)
    except NotImplementedError:
        raise TemplateError("encoding needs a fast tokenizer (one that returns offsets)") from None
    return enc["input_ids"], enc["offset_mapping"]


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


def label_tokens(ids: list[int], offsets: Sequence[Sequence[int]], spans: list[tuple[int, int]]) -> list[int]:
    """A token is labelled when its first character lies inside a span (`spans` sorted by start)."""
    labels = [IGNORE_INDEX] * len(ids)
    if not spans:
        return labels
    if isinstance(offsets, list) and offsets == sorted(offsets):  # tokens in text order (fast tokenizers): bisect
        for start, end in spans:
            i = bisect_left(offsets, start, key=_START)
            j = bisect_left(offsets, end, lo=i, key=_START)
            labels[i:j] = ids[i:j]
        return labels
    return _label_tokens_scan(ids, offsets, spans, labels)


def _label_tokens_scan(ids: list[int], offsets: Sequence[Sequence[int]], spans: list[tuple[int, int]],
                       labels: list[int]) -> list[int]:
    """label_tokens for offsets out of text order: one pass with a cursor over the spans."""
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
