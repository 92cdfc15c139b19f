"""The response bodies of the server, as pydantic models: they describe the API in /openapi.json.

The routes build plain dicts (chat.py, completions.py, serving.py); schemathesis holds the live answers to
these models (tests/integration/test_deploy_openapi.py)."""
from typing import Any, Literal, Optional

from pydantic import BaseModel

FinishReason = Literal["stop", "length", "tool_calls", "abort", "error"]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: Optional[str] = None
    code: Optional[str] = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    root: str
    parent: Optional[str] = None


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class FunctionCall(BaseModel):
    name: str
    arguments: str


class ToolCall(BaseModel):
    id: str
    type: Literal["function"]
    function: FunctionCall


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: Optional[str] = None
    tool_calls: Optional[list[ToolCall]] = None


class TopLogprob(BaseModel):
    token: str
    logprob: float
    bytes: list[int]


class TokenLogprob(TopLogprob):
    top_logprobs: list[TopLogprob]


class ChatLogprobs(BaseModel):
    content: list[TokenLogprob]


class ChatChoice(BaseModel):
    index: int
    message: AssistantMessage
    logprobs: Optional[ChatLogprobs] = None
    finish_reason: FinishReason


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class CompletionLogprobs(BaseModel):
    tokens: list[str]
    token_logprobs: list[Optional[float]]
    top_logprobs: list[dict[str, float]]
    text_offset: list[int]


class CompletionChoice(BaseModel):
    index: int
    text: str
    logprobs: Optional[CompletionLogprobs] = None
    finish_reason: FinishReason


class Completion(BaseModel):
    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage


class ToolCallDelta(ToolCall):
    index: int


class ChatDelta(BaseModel):
    role: Optional[Literal["assistant"]] = None
    content: Optional[str] = None
    tool_calls: Optional[list[ToolCallDelta]] = None


class ChatChunkChoice(BaseModel):
    index: int
    delta: ChatDelta
    logprobs: Optional[ChatLogprobs] = None
    finish_reason: Optional[FinishReason] = None


class ChatCompletionChunk(BaseModel):
    """One event of a streamed chat answer (the last, with stream_options.include_usage, has only the usage)."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChatChunkChoice]
    usage: Optional[Usage] = None


class CompletionChunkChoice(BaseModel):
    index: int
    text: str
    logprobs: Optional[CompletionLogprobs] = None
    finish_reason: Optional[FinishReason] = None


class CompletionChunk(BaseModel):
    """One event of a streamed completion (the last, with stream_options.include_usage, has only the usage)."""

    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[CompletionChunkChoice]
    usage: Optional[Usage] = None


STREAM_MODELS = (ChatCompletionChunk, CompletionChunk)


def error_responses(*statuses: int) -> dict[int, Any]:
    """FastAPI `responses=` entries: each status answers an ErrorResponse."""
    why = {400: "The request is invalid (the message says which field and why).",
           401: "The API key is missing or wrong.", 404: "No such model or route.",
           413: "The request body is larger than --max_request_body_mb.",
           415: "The request body is not sent as application/json."}
    return {s: {"model": ErrorResponse, "description": why.get(s, "Error.")} for s in statuses}


def event_stream(chunk: type) -> dict[str, Any]:
    """The text/event-stream content of a streamed answer: its schema is one event's (as schemathesis reads
    Open API 3.1): `data` is a chunk or an error as JSON, the last one `[DONE]`."""
    json_data = {"contentMediaType": "application/json",
                 "contentSchema": {"anyOf": [{"$ref": f"#/components/schemas/{chunk.__name__}"},
                                             {"$ref": "#/components/schemas/ErrorResponse"}]}}
    event = {"type": "object", "required": ["data"],
             "properties": {"data": {"anyOf": [{"type": "string", "const": "[DONE]"},
                                               {"type": "string", **json_data}]}}}
    return {"text/event-stream": {"schema": event}}
