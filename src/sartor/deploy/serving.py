"""What the chat and completion routes share: model names, sampling settings, running n choices together."""
import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Optional

from ..arguments.generation_args import SAMPLING, GenerationArguments
from ..infer.engine import PtEngine, RequestConfig
from ..infer.scheduler import GenerationEvent
from ..utils.errors import SartorError
from .errors import APIError, bad_request


@dataclass
class ServedModels:
    """The names clients may put in `model`: the served model and each LoRA adapter."""

    name: str
    root: str = ""
    adapters: dict[str, str] = field(default_factory=dict)  # name -> path
    created: int = field(default_factory=lambda: int(time.time()))

    def adapter_for(self, model: str) -> Optional[str]:
        """The adapter a request's `model` names (None: the served model); 404 for an unknown name."""
        if model == self.name:
            return None
        if model in self.adapters:
            return model
        known = ", ".join([self.name, *self.adapters])
        raise APIError(404, f"The model `{model}` does not exist. Models served here: {known}", "model",
                       "model_not_found")

    def cards(self) -> list[dict]:
        cards = [{"id": self.name, "object": "model", "created": self.created, "owned_by": "sartor",
                  "root": self.root or self.name, "parent": None}]
        cards += [{"id": n, "object": "model", "created": self.created, "owned_by": "sartor", "root": p,
                   "parent": self.name} for n, p in self.adapters.items()]
        return cards


@dataclass
class SamplingDefaults:
    """The server's settings (--temperature, --max_new_tokens, ...) for what a request leaves out."""

    max_new_tokens: int = SAMPLING.max_new_tokens
    temperature: float = SAMPLING.temperature
    top_k: int = SAMPLING.top_k
    top_p: float = SAMPLING.top_p
    repetition_penalty: float = SAMPLING.repetition_penalty
    stop_words: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: GenerationArguments) -> "SamplingDefaults":
        return cls(args.max_new_tokens, args.temperature, args.top_k, args.top_p, args.repetition_penalty,
                   list(args.stop_words))


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def max_new_tokens(engine: PtEngine, prompt_len: int, requested: Optional[int], default: int,
                   param: str = "max_tokens", prompt_param: str = "messages") -> int:
    """How many tokens to generate; a 400 when the prompt, or prompt plus max_tokens, exceeds the context."""
    limit = engine.max_model_len
    if prompt_len >= limit:
        raise APIError(400, f"This model's maximum context length is {limit} tokens. However, your prompt has "
                            f"{prompt_len} tokens; shorten it.", prompt_param, "context_length_exceeded")
    if requested is not None:
        if prompt_len + requested > limit:
            raise APIError(400, f"This model's maximum context length is {limit} tokens. However, you requested "
                                f"{prompt_len + requested} tokens ({prompt_len} in the prompt, {requested} in the "
                                f"completion). Reduce the prompt or the completion length.", param,
                           "context_length_exceeded")
        return requested
    return max(1, min(default, limit - prompt_len))


def request_configs(req: Any, defaults: SamplingDefaults, max_new: int, logprobs: bool, top_logprobs: int,
                    count: int) -> list[RequestConfig]:
    """One RequestConfig per choice; with a seed, choice i uses seed + i so the n choices differ."""
    top_k = defaults.top_k if req.top_k is None else max(req.top_k, 0)
    base = dict(
        max_new_tokens=max_new,
        temperature=defaults.temperature if req.temperature is None else req.temperature,
        top_k=top_k,
        top_p=defaults.top_p if req.top_p is None else req.top_p,
        repetition_penalty=defaults.repetition_penalty if req.repetition_penalty is None else req.repetition_penalty,
        presence_penalty=req.presence_penalty, frequency_penalty=req.frequency_penalty,
        stop=list(dict.fromkeys(defaults.stop_words + req.stop_list())),
        logprobs=logprobs, top_logprobs=top_logprobs,
    )
    return [RequestConfig(**base, seed=None if req.seed is None else req.seed + i) for i in range(count)]


async def run_jobs(engine: PtEngine, jobs: list[tuple[list[int], RequestConfig]], adapter: Optional[str],
                   template_stops: bool = True) -> AsyncIterator[tuple[int, GenerationEvent]]:
    """Generate every (prompt, config) job at once; yields (job index, event) as tokens arrive.
    Leaving the loop early (a client that went away) stops the generations still running."""
    loop = asyncio.get_running_loop()
    q: asyncio.Queue = asyncio.Queue()
    reqs = []

    def sink_for(i: int):
        return lambda ev: loop.call_soon_threadsafe(q.put_nowait, (i, ev))

    try:
        for i, (prompt, cfg) in enumerate(jobs):
            try:
                reqs.append(engine.submit(prompt, cfg, sink_for(i), adapter, template_stops))
            except SartorError as e:
                raise bad_request(str(e)) from None
        left = len(reqs)
        while left:
            i, event = await q.get()
            if event.finished:
                left -= 1
            if event.error is not None:
                raise APIError(500, f"generation failed: {type(event.error).__name__}: {event.error}")
            yield i, event
    finally:
        for r in reqs:
            engine.abort(r)


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def token_text(engine: PtEngine, token_id: int) -> str:
    return engine.tokenizer.decode([token_id], skip_special_tokens=False, clean_up_tokenization_spaces=False)
