"""POST /v1/chat/completions: messages and tools through the template, n choices, streaming, logprobs, tool calls."""
import asyncio
import json
import time
from typing import Any, AsyncIterator, Union

from ..infer.engine import PtEngine
from ..infer.sampling import TokenChoice
from ..utils.errors import SartorError
from . import tools as tool_calls
from .errors import APIError, bad_request
from .protocol import ChatCompletionRequest
from .serving import (SamplingDefaults, ServedModels, max_new_tokens, new_id, request_configs, run_jobs, token_text,
                      usage)

_ROLE = {"developer": "system", "function": "tool"}


def to_messages(req: ChatCompletionRequest) -> list[dict]:
    out = []
    for m in req.messages:
        msg = m.model_dump(exclude_none=True)
        msg["role"] = _ROLE.get(m.role, m.role)
        if isinstance(m.content, list):
            msg["content"] = [p.model_dump(exclude_none=True) for p in m.content]
        out.append(msg)
    return out


def _encode(engine: PtEngine, req: ChatCompletionRequest, tools: Any) -> list[int]:
    try:
        return engine.encode(to_messages(req), tools)
    except (SartorError, ValueError, TypeError, KeyError) as e:  # TemplateError is a ValueError or SartorError
        raise bad_request(f"the messages cannot be rendered by the chat template: {e}", "messages") from None


def chat_logprobs(engine: PtEngine, choices: list[TokenChoice]) -> list[dict]:
    def entry(tid: int, lp: float) -> dict:
        s = token_text(engine, tid)
        return {"token": s, "logprob": lp, "bytes": list(s.encode("utf-8"))}

    return [{**entry(c.token_id, c.logprob if c.logprob is not None else 0.0),
             "top_logprobs": [entry(t, lp) for t, lp in (c.top or [])]} for c in choices]


async def chat_completion(engine: PtEngine, served: ServedModels, defaults: SamplingDefaults,
                          req: ChatCompletionRequest) -> Union[dict, AsyncIterator[str]]:
    """The response body, or (stream: true) an async iterator of SSE lines. Every check that can fail
    because of the request happens before anything is generated."""
    adapter = served.adapter_for(req.model)
    use_tools = bool(req.tools) and req.tool_choice != "none"
    tools = [t.model_dump(exclude_none=True) for t in req.tools] if use_tools else None
    prompt = await asyncio.to_thread(_encode, engine, req, tools)  # a huge prompt must not stall the event loop
    max_new = max_new_tokens(engine, len(prompt), req.max_new_tokens, defaults.max_new_tokens,
                             "max_completion_tokens" if req.max_completion_tokens is not None else "max_tokens")
    cfgs = request_configs(req, defaults, max_new, req.logprobs, req.top_logprobs or 0, req.n)
    parse_tools = use_tools and tool_calls.can_parse(engine.template)
    jobs = [(prompt, cfg) for cfg in cfgs]
    meta = {"id": new_id("chatcmpl"), "created": int(time.time()), "model": req.model}
    if req.stream:
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        return _stream(engine, jobs, adapter, meta, parse_tools, req.logprobs, include_usage)
    return await _complete(engine, jobs, adapter, meta, parse_tools, req.logprobs)


async def _complete(engine: PtEngine, jobs: list, adapter: Any, meta: dict, parse_tools: bool, logprobs: bool) -> dict:
    n = len(jobs)
    parts: list[list[str]] = [[] for _ in range(n)]
    lps: list[list[TokenChoice]] = [[] for _ in range(n)]
    counts, reasons = [0] * n, ["stop"] * n
    async for i, ev in run_jobs(engine, jobs, adapter):
        parts[i].append(ev.text)
        lps[i].extend(ev.logprobs)
        counts[i] = ev.completion_tokens
        if ev.finished:
            reasons[i] = ev.finish_reason or "stop"
    choices = []
    for i in range(n):
        text = "".join(parts[i])
        message: dict[str, Any] = {"role": "assistant", "content": text}
        finish = reasons[i]
        if parse_tools:
            content, calls = tool_calls.parse(engine.template, text)
            if calls:
                message = {"role": "assistant", "content": content, "tool_calls": calls}
                finish = "tool_calls"
        choices.append({"index": i, "message": message,
                        "logprobs": {"content": chat_logprobs(engine, lps[i])} if logprobs else None,
                        "finish_reason": finish})
    return {**meta, "object": "chat.completion", "choices": choices, "usage": usage(len(jobs[0][0]), sum(counts))}


def sse(data: Any) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _stream(engine: PtEngine, jobs: list, adapter: Any, meta: dict, parse_tools: bool, logprobs: bool,
                  include_usage: bool) -> AsyncIterator[str]:
    n = len(jobs)
    head = {**meta, "object": "chat.completion.chunk"}

    def chunk(i: int, delta: dict, finish: Any = None, lp: Any = None) -> str:
        choice = {"index": i, "delta": delta, "logprobs": lp, "finish_reason": finish}
        return sse({**head, "choices": [choice]})

    streams = [tool_calls.ToolStream() for _ in range(n)]
    counts = [0] * n
    try:
        for i in range(n):
            yield chunk(i, {"role": "assistant", "content": ""})
        async for i, ev in run_jobs(engine, jobs, adapter):
            counts[i] = ev.completion_tokens
            text = streams[i].push(ev.text) if parse_tools else ev.text
            lp = {"content": chat_logprobs(engine, ev.logprobs)} if logprobs and ev.logprobs else None
            if text or lp:
                yield chunk(i, {"content": text}, None, lp)
            if not ev.finished:
                continue
            finish = ev.finish_reason or "stop"
            if parse_tools:
                _, calls = tool_calls.parse(engine.template, streams[i].text)
                if calls:
                    yield chunk(i, {"tool_calls": [{"index": k, **c} for k, c in enumerate(calls)]})
                    finish = "tool_calls"
                elif rest := streams[i].rest():
                    yield chunk(i, {"content": rest})
            yield chunk(i, {}, finish)
        if include_usage:
            yield sse({**head, "choices": [], "usage": usage(len(jobs[0][0]), sum(counts))})
    except APIError as e:
        yield sse(e.body())
    yield "data: [DONE]\n\n"
