"""Shared behaviour of every composed argument class: validation of each concern."""
import dataclasses
from typing import Any


class ArgumentsBase:
    """Mixin: __post_init__ runs each concern's `_validate_<concern>` method once."""

    def __post_init__(self) -> None:
        seen = set()
        for klass in type(self).__mro__:
            for name, fn in vars(klass).items():
                if name.startswith("_validate_") and name not in seen and callable(fn):
                    seen.add(name)
                    getattr(self, name)()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
