"""Preference rows -> token ids through the SFT template, and the collators that batch them.

A preference row is a canonical row whose last assistant message is the chosen answer and which
carries `rejected_response`; a KTO row carries `label` instead. Chosen and rejected are each
rendered as a whole conversation by `template.encode` -- the very function SFT trains on -- so the
prompt tokens are exactly what `template.encode_prompt` feeds the model at inference. Only the last
assistant message (the answer being judged) is labelled.

Encoded layouts:
- pairs (dpo, orpo, simpo, cpo, rm): chosen_input_ids, chosen_labels, rejected_input_ids, rejected_labels
- kto: prompt_ids, completion_ids, completion_labels, label (the KL term pairs prompts with other rows' completions)
"""
from typing import Any, Optional

import torch

from ...dataset.encode import drop_over_length
from ...utils.errors import SartorError

IGNORE = -100
PAIR_METHODS = ("dpo", "orpo", "simpo", "cpo", "rm")


def rejected_messages(row: dict) -> list[dict]:
    """The conversation with the last assistant answer replaced by `rejected_response`."""
    messages = row["messages"]
    return [*messages[:-1], {"role": "assistant", "content": row["rejected_response"]}]


def _check_last_assistant(row: dict) -> None:
    messages = row.get("messages") or []
    if not messages or messages[-1].get("role") != "assistant":
        raise SartorError("a preference row must end with the assistant's answer (the chosen one, or the one KTO labels)")


def _split(encoded: dict) -> tuple[list[int], list[int], list[int]]:
    """(prompt ids, response ids, response labels): the response starts at the first labelled token."""
    ids, labels = list(encoded["input_ids"]), list(encoded["labels"])
    start = next((i for i, x in enumerate(labels) if x != IGNORE), None)
    if start is None:
        raise SartorError("the last assistant answer carries no tokens to train on (empty answer, or `loss: false`?)")
    return ids[:start], ids[start:], labels[start:]


def fit(prompt: list[int], response: list[int], response_labels: list[int], max_length: Optional[int],
        max_prompt_length: Optional[int], strategy: str) -> Optional[tuple[list[int], list[int], list[int]]]:
    """Prompt and response within max_length: as they are when they fit; else None ('delete'), or the prompt
    keeps its last max_prompt_length tokens and the response its first tokens ('left'/'right')."""
    if max_length is None or len(prompt) + len(response) <= max_length:
        return prompt, response, response_labels
    if strategy == "delete":
        return None
    keep_prompt = max_prompt_length if max_prompt_length is not None else max_length // 2
    if len(prompt) > keep_prompt:
        prompt = prompt[len(prompt) - keep_prompt:]
    room = max_length - len(prompt)
    response, response_labels = response[:room], response_labels[:room]
    if not any(x != IGNORE for x in response_labels):
        return None
    return prompt, response, response_labels


class PreferenceEncoder:
    """Picklable batched encoder for datasets.map: canonical rows -> the layout of the method."""

    def __init__(self, template: Any, rlhf_type: str, max_length: Optional[int], max_prompt_length: Optional[int],
                 truncation_strategy: str = "delete"):
        from ...dataset.canonical import decode_row

        self.template, self.rlhf_type = template, rlhf_type
        self.max_length, self.max_prompt_length, self.strategy = max_length, max_prompt_length, truncation_strategy
        self.decode = decode_row

    def _encode(self, messages: list[dict], tools: Any) -> Optional[tuple[list[int], list[int], list[int]]]:
        try:
            encoded = self.template.encode({"messages": messages, "tools": tools})
        except ValueError as e:
            raise SartorError(f"cannot encode a row: {e}") from None
        return fit(*_split(encoded), self.max_length, self.max_prompt_length, self.strategy)

    def pair(self, row: dict) -> dict:
        if row.get("rejected_response") is None:
            raise SartorError(f"--rlhf_type {self.rlhf_type} needs preference pairs (chosen and rejected answers); "
                              "this dataset has rows without a rejected answer (KTO data? use --rlhf_type kto)")
        _check_last_assistant(row)
        chosen = self._encode(row["messages"], row.get("tools"))
        rejected = self._encode(rejected_messages(row), row.get("tools"))
        if chosen is None or rejected is None:  # over --max_length: kept as an empty row, dropped (and counted) later
            return {"chosen_input_ids": [], "chosen_labels": [], "rejected_input_ids": [], "rejected_labels": [],
                    "length": 0}
        out = {}
        for name, (p, r, lab) in (("chosen", chosen), ("rejected", rejected)):
            out[f"{name}_input_ids"] = p + r
            out[f"{name}_labels"] = [IGNORE] * len(p) + lab
        out["length"] = max(len(out["chosen_input_ids"]), len(out["rejected_input_ids"]))
        return out

    def kto(self, row: dict) -> list[dict]:
        """One KTO row per labelled answer; a preference pair gives two (chosen: desirable, rejected: not)."""
        _check_last_assistant(row)
        if row.get("label") is not None:
            answers = [(row["messages"], bool(row["label"]))]
        elif row.get("rejected_response") is not None:
            answers = [(row["messages"], True), (rejected_messages(row), False)]
        else:
            raise SartorError("--rlhf_type kto needs rows with a `label` (true/false) or preference pairs")
        out = []
        for messages, label in answers:
            p, r, lab = self._encode(messages, row.get("tools")) or ([], [], [])
            out.append({"prompt_ids": p, "completion_ids": r, "completion_labels": lab, "label": label,
                        "length": len(p) + len(r)})
        return out

    def __call__(self, batch: dict) -> dict:
        rows = [self.decode(dict(zip(batch, values))) for values in zip(*batch.values())]
        if self.rlhf_type == "kto":
            encoded = [e for r in rows for e in self.kto(r)]
            keys = ("prompt_ids", "completion_ids", "completion_labels", "label", "length")
        else:
            encoded = [self.pair(r) for r in rows]
            keys = ("chosen_input_ids", "chosen_labels", "rejected_input_ids", "rejected_labels", "length")
        return {k: [e[k] for e in encoded] for k in keys}


def encode_preference_dataset(dataset: Any, encoder: PreferenceEncoder, num_proc: int = 1,
                              load_from_cache_file: bool = True, desc: str = "encode", validation: bool = False) -> Any:
    """Map every row through the encoder; rows over --max_length (delete strategy) are dropped and counted, by the
    same rule as SFT (validation data left empty turns evaluation off)."""
    if dataset is None:
        return None
    kwargs: dict = {"batched": True, "batch_size": 64, "remove_columns": list(dataset.column_names or [])}
    if hasattr(dataset, "num_rows"):
        kwargs.update(num_proc=num_proc if num_proc > 1 and len(dataset) >= 2 * num_proc else None,
                      load_from_cache_file=load_from_cache_file, desc=desc)
    return drop_over_length(dataset.map(encoder, **kwargs), desc, validation)


def _pad(seqs: list[list[int]], value: int) -> torch.Tensor:
    longest = max(len(s) for s in seqs)
    return torch.tensor([list(s) + [value] * (longest - len(s)) for s in seqs], dtype=torch.long)


def _batch(ids: list[list[int]], labels: list[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    mask = [[1] * len(s) for s in ids]
    return {"input_ids": _pad(ids, pad_id), "labels": _pad(labels, IGNORE), "attention_mask": _pad(mask, 0)}


class PairCollator:
    """Chosen rows then rejected rows in one right-padded batch of 2B sequences (one forward pass)."""

    def __init__(self, pad_token_id: int):
        self.pad = pad_token_id

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        ids = [r["chosen_input_ids"] for r in rows] + [r["rejected_input_ids"] for r in rows]
        labels = [r["chosen_labels"] for r in rows] + [r["rejected_labels"] for r in rows]
        return _batch(ids, labels, self.pad)


class KTOCollator:
    """The rows, and the KL rows: prompt i with the completion of row i-1 (a mismatched pair, for z0)."""

    def __init__(self, pad_token_id: int):
        self.pad = pad_token_id

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        ids = [r["prompt_ids"] + r["completion_ids"] for r in rows]
        labels = [[IGNORE] * len(r["prompt_ids"]) + r["completion_labels"] for r in rows]
        out = _batch(ids, labels, self.pad)
        shifted = rows[-1:] + rows[:-1]
        kl_ids = [r["prompt_ids"] + s["completion_ids"] for r, s in zip(rows, shifted)]
        kl_labels = [[IGNORE] * len(r["prompt_ids"]) + s["completion_labels"] for r, s in zip(rows, shifted)]
        kl = _batch(kl_ids, kl_labels, self.pad)
        out.update({f"kl_{k}": v for k, v in kl.items()})
        out["label"] = torch.tensor([bool(r["label"]) for r in rows])
        return out
