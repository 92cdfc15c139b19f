"""Standardise one raw row of any supported format into a canonical row.

Formats are detected from the row's keys, in this order:

1. preference: ``chosen`` + ``rejected`` (strings with a prompt/instruction/query column, single
   ShareGPT/OpenAI turns as in LLaMA-Factory's ``dpo_en_demo.json``, or whole message lists);
2. conversations: ``messages`` / ``conversations`` / ``conversation`` / ... (OpenAI
   ``role``/``content`` incl. ``tool_calls`` and role ``tool``; ShareGPT ``from``/``value`` incl.
   ``function_call``/``observation``; Qwen chatml ``{"type": "chatml", "messages": ...}``);
3. Alpaca: ``instruction``/``input``/``output`` (+ ``system``, ``history``). The query is
   ``instruction + "\\n" + input`` when ``input`` is non-empty (LLaMA-Factory's joining);
4. ms-swift: ``query``/``response`` (+ ``history``, ``system``); aliases ``prompt``/``question``
   for the query and ``answer``/``completion``/``output``/``target`` for the response;
5. pre-training: ``text`` -> one assistant message.

Then the optional columns: ``system``, ``tools``, ``images``/``image``, ``rejected_response``
and a boolean KTO ``label``. Problems raise ``RowError`` with what is wrong; so does a row with no
user and no assistant content (whitespace only counts as empty).
"""
from __future__ import annotations

import os
from typing import Any

from .canonical import make_message, make_row
from .messages import RowError, history_messages, standardize_turns, normalize_tools, parse_json_maybe

CONVERSATION_KEYS = ("messages", "conversations", "conversation", "chat_rounds", "dialog", "dialogue", "turns")
QUERY_KEYS = ("query", "prompt", "question")
RESPONSE_KEYS = ("response", "answer", "completion", "output", "target", "targets")
URL_PREFIXES = ("http://", "https://", "data:", "s3://", "gs://", "oss://")


def _first(row: dict, keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for k in keys:
        if row.get(k) is not None:
            return k, row[k]
    return None, None


def _as_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise RowError(f"{what} must be a string, got {type(value).__name__}")
    return value


def _find_conversation(row: dict) -> Any:
    key, value = _first(row, CONVERSATION_KEYS)
    if key is not None:
        return value
    for k, v in row.items():  # any other list of role/content or from/value turns
        if isinstance(v, list) and v and isinstance(v[0], dict) and ({"role", "from"} & set(v[0])):
            if k not in ("chosen", "rejected", "images"):
                return v
    return None


def _system_messages(row: dict) -> list[dict]:
    system = row.get("system")
    if system is None or system == "":
        return []
    return [make_message("system", _as_text(system, "system"))]


def _alpaca_query(row: dict) -> str:
    instruction = _as_text(row["instruction"], "instruction")
    extra = row.get("input")
    if extra is not None and not isinstance(extra, str):
        raise RowError(f"input must be a string, got {type(extra).__name__}")
    return f"{instruction}\n{extra}" if extra else instruction


def _prompt_messages(row: dict, images: list) -> list[dict] | None:
    """The prompt part of a row (system, history, query), or None when the row has no prompt."""
    conversation = _find_conversation(row)
    if conversation is not None:
        messages = standardize_turns(conversation, images)
    elif row.get("instruction") is not None:
        messages = history_messages(row.get("history")) + [make_message("user", _alpaca_query(row))]
    else:
        key, query = _first(row, QUERY_KEYS)
        if key is None:
            return None
        query = parse_json_maybe(query, key) if isinstance(query, str) and query[:1] == "[" else query
        if isinstance(query, list):  # TRL style: prompt as a list of messages
            messages = standardize_turns(query, images)
        else:
            messages = history_messages(row.get("history")) + [make_message("user", _as_text(query, key))]
    if messages and messages[0]["role"] != "system":
        messages = _system_messages(row) + messages
    return messages


def _answer(value: Any, what: str, images: list) -> list[dict]:
    """A chosen/rejected value -> the messages it holds (one assistant message for a string)."""
    if isinstance(value, str):
        return [make_message("assistant", value)]
    if isinstance(value, dict):
        return standardize_turns([value], images)
    if isinstance(value, list):
        return standardize_turns(value, images)
    raise RowError(f"{what} must be a string, a turn or a list of turns, got {type(value).__name__}")


def _preference(row: dict, images: list) -> tuple[list[dict], str]:
    prompt = _prompt_messages(row, images)
    chosen = _answer(row["chosen"], "chosen", images)
    rejected = _answer(row["rejected"], "rejected", [])
    if chosen[-1]["role"] != "assistant" or rejected[-1]["role"] != "assistant":
        raise RowError("chosen and rejected must end with an assistant answer")
    if prompt is None:  # whole conversations in chosen/rejected
        if len(chosen) < 2:
            raise RowError("preference row has no prompt (prompt/query/instruction/conversations column)")
        return chosen, rejected[-1]["content"]
    if len(chosen) > 1 and chosen[0]["role"] != "assistant":  # chosen repeats the prompt
        chosen = chosen[len(prompt):] if chosen[: len(prompt)] == prompt else chosen[-1:]
    return prompt + chosen, rejected[-1]["content"]


def _label(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise RowError(f"label must be a boolean (KTO), got {value!r:.40}; rename the column with --columns if it is not")


def _image_path(item: Any, base_dir: str | None) -> str:
    if isinstance(item, dict):
        item = item.get("path") or item.get("url") or item.get("image")
    elif hasattr(item, "filename"):  # PIL image opened from a file
        item = item.filename
    if not isinstance(item, str) or not item:
        raise RowError("images must be paths or URLs (in-memory images are not supported)")
    if item.startswith(URL_PREFIXES) or os.path.isabs(item):
        return item
    if base_dir is not None:
        return os.path.normpath(os.path.join(base_dir, item))
    return os.path.abspath(item)


def _images(row: dict, collected: list, base_dir: str | None) -> list[str] | None:
    value = row.get("images")
    if value is None:
        value = row.get("image")
    items = list(collected)
    if value is not None:
        items += value if isinstance(value, list) else [value]
    return [_image_path(i, base_dir) for i in items] or None


def standardize_row(row: dict[str, Any], base_dir: str | None = None) -> dict[str, Any]:
    """Convert one raw row into a canonical row (Arrow representation, see canonical.py).

    `base_dir` is the data file's folder; relative image paths are resolved against it.
    """
    images: list = []
    rejected_response = row.get("rejected_response")
    if row.get("chosen") is not None and row.get("rejected") is not None:
        messages, rejected_response = _preference(row, images)
    elif (conversation := _find_conversation(row)) is not None:
        messages = standardize_turns(conversation, images)
        if messages[0]["role"] != "system":
            messages = _system_messages(row) + messages
    elif row.get("instruction") is not None:
        if row.get("output") is None:
            raise RowError("Alpaca row has an instruction but no output")
        messages = _prompt_messages(row, images) + [make_message("assistant", _as_text(row["output"], "output"))]
    elif _first(row, QUERY_KEYS)[0] is not None:
        key, response = _first(row, RESPONSE_KEYS)
        if key is None:
            raise RowError("row has a query but no response")
        messages = _prompt_messages(row, images) + [make_message("assistant", _as_text(response, key))]
    elif row.get("text") is not None:
        messages = [make_message("assistant", _as_text(row["text"], "text"))]
    elif _first(row, RESPONSE_KEYS)[0] is not None:  # response only: pre-training style
        key, response = _first(row, RESPONSE_KEYS)
        messages = [make_message("assistant", _as_text(response, key))]
    else:
        cols = ", ".join(sorted(k for k, v in row.items() if v is not None)) or "none"
        raise RowError(f"no known format (columns with values: {cols})")
    if not any(m["role"] in ("user", "assistant") and (m["content"].strip() or m["tool_calls"]) for m in messages):
        raise RowError("empty row: no user and no assistant content (the query and the response are both empty)")
    if rejected_response is not None:
        rejected_response = _as_text(rejected_response, "rejected_response")
    return make_row(
        messages,
        tools=normalize_tools(row.get("tools")),
        images=_images(row, images, base_dir),
        rejected_response=rejected_response,
        label=_label(row.get("label")),
    )
