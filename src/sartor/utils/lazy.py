"""Import optional heavy dependencies only where they are needed, with an install hint."""
import importlib
from types import ModuleType

from .errors import SartorError


def require(module: str, extra: str, package: str | None = None) -> ModuleType:
    """Import `module` or raise an error that says which `pip install` fixes it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        pkg = package or module.split(".")[0]
        raise SartorError(
            f"this feature needs the '{pkg}' package ({e}). Install it with: "
            f"pip install 'sartor[{extra}]'  (or: pip install {pkg})"
        ) from None
