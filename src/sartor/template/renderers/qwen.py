"""Qwen2/2.5 (Hermes-style tools) and Qwen3 (thinking) renderers, exact to the official templates."""
from typing import TYPE_CHECKING, Optional

from ..messages import to_json
from ..rendered import Rendered

if TYPE_CHECKING:
    from ..base import Template

TOOLS_INTRO = ("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
               "You are provided with function signatures within <tools></tools> XML tags:\n<tools>")
TOOLS_OUTRO = ("\n</tools>\n\nFor each function call, return a json object with function name and arguments "
               "within <tool_call></tool_call> XML tags:\n<tool_call>\n"
               '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n')


def tools_block(tools: list[dict]) -> str:
    """The tool definitions as the Qwen templates write them into the system message."""
    return TOOLS_INTRO + "".join("\n" + to_json(tool) for tool in tools) + TOOLS_OUTRO


def _tool_call_text(call: dict, raw_string_args: bool) -> str:
    fn = call["function"]
    args = fn["arguments"]
    args_text = args if (raw_string_args and isinstance(args, str)) else to_json(args)
    return '<tool_call>\n{"name": "' + fn["name"] + '", "arguments": ' + args_text + "}\n</tool_call>"


def _add_tool_message(out: Rendered, messages: list[dict], i: int, content: str) -> None:
    if i == 0 or messages[i - 1]["role"] != "tool":
        out.add("<|im_start|>user")
    out.add("\n<tool_response>\n" + content + "\n</tool_response>")
    if i == len(messages) - 1 or messages[i + 1]["role"] != "tool":
        out.add("<|im_end|>\n")


def _add_assistant_body(out: Rendered, body: str, i: int) -> None:
    """`<|im_start|>assistant\\n` is the generation prompt; the body after it and `<|im_end|>` are learnt."""
    if body.startswith("\n"):
        out.add("<|im_start|>assistant\n")
        out.add(body[1:], i)
    else:
        out.add("<|im_start|>assistant")
        out.add(body, i)
    out.add_turn_end("<|im_end|>\n", ["<|im_end|>"], i)


def render_qwen2_5(t: "Template", messages: list[dict], tools: Optional[list[dict]],
                   add_generation_prompt: bool) -> Rendered:
    """Qwen2.5-Instruct's official template (also Qwen2 with its own default system)."""
    out = Rendered()
    first_is_system = messages[0]["role"] == "system"
    system = messages[0]["content"] if first_is_system else t.default_system
    if tools:
        out.add("<|im_start|>system\n" + (system or "") + "\n\n" + tools_block(tools))
    elif system is not None:
        out.add("<|im_start|>system\n" + system + "<|im_end|>\n")
    for i, msg in enumerate(messages):
        role, content = msg["role"], msg["content"]
        if role == "user" or (role == "system" and i > 0):
            out.add("<|im_start|>" + role + "\n" + content + "<|im_end|>\n")
        elif role == "assistant" and not msg.get("tool_calls"):
            _add_assistant_body(out, "\n" + content, i)
        elif role == "assistant":
            body = ("\n" + content if content else "")
            body += "".join("\n" + _tool_call_text(c, raw_string_args=False) for c in msg["tool_calls"])
            _add_assistant_body(out, body, i)
        elif role == "tool":
            _add_tool_message(out, messages, i, content)
    if add_generation_prompt:
        out.add("<|im_start|>assistant\n")
    return out


def _is_tool_response(content: str) -> bool:
    return content.startswith("<tool_response>") and content.endswith("</tool_response>")


def _split_thinking(msg: dict) -> tuple[str, str]:
    content = msg["content"]
    reasoning = msg.get("reasoning_content")
    if isinstance(reasoning, str):
        return reasoning, content
    if "</think>" in content:
        reasoning = content.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
        return reasoning, content.split("</think>")[-1].lstrip("\n")
    return "", content


def render_qwen3(t: "Template", messages: list[dict], tools: Optional[list[dict]],
                 add_generation_prompt: bool, enable_thinking: bool = True) -> Rendered:
    """Qwen3's official template: reasoning kept after the last user query, dropped before it."""
    out = Rendered()
    if messages[0]["role"] != "system" and t.default_system is not None:
        messages = [{"role": "system", "content": t.default_system}] + messages
        shift = 1
    else:
        shift = 0
    first_is_system = messages[0]["role"] == "system"
    if tools:
        out.add("<|im_start|>system\n")
        if first_is_system:
            out.add(messages[0]["content"] + "\n\n")
        out.add(tools_block(tools))
    elif first_is_system:
        out.add("<|im_start|>system\n" + messages[0]["content"] + "<|im_end|>\n")
    last_query = len(messages) - 1
    for i in range(len(messages) - 1, -1, -1):
        m = messages[i]
        if m["role"] == "user" and not _is_tool_response(m["content"]):
            last_query = i
            break
    for i, msg in enumerate(messages):
        role, content = msg["role"], msg["content"]
        idx = i - shift
        if role == "user" or (role == "system" and i > 0):
            out.add("<|im_start|>" + role + "\n" + content + "<|im_end|>\n")
        elif role == "assistant":
            reasoning, content = _split_thinking(msg)
            last = i == len(messages) - 1
            if i > last_query and (last or reasoning):
                body = "\n<think>\n" + reasoning.strip("\n") + "\n</think>\n\n" + content.lstrip("\n")
            else:
                body = "\n" + content
            for k, call in enumerate(msg.get("tool_calls") or []):
                if (k == 0 and content) or k > 0:
                    body += "\n"
                body += _tool_call_text(call, raw_string_args=True)
            _add_assistant_body(out, body, idx)
        elif role == "tool":
            _add_tool_message(out, messages, i, content)
    if add_generation_prompt:
        out.add("<|im_start|>assistant\n")
        if not enable_thinking:
            out.add("<think>\n\n</think>\n\n")
    return out
