"""The per-row encoder as it was before encoding went batched, kept frozen as the reference that the batched
path must reproduce token for token: one tokenizer call per row, labels by one scan over the offsets."""
from typing import Any, Optional

from sartor.template import Template
from sartor.template.messages import checked_messages

IGNORE_INDEX = -100


def reference_template(template: Template) -> Template:
    """`template` with its pre-filled pieces dropped, so that rendering fills every piece as it once did."""
    template._filled = {}
    return template


def reference_encode(template: Template, row: dict) -> Optional[dict]:
    """Template.encode as it was: normalise, render, append EOS where the template says, tokenise alone."""
    messages = checked_messages(row["messages"])
    rendered = template.render_spans(messages, row.get("tools"))
    text, all_spans = rendered.text, rendered.spans
    eos = getattr(template.tokenizer, "eos_token", None)
    if eos and all_spans and all_spans[-1][2] == len(messages) - 1 and template._appends_eos(text, all_spans[-1]):
        start, _, idx = all_spans[-1]
        text += eos
        all_spans = [*all_spans[:-1], (start, len(text), idx)]
    enc = template.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]
    if template.loss_scale == "all":
        labels = list(ids)
    else:
        labels = _scan_labels(ids, offsets, _select_spans(all_spans, messages, template.loss_scale))
    max_length = template.max_length
    if max_length is not None and len(ids) > max_length:
        if template.truncation_strategy == "delete":
            return None
        cut = slice(-max_length, None) if template.truncation_strategy == "left" else slice(max_length)
        ids, labels = ids[cut], labels[cut]
    return {"input_ids": ids, "labels": labels, "length": len(ids)}


def _select_spans(spans: list[tuple[int, int, int]], messages: list[dict], loss_scale: str) -> list[tuple[int, int]]:
    assistant = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    last = assistant[-1] if assistant else None
    chosen = []
    for start, end, idx in spans:
        keep = (idx == last) if loss_scale == "last_round" else True
        if messages[idx].get("loss") is not None:
            keep = bool(messages[idx]["loss"])
        if keep:
            chosen.append((start, end))
    return sorted(chosen)


def _scan_labels(ids: list[int], offsets: list[Any], spans: list[tuple[int, int]]) -> list[int]:
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
