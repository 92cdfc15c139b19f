"""The transformers inference engine: continuous batching, streaming, stop words, several LoRA adapters.

Every request, from `infer`, `stream`, `generate` or `agenerate` and from any thread, goes to one
background worker (see scheduler.py) that batches the requests running at the same time, so
concurrent callers (the deploy server's clients) share forward passes. Greedy answers are the same
batched or alone. Beam search (num_beams > 1) runs through transformers' `generate` instead."""
import asyncio
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterator, Optional

import torch

from ..arguments.generation_args import SAMPLING, GenerationArguments
from ..model.context import context_length
from ..utils.errors import SartorError
from .adapters import AdapterSet
from .detokenize import cut_at_stop  # noqa: F401  (kept importable from here for existing callers)
from .sampling import SamplingParams, TokenChoice
from .scheduler import BatchScheduler, GenerationEvent, GenerationRequest, SchedulerStats

__all__ = ["Completion", "GenerationEvent", "PtEngine", "RequestConfig", "SchedulerStats", "cut_at_stop"]


@dataclass
class RequestConfig:
    """Sampling settings of one request. temperature 0 means greedy."""

    max_new_tokens: int = SAMPLING.max_new_tokens
    temperature: float = SAMPLING.temperature
    top_k: int = SAMPLING.top_k
    top_p: float = SAMPLING.top_p
    repetition_penalty: float = SAMPLING.repetition_penalty
    num_beams: int = 1
    stop: list[str] = field(default_factory=list)
    seed: Optional[int] = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    logprobs: bool = False
    top_logprobs: int = 0

    @classmethod
    def from_args(cls, args: GenerationArguments) -> "RequestConfig":
        return cls(max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                   repetition_penalty=args.repetition_penalty, num_beams=args.num_beams, stop=list(args.stop_words))

    def sampling(self) -> SamplingParams:
        return SamplingParams(temperature=self.temperature, top_k=self.top_k, top_p=self.top_p,
                              repetition_penalty=self.repetition_penalty, presence_penalty=self.presence_penalty,
                              frequency_penalty=self.frequency_penalty, seed=self.seed,
                              top_logprobs=self.top_logprobs if self.logprobs else None)


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" or "length"
    token_ids: list[int] = field(default_factory=list)
    logprobs: Optional[list[TokenChoice]] = None


class PtEngine:
    """Generation with a transformers model and a template; safe to call from many threads at once."""

    def __init__(self, model: Any, tokenizer: Any, template: Any, max_batch_size: int = 16,
                 max_model_len: Optional[int] = None, gather_ms: float = 2.0) -> None:
        self.tokenizer = tokenizer
        self.template = template
        self.max_batch_size = max_batch_size
        self.adapters = AdapterSet(model)
        self.max_model_len = max_model_len or context_length(model, tokenizer)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.scheduler = BatchScheduler(lambda: self.model, tokenizer, pad_token_id=pad if pad is not None else 0,
                                        activate_adapter=self.adapters.activate, max_batch_size=max_batch_size,
                                        gather_ms=gather_ms)
        self.eos_token_ids = self._eos_ids()
        self._special = set(tokenizer.all_special_tokens) | set(getattr(tokenizer, "added_tokens_encoder", {}) or {})
        template_stops = list(getattr(template, "stop_words", []) or [])
        self._template_stop_ids, self._template_stops = self._split_stops(template_stops)

    # -- model and adapters ------------------------------------------------------------------------------
    @property
    def model(self) -> Any:
        return self.adapters.model

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def stats(self) -> SchedulerStats:
        return self.scheduler.stats

    def add_adapter(self, name: str, path: str) -> None:
        """Serve the LoRA adapter at `path` as `name` (requests choose it with adapter=name)."""
        with self.scheduler.lock:
            self.adapters.add(name, path)

    def close(self) -> None:
        """Stop the background worker (pending requests end with finish_reason 'error')."""
        self.scheduler.close()

    # -- prompts and stops -------------------------------------------------------------------------------
    def encode(self, messages: list[dict], tools: Optional[list] = None) -> list[int]:
        """The conversation's prompt ids, through the template, ending with the generation prompt."""
        return self.template.encode_prompt(messages, tools)

    def _eos_ids(self) -> frozenset:
        gen = getattr(self.model, "generation_config", None)
        ids = set(_as_list(getattr(gen, "eos_token_id", None)))
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return frozenset(ids)

    def _split_stops(self, words: list[str]) -> tuple[frozenset, list[str]]:
        """Stop words that are one special token are matched by id (they never show in the text); the rest as text."""
        ids, texts = set(), []
        for w in dict.fromkeys(w for w in words if w):
            tid = self.tokenizer.convert_tokens_to_ids(w) if w in self._special else None
            if isinstance(tid, int) and tid >= 0 and tid != getattr(self.tokenizer, "unk_token_id", None):
                ids.add(tid)
            else:
                texts.append(w)
        return frozenset(ids), texts

    def stops_for(self, cfg: RequestConfig, template_stops: bool = True) -> tuple[frozenset, list[str]]:
        """(stop token ids, stop strings) of a request: EOS, the template's stop words (chat), the request's."""
        ids, texts = self._split_stops(list(cfg.stop))
        if template_stops:
            return self.eos_token_ids | self._template_stop_ids | ids, list(dict.fromkeys(self._template_stops + texts))
        return self.eos_token_ids | ids, texts

    # -- the request API ---------------------------------------------------------------------------------
    def submit(self, prompt_ids: list[int], cfg: RequestConfig, sink: Any, adapter: Optional[str] = None,
               template_stops: bool = True) -> GenerationRequest:
        """Queue one generation; `sink(event)` is called from the worker thread for every new token."""
        if not prompt_ids:
            raise SartorError("the prompt is empty")
        if adapter is not None and adapter not in self.adapters.names:
            raise SartorError(f"no adapter named {adapter!r}; loaded: {self.adapters.names}")
        room = self.max_model_len - len(prompt_ids)
        if room < 1:
            raise SartorError(f"the prompt has {len(prompt_ids)} tokens; the model's context is {self.max_model_len}")
        params = cfg.sampling()
        if params.seed is None and not params.greedy:
            params.seed = int(torch.randint(0, 2**62, (1,)))  # follows torch.manual_seed of the caller
        stop_ids, stops = self.stops_for(cfg, template_stops)
        req = GenerationRequest(list(prompt_ids), min(cfg.max_new_tokens, room), params, sink, stop_ids, stops, adapter)
        return self.scheduler.submit(req)

    def abort(self, req: GenerationRequest) -> None:
        self.scheduler.abort(req)

    def generate(self, prompt_ids: list[int], cfg: RequestConfig, adapter: Optional[str] = None,
                 template_stops: bool = True) -> Iterator[GenerationEvent]:
        """The events of one generation, in this thread. Closing the iterator early stops the generation."""
        q: queue.Queue = queue.Queue()
        req = self.submit(prompt_ids, cfg, q.put, adapter, template_stops)
        finished = False
        try:
            while not finished:
                event = q.get()
                finished = event.finished
                yield event
        finally:
            if not finished:
                self.abort(req)

    async def agenerate(self, prompt_ids: list[int], cfg: RequestConfig, adapter: Optional[str] = None,
                        template_stops: bool = True) -> AsyncIterator[GenerationEvent]:
        """The events of one generation, for asyncio code. Cancelling the consumer stops the generation."""
        loop = asyncio.get_running_loop()
        q: asyncio.Queue = asyncio.Queue()
        req = self.submit(prompt_ids, cfg, lambda ev: loop.call_soon_threadsafe(q.put_nowait, ev), adapter,
                          template_stops)
        finished = False
        try:
            while not finished:
                event = await q.get()
                finished = event.finished
                yield event
        finally:
            if not finished:
                self.abort(req)

    # -- the conversation API (infer, chat, dataset generation) -------------------------------------------
    def infer(self, conversations: list[list[dict]], cfg: RequestConfig, tools: Optional[list] = None,
              adapter: Optional[str] = None) -> list[Completion]:
        """Answer each conversation; they are generated together (continuous batching)."""
        prompts = [self.encode(msgs, tools) for msgs in conversations]
        if cfg.num_beams > 1:
            return [self._beam_search(p, cfg, adapter) for p in prompts]
        results: list[Completion] = []
        done = threading.Semaphore(0)
        collectors: list[_Collector] = []
        for prompt in prompts:
            results.append(Completion("", len(prompt), 0, "length", [], [] if cfg.logprobs else None))
            if len(prompt) >= self.max_model_len:  # no room to answer: an empty, cut-off answer
                continue
            collectors.append(_Collector(results[-1], done))
            self.submit(prompt, cfg, collectors[-1], adapter)
        for _ in collectors:
            done.acquire()
        for c in collectors:
            if c.error is not None:
                raise c.error
        return results

    def stream(self, messages: list[dict], cfg: RequestConfig, tools: Optional[list] = None,
               adapter: Optional[str] = None) -> Iterator[str]:
        """Yield the answer as text deltas while it is generated."""
        prompt = self.encode(messages, tools)
        if cfg.num_beams > 1:
            yield self._beam_search(prompt, cfg, adapter).text
            return
        for event in self.generate(prompt, cfg, adapter):
            if event.error is not None:
                raise event.error
            if event.text:
                yield event.text

    # -- beam search through transformers' generate -----------------------------------------------------
    def _beam_search(self, prompt: list[int], cfg: RequestConfig, adapter: Optional[str]) -> Completion:
        stop_ids, stops = self.stops_for(cfg)
        gen = dict(max_new_tokens=max(1, min(cfg.max_new_tokens, self.max_model_len - len(prompt))),
                   num_beams=cfg.num_beams, repetition_penalty=cfg.repetition_penalty, do_sample=False,
                   temperature=None, top_k=None, top_p=None, eos_token_id=sorted(stop_ids),
                   pad_token_id=self.scheduler.pad_token_id)
        ids = torch.tensor([prompt], device=self.device)
        with self.scheduler.lock, self.adapters.activate(adapter), torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **gen)
        out = out[0, len(prompt):].tolist()
        while out and out[-1] == self.scheduler.pad_token_id and out[-1] not in stop_ids:
            out.pop()
        ended = bool(out) and out[-1] in stop_ids
        text = self.tokenizer.decode([t for t in out if t not in stop_ids], skip_special_tokens=True)
        text, stopped = cut_at_stop(text, stops)
        return Completion(text, len(prompt), len(out), "stop" if ended or stopped else "length", out)


class _Collector:
    """Gathers one request's events into a Completion and signals when it is done."""

    def __init__(self, result: Completion, done: threading.Semaphore) -> None:
        self.result = result
        self.done = done
        self.parts: list[str] = []
        self.error: Optional[BaseException] = None

    def __call__(self, event: GenerationEvent) -> None:
        r = self.result
        self.parts.append(event.text)
        r.token_ids.extend(event.token_ids)
        if r.logprobs is not None:
            r.logprobs.extend(event.logprobs)
        r.completion_tokens = event.completion_tokens
        if event.finished:
            r.text = "".join(self.parts)
            r.finish_reason = event.finish_reason or "stop"
            self.error = event.error
            self.done.release()


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
