"""Checking and normalising the messages of canonical rows before rendering."""
import json
from typing import Any

from .errors import TemplateError

ROLES = ("system", "user", "assistant", "tool")


def _normalize_tool_call(call: Any, where: str) -> dict:
    if not isinstance(call, dict):
        raise TemplateError(f"{where}: a tool call must be a dict, got {type(call).__name__}")
    fn = call.get("function", call)
    if not isinstance(fn, dict) or "name" not in fn:
        raise TemplateError(f"{where}: a tool call needs a function name, got {call!r}")
    args = fn.get("arguments", {})
    if isinstance(args, str):
        try:
            parsed = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError:
            parsed = args
        args = parsed
    out = {"type": call.get("type", "function"), "function": {"name": fn["name"], "arguments": args}}
    if "id" in call:
        out["id"] = call["id"]
    return out


def checked_messages(messages: Any) -> list[dict]:
    """Copy and check messages: known roles, string contents, tool calls in OpenAI shape.

    Tool-call arguments given as a JSON string are parsed into a dict, so that every template
    writes them the same way (as the official templates do with dict arguments)."""
    if not isinstance(messages, (list, tuple)) or not messages:
        raise TemplateError("a row needs a non-empty list of messages")
    out = []
    for i, msg in enumerate(messages):
        where = f"message {i}"
        if not isinstance(msg, dict):
            raise TemplateError(f"{where}: expected a dict with 'role' and 'content', got {type(msg).__name__}")
        role = msg.get("role")
        if role not in ROLES:
            raise TemplateError(f"{where}: unknown role {role!r}; expected one of {', '.join(ROLES)}")
        content = msg.get("content")
        if content is None:
            content = ""
        if isinstance(content, list):
            texts = [c.get("text", "") for c in content if isinstance(c, dict) and c.get("type") == "text"]
            if len(texts) != len(content):
                raise TemplateError(f"{where}: only text content parts are supported by text templates")
            content = "".join(texts)
        if not isinstance(content, str):
            raise TemplateError(f"{where}: content must be a string, got {type(content).__name__}")
        new = {"role": role, "content": content}
        calls = msg.get("tool_calls")
        if calls:
            if role != "assistant":
                raise TemplateError(f"{where}: only assistant messages may have tool_calls (role is {role!r})")
            new["tool_calls"] = [_normalize_tool_call(c, where) for c in calls]
        for key in ("loss", "reasoning_content", "name", "tool_call_id"):
            if msg.get(key) is not None:
                new[key] = msg[key]
        out.append(new)
    return out


def split_system(messages: list[dict]) -> tuple[str | None, list[dict]]:
    """The leading system message's content (None when there is none) and the other messages."""
    if messages and messages[0]["role"] == "system":
        return messages[0]["content"], messages[1:]
    return None, messages


def normalize_tools(tools: Any) -> list[dict] | None:
    """Tools as a list of OpenAI function schemas, or None when there are none."""
    if tools is None or tools == []:
        return None
    if isinstance(tools, str):
        try:
            tools = json.loads(tools)
        except json.JSONDecodeError as e:
            raise TemplateError(f"tools is not valid JSON: {e}") from None
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        raise TemplateError("tools must be a list of OpenAI function schemas (dicts)")
    return list(tools)


def to_json(obj: Any, indent: int | None = None) -> str:
    """JSON the way chat templates write it (`tojson`: no ASCII escaping)."""
    return json.dumps(obj, ensure_ascii=False, indent=indent)
