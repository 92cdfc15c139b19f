"""`--tools_prompt react_en|react_zh`: tools for any template, in the ReAct format.

The tools are described in the system message; an assistant tool call is written as
`Action: <name>` / `Action Input: <JSON arguments>` after the assistant's text, and a tool result comes back
as a user turn `Observation: <result>`. Generation stops at `Observation:`; parse_react_tool_calls reads the
calls back out of a reply. The conversation stays one message per message, so label spans keep their indices.
"""
from __future__ import annotations

import json
import re
from typing import Optional

from .errors import TemplateError
from .messages import to_json
from .tool_calls import _call

_HEADERS = {
    "react_en": ("Answer the following questions as best you can. You have access to the following tools:\n\n{tools}\n\n"
                 "Use the following format:\n\n"
                 "Thought: you should always think about what to do\n"
                 "Action: the action to take, should be one of [{names}]\n"
                 "Action Input: the input to the action, as JSON\n"
                 "Observation: the result of the action\n"
                 "... (this Thought/Action/Action Input/Observation can be repeated zero or more times)\n"
                 "Thought: I now know the final answer\n"
                 "Final Answer: the final answer to the original input question\n\nBegin!"),
    "react_zh": ("尽你所能回答以下问题。你可以使用以下工具：\n\n{tools}\n\n"
                 "请使用以下格式：\n\n"
                 "Thought: 思考你应该做什么\n"
                 "Action: 要采取的动作，应为 [{names}] 之一\n"
                 "Action Input: 动作的输入，JSON 格式\n"
                 "Observation: 动作的结果\n"
                 "……（Thought/Action/Action Input/Observation 可以重复零次或多次）\n"
                 "Thought: 我现在知道最终答案了\n"
                 "Final Answer: 对原始问题的最终答案\n\n开始！"),
}
TOOLS_PROMPTS = tuple(_HEADERS)
STOP_WORD = "Observation:"
_ACTION = re.compile(r"Action:\s*(.+?)\s*\nAction Input:\s*(.*?)\s*(?=\nAction:|\nObservation:|$)", re.S)


def check_tools_prompt(name: Optional[str]) -> Optional[str]:
    if name is not None and name not in _HEADERS:
        raise TemplateError(f"--tools_prompt {name!r} is not known; choose {' or '.join(TOOLS_PROMPTS)}, or leave it "
                            "unset for the template's own tool format")
    return name


def uses_react(tools_prompt: Optional[str], messages: list[dict], tools: Optional[list]) -> bool:
    """Whether this conversation is written in the ReAct format: --tools_prompt is set and tools take part."""
    return bool(tools_prompt) and bool(tools or any(m["role"] == "tool" or m.get("tool_calls") for m in messages))


def react_stop_words(tools_prompt: Optional[str]) -> list[str]:
    """Generation stops where the tool's result would come in."""
    return [STOP_WORD] if tools_prompt else []


def _describe(tool: dict) -> tuple[str, str]:
    fn = tool.get("function", tool)
    name = fn.get("name", "")
    text = f"{name}: {fn.get('description', '')} Parameters: {to_json(fn.get('parameters', {}))}".replace("  ", " ")
    return name, text


def react_messages(messages: list[dict], tools: list[dict], fmt: str,
                   default_system: Optional[str]) -> tuple[list[dict], int]:
    """The conversation rewritten for a template without tool support, and how many messages were put in
    front (1 when the tool description became a new system message)."""
    described = [_describe(t) for t in tools]
    header = _HEADERS[fmt].format(tools="\n\n".join(d for _, d in described), names=", ".join(n for n, _ in described))
    out: list[dict] = []
    shift = 0
    if messages and messages[0]["role"] == "system":
        out.append({**messages[0], "content": f"{messages[0]['content']}\n\n{header}"})
        rest = messages[1:]
    else:
        out.append({"role": "system", "content": f"{default_system}\n\n{header}" if default_system else header})
        rest, shift = messages, 1
    for msg in rest:
        if msg["role"] == "tool":
            out.append({"role": "user", "content": f"{STOP_WORD} {msg['content']}"})
        elif msg["role"] == "assistant" and msg.get("tool_calls"):
            actions = "\n".join(f"Action: {c['function']['name']}\nAction Input: {_arguments(c)}"
                                for c in msg["tool_calls"])
            text = f"{msg['content']}\n{actions}" if msg["content"] else actions
            out.append({k: v for k, v in {**msg, "content": text}.items() if k != "tool_calls"})
        else:
            out.append(msg)
    return out, shift


def _arguments(call: dict) -> str:
    args = call["function"]["arguments"]
    return args if isinstance(args, str) else to_json(args)


def parse_react_tool_calls(text: str) -> list[dict]:
    """`Action: name` / `Action Input: {...}` pairs in a reply, as OpenAI tool calls."""
    calls = []
    for name, raw in _ACTION.findall(text):
        try:  # the JSON value first; anything after it (an end-of-turn token) is not part of the call
            arguments = json.JSONDecoder().raw_decode(raw)[0] if raw else {}
        except json.JSONDecodeError:
            arguments = raw
        calls.append(_call(name.strip(), arguments))
    return calls


def text_before_actions(text: str) -> str:
    """A reply's own words: what comes before its first `Action:` line."""
    return re.split(r"(?:^|\n)Action:", text, maxsplit=1)[0]
