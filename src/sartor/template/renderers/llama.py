"""Llama-3.1 / 3.2 renderer (system header with dates, JSON tool calls), exact to the official template."""
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from ..errors import TemplateError
from ..messages import to_json
from ..rendered import Rendered

if TYPE_CHECKING:
    from ..base import Template

HEADER = "<|start_header_id|>{role}<|end_header_id|>\n\n"
EOT = "<|eot_id|>"
TOOLS_USER_INTRO = ("Given the following functions, please respond with a JSON for a function call "
                    "with its proper arguments that best answers the given prompt.\n\n"
                    'Respond in the format {"name": function name, "parameters": dictionary of argument name '
                    'and its value}.Do not use variables.\n\n')


def today() -> str:
    """Today's date as Llama-3.2's template writes it (strftime_now('%d %b %Y'))."""
    return datetime.now().strftime("%d %b %Y")


def render_llama3_1(t: "Template", messages: list[dict], tools: Optional[list[dict]],
                    add_generation_prompt: bool, date_string: Optional[str] = None) -> Rendered:
    """Llama-3.1-Instruct's template (tools in the first user message); 3.2 passes today's date."""
    out = Rendered()
    out.add(t.special["BOS"])
    offset = 0
    if messages[0]["role"] == "system":
        system = messages[0]["content"].strip()
        offset = 1
    else:
        system = (t.default_system or "").strip()
    out.add(HEADER.format(role="system"))
    if tools is not None:
        out.add("Environment: ipython\n")
    out.add("Cutting Knowledge Date: December 2023\n")
    out.add("Today Date: " + (date_string or today()) + "\n\n")
    out.add(system + EOT)
    rest = messages[offset:]
    if tools is not None:
        if not rest:
            raise TemplateError("llama3.1 puts tools into the first user message, but there is none")
        first = rest[0]["content"].strip()
        out.add(HEADER.format(role="user") + TOOLS_USER_INTRO)
        out.add("".join(to_json(tool, indent=4) + "\n\n" for tool in tools))
        out.add(first + EOT)
        rest = rest[1:]
        offset += 1
    for j, msg in enumerate(rest):
        i = j + offset
        role = msg["role"]
        if role == "assistant" and msg.get("tool_calls"):
            if len(msg["tool_calls"]) != 1:
                raise TemplateError(f"llama3.1: message {i} has {len(msg['tool_calls'])} tool calls; "
                                    "this model only supports one tool call at once")
            fn = msg["tool_calls"][0]["function"]
            out.add(HEADER.format(role="assistant"))
            out.add('{"name": "' + fn["name"] + '", "parameters": ' + to_json(fn["arguments"]) + "}", i)
            out.add(EOT, i)
        elif role == "assistant":
            out.add(HEADER.format(role="assistant"))
            out.add(msg["content"].strip(), i)
            out.add(EOT, i)
        elif role == "tool":
            # the official template JSON-encodes tool results, strings included
            out.add(HEADER.format(role="ipython") + to_json(msg["content"]) + EOT)
        else:
            out.add(HEADER.format(role=role) + msg["content"].strip() + EOT)
    if add_generation_prompt:
        out.add(HEADER.format(role="assistant"))
    return out
