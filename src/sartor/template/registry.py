"""The template registry: TEMPLATE_MAPPING, register_template and get_template."""
from typing import Any, Optional

from .base import Template
from .errors import TemplateError
from .meta import TemplateMeta

TEMPLATE_MAPPING: dict[str, TemplateMeta] = {}


def register_template(meta: TemplateMeta, exist_ok: bool = False) -> TemplateMeta:
    """Add a template under `meta.template_type` (for users' plug-ins too)."""
    name = meta.template_type
    if name == "jinja":
        raise TemplateError("'jinja' is reserved for the tokenizer's own chat template")
    if name in TEMPLATE_MAPPING and not exist_ok:
        raise TemplateError(f"template {name!r} is already registered (pass exist_ok=True to replace it)")
    TEMPLATE_MAPPING[name] = meta
    return meta


def check_template_type(template_type: str) -> None:
    """Raise TemplateError, naming the closest names, unless `template_type` is registered (or 'jinja')."""
    if template_type == "jinja" or template_type in TEMPLATE_MAPPING:
        return
    import difflib

    close = difflib.get_close_matches(str(template_type), list(TEMPLATE_MAPPING) + ["jinja"], n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise TemplateError(f"unknown template {template_type!r}{hint} "
                        "(see sartor.template.TEMPLATE_MAPPING, or use 'jinja')")


def get_template(template_type: str, tokenizer: Any, default_system: Optional[str] = None,
                 max_length: Optional[int] = None, truncation_strategy: str = "delete",
                 loss_scale: str = "default", tools_prompt: Optional[str] = None) -> Template:
    """A template bound to `tokenizer`; 'jinja' uses the tokenizer's own chat_template. `tools_prompt`
    (react_en, react_zh) writes tools in the ReAct format instead of the template's own (or for one without)."""
    kwargs = dict(default_system=default_system, max_length=max_length,
                  truncation_strategy=truncation_strategy, loss_scale=loss_scale, tools_prompt=tools_prompt)
    if template_type == "jinja":
        from .jinja_template import JinjaTemplate

        return JinjaTemplate(tokenizer, **kwargs)
    check_template_type(template_type)
    meta = TEMPLATE_MAPPING[template_type]
    return Template(meta, tokenizer, **kwargs)
