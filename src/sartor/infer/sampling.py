"""Choosing the next token of each row of a batch, each row with its own sampling settings and seed.

The order of the logits processors matches transformers' `generate` (penalties, temperature, top-k,
top-p), so greedy answers equal `generate`'s and sampled answers follow the same distribution."""
from dataclasses import dataclass
from typing import Any, Optional

import torch


@dataclass
class SamplingParams:
    """What one sequence needs to pick its tokens. temperature 0 means greedy."""

    temperature: float = 0.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: Optional[int] = None
    top_logprobs: Optional[int] = None  # None: no logprobs; 0: the chosen token's only; k: and the k most likely

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0

    def make_generator(self, device: Any = "cpu") -> Optional[torch.Generator]:
        """A private random stream, so a seeded request samples the same tokens however it is batched."""
        if self.greedy:
            return None
        gen = torch.Generator(device=device)
        if self.seed is None:
            gen.seed()
        else:
            gen.manual_seed(int(self.seed) & 0xFFFF_FFFF_FFFF_FFFF)
        return gen


@dataclass
class TokenChoice:
    token_id: int
    logprob: Optional[float] = None
    top: Optional[list[tuple[int, float]]] = None  # (token id, logprob), most likely first


def apply_penalties(logits: torch.Tensor, params: SamplingParams, seen: torch.Tensor,
                    generated: torch.Tensor) -> torch.Tensor:
    """Repetition penalty over prompt and answer (transformers' rule); presence and frequency
    penalties over the answer (OpenAI's rule). `logits` is one row, changed in place."""
    if params.repetition_penalty != 1.0 and seen.numel():
        picked = logits.gather(0, seen)
        picked = torch.where(picked < 0, picked * params.repetition_penalty, picked / params.repetition_penalty)
        logits.scatter_(0, seen, picked)
    if (params.presence_penalty or params.frequency_penalty) and generated.numel():
        counts = torch.bincount(generated, minlength=logits.shape[0]).to(logits.dtype)
        logits -= params.frequency_penalty * counts + params.presence_penalty * (counts > 0).to(logits.dtype)
    return logits


def warp(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """Temperature, then top-k, then top-p, as transformers' logits warpers do them (one row)."""
    logits = logits / params.temperature
    vocab = logits.shape[-1]
    if 0 < params.top_k < vocab:
        kth = torch.topk(logits, params.top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if params.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=False)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        remove = cumulative <= (1 - params.top_p)
        remove[-1] = False  # always keep the most likely token
        logits = logits.masked_fill(remove.scatter(0, order, remove), float("-inf"))
    return logits


def choose_tokens(logits: torch.Tensor, params: list[SamplingParams], generators: list[Optional[torch.Generator]],
                  histories: list[list[int]], prompt_lens: list[int]) -> list[TokenChoice]:
    """One token per row of `logits` [batch, vocab]; `histories` are the prompt ids followed by the
    answer so far (for the penalties)."""
    logits = logits.float()
    raw = logits
    needs_penalty = [p.repetition_penalty != 1.0 or p.presence_penalty or p.frequency_penalty for p in params]
    if any(needs_penalty):
        logits = logits.clone()
        for i, p in enumerate(params):
            if needs_penalty[i]:
                hist = torch.tensor(histories[i], dtype=torch.long, device=logits.device)
                apply_penalties(logits[i], p, hist.unique(), hist[prompt_lens[i]:])
    greedy_ids = logits.argmax(-1).tolist()
    chosen: list[int] = []
    for i, p in enumerate(params):
        if p.greedy:
            chosen.append(greedy_ids[i])
            continue
        probs = warp(logits[i], p).softmax(-1)
        if not bool(torch.isfinite(probs).all()) or float(probs.sum()) <= 0:
            # a temperature (or penalty) so extreme that the distribution overflows: its limit, greedy
            chosen.append(greedy_ids[i])
            continue
        chosen.append(int(torch.multinomial(probs, 1, generator=generators[i]).item()))
    choices = [TokenChoice(t) for t in chosen]
    wants = [i for i, p in enumerate(params) if p.top_logprobs is not None]
    if wants:
        logprobs = raw[wants].log_softmax(-1)
        for row, i in enumerate(wants):
            choices[i].logprob = float(logprobs[row, chosen[i]])
            k = params[i].top_logprobs or 0
            if k > 0:
                values, ids = torch.topk(logprobs[row], min(k, logprobs.shape[-1]))
                choices[i].top = list(zip(ids.tolist(), values.tolist()))
    return choices
