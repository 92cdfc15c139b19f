"""Built-in templates; importing this package registers them all."""
from . import chatml, chinese, llama, misc  # noqa: F401
