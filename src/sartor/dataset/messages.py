"""Normalising message lists (ShareGPT turns, OpenAI messages), tool calls and tools."""
from __future__ import annotations

import json
from typing import Any

from .canonical import make_message


class RowError(ValueError):
    """A row that cannot be standardised; the message says what is wrong."""


USER_ROLES = {"user", "human", "usr"}
ASSISTANT_ROLES = {"assistant", "gpt", "bot", "chatgpt", "model", "gpt4", "ai"}
SYSTEM_ROLES = {"system"}
TOOL_CALL_ROLES = {"function_call", "tool_call", "tool_calls"}
TOOL_RESULT_ROLES = {"observation", "tool", "function", "ipython", "tool_response"}

ROLE_KEYS = ("role", "from")
CONTENT_KEYS = ("content", "value", "text")


def parse_json_maybe(value: Any, what: str) -> Any:
    """Parse a JSON string; other values pass through."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise RowError(f"{what} is not valid JSON ({e.msg} at char {e.pos})") from None
    return value


def normalize_tool_call(call: Any) -> dict:
    """One tool call -> {"type": "function", "function": {"name", "arguments"}}."""
    call = parse_json_maybe(call, "tool call")
    if not isinstance(call, dict):
        raise RowError(f"a tool call must be an object with name and arguments, got {type(call).__name__}")
    fn = call.get("function", call)
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
        raise RowError("a tool call has no 'name'")
    args = fn.get("arguments", fn.get("parameters", {}))
    if isinstance(args, str):
        try:
            parsed = json.loads(args)
            if isinstance(parsed, dict):
                args = parsed
        except json.JSONDecodeError:
            pass
    out = {"type": "function", "function": {"name": fn["name"], "arguments": args if args is not None else {}}}
    if call.get("id"):
        out["id"] = call["id"]
    return out


def normalize_tool_calls(value: Any) -> list[dict]:
    """A tool call or a list of them (objects or JSON strings) -> list of OpenAI-shaped calls."""
    value = parse_json_maybe(value, "tool_calls")
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise RowError(f"tool_calls must be a list, got {type(value).__name__}")
    return [normalize_tool_call(c) for c in value]


def normalize_tools(value: Any) -> list[dict] | None:
    """`tools` as a JSON string or a list of function schemas -> OpenAI tool list (None if empty)."""
    if value is None or value == "":
        return None
    value = parse_json_maybe(value, "tools")
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise RowError(f"tools must be a list of function schemas, got {type(value).__name__}")
    tools = []
    for t in value:
        t = parse_json_maybe(t, "a tool")
        if not isinstance(t, dict):
            raise RowError(f"a tool must be an object, got {type(t).__name__}")
        if t.get("type") == "function" and isinstance(t.get("function"), dict):
            tools.append(t)
        elif "name" in t:
            tools.append({"type": "function", "function": t})
        else:
            raise RowError("a tool has no 'name'")
    return tools or None


def _content_text(content: Any, images: list) -> str:
    """Message content as text; OpenAI content parts become text with <image> tags."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and p.get("type") == "text":
                parts.append(p.get("text") or "")
            elif isinstance(p, dict) and p.get("type") in ("image", "image_url"):
                url = p.get("image_url") or p.get("image") or p.get("url")
                if isinstance(url, dict):
                    url = url.get("url")
                if url:
                    images.append(url)
                parts.append("<image>")
            else:
                raise RowError(f"unsupported content part {p!r:.80}")
        return "".join(parts)
    raise RowError(f"message content must be a string, got {type(content).__name__}")


def _turn_fields(turn: Any, i: int) -> tuple[str, Any]:
    if not isinstance(turn, dict):
        raise RowError(f"turn {i + 1} must be an object with role/content (or from/value), got {type(turn).__name__}")
    role = next((turn[k] for k in ROLE_KEYS if turn.get(k) is not None), None)
    if not isinstance(role, str):
        raise RowError(f"turn {i + 1} has no 'role' or 'from'")
    content = next((turn[k] for k in CONTENT_KEYS if k in turn and turn[k] is not None), None)
    return role.strip().lower(), content


def standardize_turns(turns: Any, images: list | None = None) -> list[dict]:
    """ShareGPT turns or OpenAI messages -> canonical messages (Arrow representation).

    function_call turns become assistant messages with tool_calls (consecutive calls are one
    message); observation turns become role `tool`. Image parts of OpenAI content go to `images`.
    """
    images = images if images is not None else []
    turns = parse_json_maybe(turns, "conversation")
    if not isinstance(turns, list) or not turns:
        raise RowError("the conversation must be a non-empty list of turns")
    out: list[dict] = []
    for i, turn in enumerate(turns):
        role, content = _turn_fields(turn, i)
        loss = turn.get("loss")
        loss = bool(loss) if isinstance(loss, (bool, int)) and loss is not None else None
        if role in TOOL_CALL_ROLES:
            calls = normalize_tool_calls(content)
            prev = out[-1] if out else None
            if prev is not None and prev["role"] == "assistant" and prev["tool_calls"] and not prev["content"]:
                prev["tool_calls"] = json.dumps(json.loads(prev["tool_calls"]) + calls, ensure_ascii=False)
            else:
                out.append(make_message("assistant", "", calls, loss))
            continue
        text = _content_text(content, images)
        tool_calls = None
        if role in USER_ROLES:
            role = "user"
        elif role in ASSISTANT_ROLES:
            role = "assistant"
            if turn.get("tool_calls"):
                tool_calls = normalize_tool_calls(turn["tool_calls"])
        elif role in SYSTEM_ROLES:
            role = "system"
        elif role in TOOL_RESULT_ROLES:
            role = "tool"
            if not isinstance(content, str):
                text = json.dumps(content, ensure_ascii=False) if content is not None else ""
        else:
            raise RowError(f"turn {i + 1} has unknown role {role!r}")
        if content is None and not tool_calls:
            raise RowError(f"turn {i + 1} ({role}) has no content")
        out.append(make_message(role, text, tool_calls, loss))
    return out


def history_messages(history: Any) -> list[dict]:
    """ms-swift/Alpaca `history` [[query, response], ...] -> user/assistant messages."""
    history = parse_json_maybe(history, "history")
    if history is None:
        return []
    if not isinstance(history, list):
        raise RowError(f"history must be a list of [query, response] pairs, got {type(history).__name__}")
    out = []
    for i, pair in enumerate(history):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(isinstance(x, str) for x in pair):
            raise RowError(f"history item {i + 1} must be a [query, response] pair of strings")
        out.append(make_message("user", pair[0]))
        out.append(make_message("assistant", pair[1]))
    return out
