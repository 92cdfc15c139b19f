"""Continuous batching: one background thread runs every forward pass; requests join and leave the batch.

Requests are queued by any thread. The worker lets waiting requests in between decoding steps
(a prefill of the newcomers, left-padded, whose key/value cache is then appended to the running
batch's), takes one decoding step for every running sequence, and sends each sequence's new token
and text to that request's sink. Finished and abandoned sequences leave the batch at once.
Sequences of different LoRA adapters never share a batch: a request for another adapter waits
until the running batch drains (first come, first served)."""
import itertools
import threading
import time
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Optional

import torch

from ..compat.transformers import cache_argument, returned_cache
from ..utils.logging import get_logger
from . import kv_cache
from .detokenize import IncrementalDetokenizer, StopStringFilter
from .sampling import SamplingParams, TokenChoice, choose_tokens


@dataclass
class GenerationEvent:
    """What one request got from one step: new text (may be '' while held back) and new tokens."""

    text: str
    token_ids: list[int]
    logprobs: list[TokenChoice]
    prompt_tokens: int
    completion_tokens: int
    finished: bool = False
    finish_reason: Optional[str] = None  # "stop", "length", "abort" or "error"
    error: Optional[BaseException] = None


@dataclass
class GenerationRequest:
    prompt_ids: list[int]
    max_new_tokens: int
    params: SamplingParams
    sink: Callable[[GenerationEvent], None]
    stop_token_ids: frozenset = frozenset()
    stop: list[str] = field(default_factory=list)
    adapter: Optional[str] = None
    request_id: int = field(default_factory=itertools.count().__next__)
    arrival: float = field(default_factory=time.monotonic)
    aborted: bool = False


class _Sequence:
    """A request while it runs: its tokens so far, its random stream, its text state."""

    def __init__(self, req: GenerationRequest, tokenizer: Any) -> None:
        self.req = req
        self.generator: Optional[torch.Generator] = None  # made on the logits' device at the first token
        self.history = list(req.prompt_ids)
        self.detok = IncrementalDetokenizer(tokenizer, req.prompt_ids)
        self.filter = StopStringFilter(req.stop)
        self.n = 0
        self.done = False

    @property
    def last(self) -> int:
        return self.history[-1]

    def accept(self, choice: TokenChoice) -> GenerationEvent:
        """Take the chosen token; the event to send."""
        req = self.req
        self.history.append(choice.token_id)
        self.n += 1
        reason = None
        if choice.token_id in req.stop_token_ids:
            text, reason = self.filter.push(self.detok.flush()) + self.filter.finish(), "stop"
        else:
            text = self.filter.push(self.detok.add(choice.token_id))
            if self.filter.stopped:
                reason = "stop"
            elif self.n >= req.max_new_tokens:
                text += self.filter.push(self.detok.flush())
                text += self.filter.finish()
                reason = "stop" if self.filter.stopped else "length"
        self.done = reason is not None
        logprobs = [choice] if req.params.top_logprobs is not None else []
        return GenerationEvent(text, [choice.token_id], logprobs, len(req.prompt_ids), self.n, self.done, reason)


@dataclass
class SchedulerStats:
    """Counters since start; the deploy server turns their differences into throughput lines."""

    prompt_tokens: int = 0
    generated_tokens: int = 0
    finished_requests: int = 0
    steps: int = 0
    running: int = 0
    waiting: int = 0


class BatchScheduler:
    """Owns the model's forward passes. `submit` from any thread; events arrive at each request's sink
    from the worker thread."""

    def __init__(self, get_model: Callable[[], Any], tokenizer: Any, pad_token_id: int,
                 activate_adapter: Callable[[Optional[str]], ContextManager] = lambda name: nullcontext(),
                 max_batch_size: int = 16, gather_ms: float = 2.0, max_prefill_tokens: int = 16384) -> None:
        self.get_model = get_model
        self.tokenizer = tokenizer
        self.pad_token_id = pad_token_id
        self.activate_adapter = activate_adapter
        self.max_batch_size = max(1, max_batch_size)
        self.gather_s = max(0.0, gather_ms) / 1000
        self.max_prefill_tokens = max_prefill_tokens
        self.lock = threading.RLock()  # held during every forward pass (other users of the model take it too)
        self.stats = SchedulerStats()
        self._waiting: deque[GenerationRequest] = deque()
        self._cv = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._closed = False
        self._logits_to_keep: Optional[bool] = None
        self._cache_name = "past_key_values"
        self._no_router_logits = False
        self.idle_exit_s = 30.0  # an idle worker ends, so engines that are dropped leave no thread behind

    # -- any thread -------------------------------------------------------------------------------------
    def submit(self, req: GenerationRequest) -> GenerationRequest:
        with self._cv:
            if self._closed:
                raise RuntimeError("the inference engine is closed")
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sartor-batch-worker", daemon=True)
                self._thread.start()
            self._waiting.append(req)
            self.stats.waiting = len(self._waiting)
            self._cv.notify()
        return req

    def abort(self, req: GenerationRequest) -> None:
        """Stop generating for this request (its sink gets nothing more)."""
        req.aborted = True
        with self._cv:
            self._cv.notify()

    def close(self, timeout: float = 10.0) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- the worker -------------------------------------------------------------------------------------
    def _run(self) -> None:
        running: list[_Sequence] = []
        cache, mask, adapter, editable = None, None, None, True
        with torch.inference_mode():
            while True:
                with self._cv:
                    while not self._closed and not running and not self._waiting:
                        if not self._cv.wait(self.idle_exit_s):
                            if not self._waiting:  # idle: end the thread (submit starts a new one)
                                self._thread = None
                                return
                    if self._closed:
                        self._fail([*running, *self._drain_waiting()], RuntimeError("the inference engine was closed"))
                        return
                if not running and self.gather_s:
                    time.sleep(self.gather_s)  # let requests that arrive together share the prefill
                admitted: list[_Sequence] = []
                try:
                    admitted = self._admit(running, adapter if running else None, editable or not running)
                    if not running and not admitted:
                        cache, mask = None, None
                        continue
                    if not running:
                        adapter = admitted[0].req.adapter
                    with self.lock, self.activate_adapter(adapter):
                        cache, mask, running, editable = self._step(running, cache, mask, admitted)
                except Exception as e:  # noqa: BLE001 - a failed step fails its requests, never the worker
                    get_logger().error(f"generation failed: {type(e).__name__}: {e}")
                    self._fail([*running, *admitted], e)
                    running, cache, mask, editable = [], None, None, True
                self.stats.running = len(running)

    def _drain_waiting(self) -> list[_Sequence]:
        items = [_Sequence(r, self.tokenizer) for r in self._waiting]
        self._waiting.clear()
        return items

    def _admit(self, running: list[_Sequence], adapter: Optional[str], can_join: bool) -> list[_Sequence]:
        """Waiting requests that may join now: first come first served, same adapter, within the limits."""
        admitted: list[_Sequence] = []
        if not can_join:
            return admitted
        room = self.max_batch_size - len(running)
        with self._cv:
            longest = 0
            while self._waiting and room > 0:
                req = self._waiting[0]
                if req.aborted:
                    self._waiting.popleft()
                    continue
                if (running or admitted) and req.adapter != (adapter if running else admitted[0].req.adapter):
                    break
                longest_if = max(longest, len(req.prompt_ids))
                if admitted and longest_if * (len(admitted) + 1) > self.max_prefill_tokens:
                    break
                longest = longest_if
                admitted.append(_Sequence(self._waiting.popleft(), self.tokenizer))
                room -= 1
            self.stats.waiting = len(self._waiting)
        return admitted

    def _forward(self, cache: Any = None, **kwargs: Any) -> Any:
        """One forward pass with the KV cache, under the name this model's forward takes (compat.transformers)."""
        model = self.get_model()
        if self._logits_to_keep is None:
            import inspect

            inner = model.get_base_model() if hasattr(model, "get_base_model") else model  # PEFT passes it through
            try:
                params = inspect.signature(inner.forward).parameters
            except (TypeError, ValueError):
                params = {}
            self._logits_to_keep = "logits_to_keep" in params
            self._cache_name = cache_argument(params)
            # a MoE model whose config asks for router logits (for its training loss) would compute the load-balancing
            # loss from the new tokens' router logits and the whole cached attention mask, and fail on shape
            self._no_router_logits = "output_router_logits" in params
        if self._no_router_logits:
            kwargs["output_router_logits"] = False
        if self._logits_to_keep:
            kwargs["logits_to_keep"] = 1
        if cache is not None:
            kwargs[self._cache_name] = cache
        return model(**kwargs, use_cache=True, return_dict=True)

    def _step(self, running: list[_Sequence], cache: Any, mask: Optional[torch.Tensor],
              admitted: list[_Sequence]) -> tuple[Any, Optional[torch.Tensor], list[_Sequence], bool]:
        device = next(self.get_model().parameters()).device
        if admitted:
            new_cache, new_mask, alive = self._prefill(admitted, device)
            if alive:
                if running:
                    mask = kv_cache.append_rows(cache, mask, new_cache, new_mask)
                else:
                    cache, mask = new_cache, new_mask
                running = running + alive
        editable = cache is None or kv_cache.is_editable(cache)
        if not running:
            return None, None, [], True
        ids = torch.tensor([[s.last] for s in running], device=device)
        mask = torch.cat([mask, mask.new_ones(len(running), 1)], 1)
        positions = (mask.sum(1, keepdim=True) - 1)
        out = self._forward(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache)
        cache = returned_cache(out)
        self._emit(running, out.logits[:, -1])
        self.stats.steps += 1
        keep = [i for i, s in enumerate(running) if not s.done and not s.req.aborted]
        if len(keep) < len(running):
            if not keep:
                return None, None, [], True
            if not editable:
                # This cache cannot drop rows: finished rows ride along, ignored, until the batch drains.
                return cache, mask, running, editable
            mask = kv_cache.select_rows(cache, mask, keep)
            mask = kv_cache.trim_left(cache, mask)
            running = [running[i] for i in keep]
        return cache, mask, running, editable

    def _prefill(self, seqs: list[_Sequence], device: torch.device) -> tuple[Any, torch.Tensor, list[_Sequence]]:
        """Run the prompts of the newcomers; each gets its first token. Returns the cache and mask of
        those still running."""
        longest = max(len(s.req.prompt_ids) for s in seqs)
        ids = [[self.pad_token_id] * (longest - len(s.req.prompt_ids)) + list(s.req.prompt_ids) for s in seqs]
        mask = torch.tensor([[0] * (longest - len(s.req.prompt_ids)) + [1] * len(s.req.prompt_ids) for s in seqs],
                            device=device)
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        out = self._forward(input_ids=torch.tensor(ids, device=device), attention_mask=mask, position_ids=positions)
        self.stats.prompt_tokens += sum(len(s.req.prompt_ids) for s in seqs)
        self._emit(seqs, out.logits[:, -1])
        cache = returned_cache(out)
        keep = [i for i, s in enumerate(seqs) if not s.done and not s.req.aborted]
        if len(keep) < len(seqs) and keep and kv_cache.is_editable(cache):
            mask = kv_cache.trim_left(cache, kv_cache.select_rows(cache, mask, keep))
            return cache, mask, [seqs[i] for i in keep]
        if not keep:
            return None, mask, []
        return cache, mask, seqs

    def _emit(self, seqs: list[_Sequence], logits: torch.Tensor) -> None:
        live = [i for i, s in enumerate(seqs) if not s.done and not s.req.aborted]
        if not live:
            return
        rows = logits[live] if len(live) < len(seqs) else logits
        picked = [seqs[i] for i in live]
        for s in picked:
            if s.generator is None and not s.req.params.greedy:
                s.generator = s.req.params.make_generator(logits.device)
        try:
            choices = choose_tokens(rows, [s.req.params for s in picked], [s.generator for s in picked],
                                    [s.history for s in picked], [len(s.req.prompt_ids) for s in picked])
        except Exception:  # noqa: BLE001 - find the request that cannot be sampled; the others go on
            choices = [self._choose_one(seq, rows[k:k + 1]) for k, seq in enumerate(picked)]
        for seq, choice in zip(picked, choices):
            if choice is None:
                continue
            event = seq.accept(choice)
            self.stats.generated_tokens += 1
            if seq.done:
                self.stats.finished_requests += 1
            self._send(seq, event)

    def _choose_one(self, seq: _Sequence, row: torch.Tensor) -> Optional[TokenChoice]:
        """One request's token, or None after failing that request alone."""
        try:
            return choose_tokens(row, [seq.req.params], [seq.generator], [seq.history], [len(seq.req.prompt_ids)])[0]
        except Exception as e:  # noqa: BLE001 - this request's settings cannot be sampled
            get_logger().error(f"generation failed for one request: {type(e).__name__}: {e}")
            self._fail([seq], e)
            seq.req.aborted = True
            return None

    def _send(self, seq: _Sequence, event: GenerationEvent) -> None:
        try:
            seq.req.sink(event)
        except Exception:  # noqa: BLE001 - the receiver is gone (closed event loop, ...): stop this request
            seq.req.aborted = True

    def _fail(self, seqs: list[_Sequence], error: BaseException) -> None:
        for seq in seqs:
            if not seq.done:
                seq.done = True
                self._send(seq, GenerationEvent("", [], [], len(seq.req.prompt_ids), seq.n, True, "error", error))
