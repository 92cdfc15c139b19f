"""The response bodies of the server, as pydantic models: they describe the API in /openapi.json.

The routes build plain dicts (chat.py, completions.py, serving.py); tests hold those dicts to these models."""
from typing import Any, Literal, Optional

from pydantic import BaseModel


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
    finish_reason: Literal["stop", "length", "tool_calls", "abort", "error"]


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
    finish_reason: Literal["stop", "length", "abort", "error"]


class Completion(BaseModel):
    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage


def error_responses(*statuses: int) -> dict[int, Any]:
    """FastAPI `responses=` entries: each status answers an ErrorResponse."""
    why = {400: "The request is invalid (the message says which field and why).",
           401: "The API key is missing or wrong.", 404: "No such model or route.",
           413: "The request body is larger than --max_request_body_mb.",
           415: "The request body is not sent as application/json."}
    return {s: {"model": ErrorResponse, "description": why.get(s, "Error.")} for s in statuses}


STREAM = {"text/event-stream": {"schema": {"type": "string"},
                                "example": 'data: {"choices": [...]}\n\ndata: [DONE]\n\n'}}
