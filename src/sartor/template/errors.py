"""The error a user's data or options can cause in a template."""
from ..utils.errors import SartorError


class TemplateError(SartorError, ValueError):
    """A row or option the template cannot render (unknown role, bad order, unsupported system, ...)."""
