"""The canonical row and how it is stored inside Arrow.

Every dataset format is standardised into one row shape (DESIGN.md, "Canonical rows")::

    {"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": str,
                   "tool_calls": [...]?, "loss": bool?}, ...],
     "tools": [...]?, "images": [...]?, "rejected_response": str?, "label": bool?}

Representation inside a ``datasets.Dataset`` (one fixed schema, ``CANONICAL_FEATURES``, so
that datasets of different formats concatenate):

- ``messages``: list of structs ``{role, content, tool_calls, loss}``. ``tool_calls`` is a
  JSON string (or None) of a list in the OpenAI shape
  ``[{"type": "function", "function": {"name": str, "arguments": dict | str}}]``
  (``arguments`` is a dict whenever the source held a JSON object). ``loss`` is None unless
  the source said ``true``/``false``.
- ``tools``: a JSON string (or None) of a list of OpenAI tool schemas
  ``[{"type": "function", "function": {"name", "description", "parameters"}}]``.
- ``images``: list of strings (absolute local paths or URLs), or None.
- ``rejected_response``: str or None. ``label``: bool or None.

Columns absent from a format are None. ``decode_row`` turns a stored row back into the plain
Python canonical row (JSON strings parsed to lists, None-valued optional keys dropped), which
is what the template code consumes.
"""
from __future__ import annotations

import json
from typing import Any

from datasets import Dataset, Features, List, Value

MESSAGE_FEATURE = {
    "role": Value("string"),
    "content": Value("string"),
    "tool_calls": Value("string"),
    "loss": Value("bool"),
}

CANONICAL_FEATURES = Features(
    {
        "messages": List(MESSAGE_FEATURE),
        "tools": Value("string"),
        "images": List(Value("string")),
        "rejected_response": Value("string"),
        "label": Value("bool"),
    }
)

CANONICAL_COLUMNS = tuple(CANONICAL_FEATURES)

ROLES = ("system", "user", "assistant", "tool")


def make_message(role: str, content: str, tool_calls: list | None = None, loss: bool | None = None) -> dict:
    """One message in the Arrow representation (tool_calls as a JSON string)."""
    return {
        "role": role,
        "content": content,
        "tool_calls": json.dumps(tool_calls, ensure_ascii=False) if tool_calls else None,
        "loss": loss,
    }


def make_row(
    messages: list[dict],
    *,
    tools: list | None = None,
    images: list[str] | None = None,
    rejected_response: str | None = None,
    label: bool | None = None,
) -> dict:
    """One canonical row in the Arrow representation."""
    return {
        "messages": messages,
        "tools": json.dumps(tools, ensure_ascii=False) if tools else None,
        "images": list(images) if images else None,
        "rejected_response": rejected_response,
        "label": label,
    }


def empty_row() -> dict:
    """A placeholder row (used for rows that failed and are dropped afterwards)."""
    return {"messages": [], "tools": None, "images": None, "rejected_response": None, "label": None}


def canonical_dataset(rows: list[dict]) -> Dataset:
    """A Dataset of canonical rows (none is fine: ``Dataset.from_list([])`` loses the columns)."""
    return Dataset.from_dict({c: [r[c] for r in rows] for c in CANONICAL_COLUMNS}, features=CANONICAL_FEATURES)


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """Turn a stored canonical row into plain Python: tools/tool_calls as lists, absent keys dropped."""
    messages = []
    for m in row["messages"]:
        msg: dict[str, Any] = {"role": m["role"], "content": m["content"]}
        tool_calls = m.get("tool_calls")
        if tool_calls:
            msg["tool_calls"] = json.loads(tool_calls) if isinstance(tool_calls, str) else tool_calls
        if m.get("loss") is not None:
            msg["loss"] = bool(m["loss"])
        messages.append(msg)
    out: dict[str, Any] = {"messages": messages}
    tools = row.get("tools")
    if tools:
        out["tools"] = json.loads(tools) if isinstance(tools, str) else tools
    if row.get("images"):
        out["images"] = list(row["images"])
    if row.get("rejected_response") is not None:
        out["rejected_response"] = row["rejected_response"]
    if row.get("label") is not None:
        out["label"] = bool(row["label"])
    return out


def split_prompt(row: dict) -> tuple[list[dict], str | None]:
    """The conversation up to the last assistant message (the prompt) and that message (the label)."""
    messages = row["messages"]
    if messages and messages[-1]["role"] == "assistant":
        return messages[:-1], messages[-1]["content"]
    return messages, None
