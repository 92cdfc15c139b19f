"""Parsing tool calls out of generated replies (Hermes/Qwen XML tags, Llama-3.1 JSON)."""
import json
import re

_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)


def _call(name: str, arguments: object) -> dict:
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


def parse_hermes_tool_calls(text: str) -> list[dict]:
    """`<tool_call>{"name": ..., "arguments": {...}}</tool_call>` blocks (Qwen2.5, Qwen3, Hermes)."""
    calls = []
    for block in _HERMES.findall(text):
        try:
            obj = json.loads(block)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and "name" in obj:
            calls.append(_call(obj["name"], obj.get("arguments", {})))
    return calls


def parse_llama3_tool_calls(text: str) -> list[dict]:
    """A reply that is one JSON object `{"name": ..., "parameters": {...}}` (Llama-3.1/3.2)."""
    body = text.strip()
    if body.startswith("<|python_tag|>"):
        body = body[len("<|python_tag|>"):]
    for end in ("<|eot_id|>", "<|eom_id|>"):
        body = body.split(end)[0]
    try:
        obj = json.loads(body.strip())
    except json.JSONDecodeError:
        return []
    objs = obj if isinstance(obj, list) else [obj]
    calls = []
    for o in objs:
        if isinstance(o, dict) and "name" in o:
            calls.append(_call(o["name"], o.get("parameters", o.get("arguments", {}))))
    return calls
