"""Chat templates: render canonical rows exactly as the model's own template and encode them.

`get_template(name, tokenizer)` gives a Template; `name` is a built-in (see TEMPLATE_MAPPING and
TemplateType) or 'jinja' for the tokenizer's own chat_template."""
from .base import Template
from .errors import TemplateError
from .jinja_template import JinjaTemplate
from .labels import IGNORE_INDEX
from .meta import TemplateMeta
from .registry import TEMPLATE_MAPPING, get_template, register_template
from .rendered import Rendered
from .template_type import TemplateType
from . import builtin  # noqa: F401,E402  (registers the built-in templates)

__all__ = [
    "IGNORE_INDEX", "JinjaTemplate", "Rendered", "TEMPLATE_MAPPING", "Template", "TemplateError",
    "TemplateMeta", "TemplateType", "get_template", "register_template",
]
