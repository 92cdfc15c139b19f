"""--predict_with_generate: answer the validation prompts greedily and score ROUGE-L and BLEU-4.

The answers come from transformers' `generate` on the model being trained (left-padded batches, greedy), not from
the inference engine: train and infer are peers, and one evaluation needs no request scheduler."""
from contextlib import nullcontext
from typing import Any

import torch

from ..model.context import context_length
from ..utils.logging import get_logger


class GenerationEvaluator:
    """Called by the trainer at each evaluation with the model being trained."""

    def __init__(self, template: Any, rows: Any, max_batch_size: int = 16, limit: int | None = 256):
        from ..dataset.canonical import decode_row, split_prompt

        items = [decode_row(r) for r in (rows.select(range(min(limit, len(rows)))) if limit else rows)]
        pairs = [split_prompt(r) for r in items]
        self.prompts = [p for p, label in pairs if label is not None]
        self.labels = [label for _, label in pairs if label is not None]
        self.template = template
        self.max_batch_size = max_batch_size
        tok = template.tokenizer
        longest = max((len(tok(label, add_special_tokens=False)["input_ids"]) for label in self.labels), default=16)
        self.max_new_tokens = min(512, longest + 16)

    @torch.no_grad()
    def __call__(self, model: Any, autocast_dtype: torch.dtype | None = None) -> dict[str, float]:
        from ..core.metrics import generation_metrics

        if not self.prompts:
            return {}
        was_training = model.training
        model.eval()
        try:
            answers: list[str] = []
            for start in range(0, len(self.prompts), self.max_batch_size):
                answers += self.answer(model, self.prompts[start:start + self.max_batch_size], autocast_dtype)
        finally:
            model.train(was_training)
        metrics = generation_metrics(answers, self.labels)
        get_logger().info(f"generation eval on {len(self.prompts)} rows: {metrics}")
        return metrics

    def answer(self, model: Any, conversations: list[list[dict]],
               autocast_dtype: torch.dtype | None = None) -> list[str]:
        """Greedy answers to the conversations, cut at the first stop token or stop word of the template."""
        tok = self.template.tokenizer
        stop_ids, stop_texts = stops_of(model, self.template)
        pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
        prompts = [self.template.encode_prompt(messages) for messages in conversations]
        longest = max(len(p) for p in prompts)
        room = min(self.max_new_tokens, context_length(model, tok) - longest)
        if room < 1:  # no room to answer: empty answers, as the inference engine gives
            return ["" for _ in prompts]
        device = next(model.parameters()).device
        ids = torch.tensor([[pad] * (longest - len(p)) + p for p in prompts], device=device)
        mask = torch.tensor([[0] * (longest - len(p)) + [1] * len(p) for p in prompts], device=device)
        precision = torch.autocast(device.type, dtype=autocast_dtype) if autocast_dtype is not None else nullcontext()
        with precision:
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=room, do_sample=False,
                                 temperature=None, top_k=None, top_p=None, num_beams=1,
                                 eos_token_id=sorted(stop_ids), pad_token_id=pad)
        answers = []
        for row in out[:, longest:].tolist():
            end = next((i for i, t in enumerate(row) if t in stop_ids), len(row))
            text = tok.decode(row[:end], skip_special_tokens=True)
            cut = min((i for w in stop_texts if (i := text.find(w)) != -1), default=len(text))
            answers.append(text[:cut])
        return answers


def stops_of(model: Any, template: Any) -> tuple[set[int], list[str]]:
    """(stop token ids, stop strings): EOS of the model and tokenizer, and the template's stop words (a stop word that
    is one special token is matched by id, the others as text)."""
    tok = template.tokenizer
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = set(gen_eos if isinstance(gen_eos, (list, tuple)) else [gen_eos] if gen_eos is not None else [])
    if tok.eos_token_id is not None:
        ids.add(tok.eos_token_id)
    special = set(tok.all_special_tokens) | set(getattr(tok, "added_tokens_encoder", {}) or {})
    texts = []
    for word in dict.fromkeys(w for w in (getattr(template, "stop_words", None) or []) if w):
        tid = tok.convert_tokens_to_ids(word) if word in special else None
        if isinstance(tid, int) and tid >= 0 and tid != getattr(tok, "unk_token_id", None):
            ids.add(tid)
        else:
            texts.append(word)
    return ids, texts

