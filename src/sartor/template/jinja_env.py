"""Rendering a chat_template with jinja2 the way transformers' apply_chat_template does."""
import json
from datetime import datetime
from functools import lru_cache
from typing import Any, Optional

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import TemplateError


class _GenerationTag(jinja2.ext.Extension):
    """Accept `{% generation %}...{% endgeneration %}` (transformers' assistant-mask tag) as a no-op."""

    tags = {"generation"}

    def parse(self, parser: Any) -> jinja2.nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_passthrough"), [], [], body).set_lineno(lineno)

    def _passthrough(self, caller: Any) -> str:
        return caller()


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x: Any, ensure_ascii: bool = False, indent: Optional[int] = None,
            separators: Any = None, sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


@lru_cache(maxsize=64)
def compile_chat_template(source: str) -> jinja2.Template:
    """Compile a chat template in a sandbox with transformers' globals and filters."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[_GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"the chat template is not valid jinja: {e}") from None


def render_chat_template(source: str, messages: list[dict], tools: Optional[list[dict]] = None,
                         add_generation_prompt: bool = False, **kwargs: Any) -> str:
    """Render `source` with the given messages; the template's own errors become TemplateError."""
    template = compile_chat_template(source)
    try:
        return template.render(messages=messages, tools=tools, documents=None,
                               add_generation_prompt=add_generation_prompt, **kwargs)
    except jinja2.exceptions.TemplateError as e:
        raise TemplateError(f"the chat template refused the conversation: {e}") from None


def special_token_kwargs(tokenizer: Any) -> dict[str, Any]:
    """The tokenizer's special tokens as template variables (bos_token, eos_token, ...)."""
    kwargs: dict[str, Any] = {}
    try:
        kwargs.update(tokenizer.special_tokens_map)
    except AttributeError:
        pass
    for name in ("bos_token", "eos_token", "pad_token", "unk_token"):
        value = getattr(tokenizer, name, None)
        if value is not None:
            kwargs.setdefault(name, str(value))
    return kwargs
