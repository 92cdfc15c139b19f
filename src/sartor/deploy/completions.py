"""POST /v1/completions: raw prompts (text or token ids, one or many), no chat template."""
import asyncio
import time
from typing import Any, AsyncIterator, Union

from ..infer.engine import PtEngine
from ..infer.sampling import TokenChoice
from .chat import sse
from .errors import APIError, bad_request
from .protocol import CompletionRequest
from .serving import (SamplingDefaults, ServedModels, max_new_tokens, new_id, request_configs, run_jobs, token_text,
                      usage)


def _prompts(engine: PtEngine, req: CompletionRequest) -> list[tuple[list[int], str]]:
    """(token ids, text) of each prompt."""
    p = req.prompt
    if isinstance(p, str):
        items: list[Any] = [p]
    elif p and all(isinstance(x, int) for x in p):
        items = [list(p)]
    else:
        items = list(p)
    vocab = max(len(engine.tokenizer), int(getattr(engine.model.config, "vocab_size", 0) or 0))
    out = []
    for item in items:
        if isinstance(item, str):
            try:
                ids = list(engine.tokenizer(item)["input_ids"])
            except (ValueError, TypeError, UnicodeError) as e:  # e.g. a lone surrogate the tokenizer cannot read
                raise bad_request(f"the prompt cannot be tokenised: {e}", "prompt") from None
            text = item
        else:
            if any(not 0 <= t < vocab for t in item):
                raise bad_request(f"prompt token ids must be in [0, {vocab})", "prompt")
            ids, text = list(item), engine.tokenizer.decode(item)
        if not ids:
            raise bad_request("the prompt is empty", "prompt")
        out.append((ids, text))
    return out


def completion_logprobs(engine: PtEngine, choices: list[TokenChoice], offset: int) -> dict:
    tokens = [token_text(engine, c.token_id) for c in choices]
    offsets = []
    for t in tokens:
        offsets.append(offset)
        offset += len(t)
    return {"tokens": tokens, "token_logprobs": [c.logprob for c in choices],
            "top_logprobs": [{token_text(engine, t): lp for t, lp in (c.top or [])} for c in choices],
            "text_offset": offsets}


async def completion(engine: PtEngine, served: ServedModels, defaults: SamplingDefaults,
                     req: CompletionRequest) -> Union[dict, AsyncIterator[str]]:
    adapter = served.adapter_for(req.model)
    prompts = await asyncio.to_thread(_prompts, engine, req)  # a huge prompt must not stall the event loop
    jobs, texts = [], []
    for ids, text in prompts:
        max_new = max_new_tokens(engine, len(ids), req.max_new_tokens, defaults.max_new_tokens,
                                 prompt_param="prompt")
        for cfg in request_configs(req, defaults, max_new, req.logprobs is not None, req.logprobs or 0, req.n):
            jobs.append((ids, cfg))
            texts.append(text)
    prompt_tokens = sum(len(ids) for ids, _ in prompts)
    meta = {"id": new_id("cmpl"), "object": "text_completion", "created": int(time.time()), "model": req.model}
    echo = [t if req.echo else "" for t in texts]
    if req.stream:
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        return _stream(engine, jobs, adapter, meta, echo, req.logprobs is not None, include_usage, prompt_tokens)
    n = len(jobs)
    parts: list[list[str]] = [[e] for e in echo]
    lps: list[list[TokenChoice]] = [[] for _ in range(n)]
    counts, reasons = [0] * n, ["stop"] * n
    async for i, ev in run_jobs(engine, jobs, adapter, template_stops=False):
        parts[i].append(ev.text)
        lps[i].extend(ev.logprobs)
        counts[i] = ev.completion_tokens
        if ev.finished:
            reasons[i] = ev.finish_reason or "stop"
    choices = [{"index": i, "text": "".join(parts[i]),
                "logprobs": completion_logprobs(engine, lps[i], 0) if req.logprobs is not None else None,
                "finish_reason": reasons[i]} for i in range(n)]
    return {**meta, "choices": choices, "usage": usage(prompt_tokens, sum(counts))}


async def _stream(engine: PtEngine, jobs: list, adapter: Any, meta: dict, echo: list[str], logprobs: bool,
                  include_usage: bool, prompt_tokens: int) -> AsyncIterator[str]:
    counts = [0] * len(jobs)
    offsets = [0] * len(jobs)

    def chunk(i: int, text: str, finish: Any = None, lp: Any = None) -> str:
        return sse({**meta, "choices": [{"index": i, "text": text, "logprobs": lp, "finish_reason": finish}]})

    try:
        for i, e in enumerate(echo):
            if e:
                yield chunk(i, e)
        async for i, ev in run_jobs(engine, jobs, adapter, template_stops=False):
            counts[i] = ev.completion_tokens
            lp = completion_logprobs(engine, ev.logprobs, offsets[i]) if logprobs and ev.logprobs else None
            offsets[i] += len(ev.text)
            if ev.text or lp:
                yield chunk(i, ev.text, None, lp)
            if ev.finished:
                yield chunk(i, "", ev.finish_reason or "stop")
        if include_usage:
            yield sse({**meta, "choices": [], "usage": usage(prompt_tokens, sum(counts))})
    except APIError as e:
        yield sse(e.body())
    yield "data: [DONE]\n\n"
