"""The renderer for templates declared by pieces (prefix, prompt, chat_sep, suffix, ...)."""
from typing import TYPE_CHECKING, Optional

from .errors import TemplateError
from .messages import split_system
from .rendered import Rendered

if TYPE_CHECKING:
    from .base import Template


def add_assistant(t: "Template", out: Rendered, header: str, body: str, sep: str, index: int) -> None:
    """Append an assistant turn: the header up to the generation prompt is context; the rest of the
    header, the body and the end-of-turn token(s) in `sep` are the span that carries loss."""
    gen = t.piece("gen_prompt")
    if gen and header.startswith(gen):
        out.add(header[: len(gen)])
        out.add(header[len(gen):], index)
    elif not gen:
        out.add(header, index)
    else:
        out.add(header)
    out.add(body, index)
    out.add_turn_end(sep, t.eots, index)


def render_generic(t: "Template", messages: list[dict], tools: Optional[list[dict]],
                   add_generation_prompt: bool) -> Rendered:
    """Render `messages` with the template's pieces; raise TemplateError where the format cannot."""
    meta = t.meta
    if tools:
        raise TemplateError(f"template {t.template_type!r} has no tool format; use a template with tools "
                            "(e.g. qwen2.5, llama3.1) or 'jinja'")
    system, rest = split_system(messages)
    offset = len(messages) - len(rest)
    if system is None:
        system = t.default_system
    if system is not None and meta.strip_system:
        system = system.strip()
    if system == "" and meta.skip_empty_system:
        system = None
    if system is not None and not (meta.system_prefix is not None or meta.system_in_query is not None):
        raise TemplateError(f"template {t.template_type!r} does not support a system message")

    out = Rendered()
    if meta.auto_bos and t.adds_bos:
        out.add(t.special["BOS"])
    pending_system = None
    if system is not None and meta.system_prefix is not None:
        out.add(t.fill(meta.system_prefix, SYSTEM=system))
    else:
        out.add(t.fill(meta.prefix))
        pending_system = system
    n_user = 0
    for j, msg in enumerate(rest):
        i = j + offset
        role, content = msg["role"], msg["content"]
        if meta.strip_content:
            content = content.strip()
        if meta.alternate and role != ("user" if j % 2 == 0 else "assistant"):
            raise TemplateError(f"template {t.template_type!r}: message {i} is {role!r}, but roles must "
                                "alternate user/assistant/user/... after the system message")
        if role == "system":
            raise TemplateError(f"template {t.template_type!r}: message {i}: a system message must come first")
        if role == "user":
            if pending_system is not None:
                content = t.fill(meta.system_in_query, SYSTEM=pending_system, QUERY=content)
                if meta.strip_composed_query:
                    content = content.strip()
                pending_system = None
            n_user += 1
            out.add(t.fill(meta.prompt, QUERY=content, ROUND=n_user, ROUND1=n_user, ROUND0=n_user - 1))
        elif role == "tool":
            if meta.tool_prompt is None:
                raise TemplateError(f"template {t.template_type!r} does not support tool messages (message {i})")
            out.add(t.fill(meta.tool_prompt, QUERY=content))
        else:
            if msg.get("tool_calls"):
                raise TemplateError(f"template {t.template_type!r} has no tool-call format (message {i})")
            last = j == len(rest) - 1
            if meta.drop_history_thinking and not last and "</think>" in content:
                content = content.split("</think>")[-1]
            sep = t.fill(meta.suffix if last else meta.chat_sep)
            add_assistant(t, out, t.fill(meta.response_prefix), content, sep, i)
    if pending_system is not None:
        raise TemplateError(f"template {t.template_type!r} puts the system message into the first user "
                            "message, but the conversation has no user message")
    ends_with_user = bool(rest) and rest[-1]["role"] != "assistant"
    if add_generation_prompt or (meta.always_generation_prompt and ends_with_user):
        out.add(t.piece("gen_prompt"))
    else:
        out.add(t.fill(meta.end))
    return out
