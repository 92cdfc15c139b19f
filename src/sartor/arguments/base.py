"""Shared behaviour of every composed argument class: validation of each concern, and which flags the user gave."""
import dataclasses
from typing import Any, Optional


def is_internal(f: dataclasses.Field) -> bool:
    """A field that is no flag (not parsed, not in --help, not recorded in args.json)."""
    return bool(f.metadata.get("internal"))


@dataclasses.dataclass
class ArgumentsBase:
    """Mixin: __post_init__ runs each concern's `_validate_<concern>` method once.

    `explicit_flags` holds the names the user set (flags, YAML, aliases), or None when the arguments were built
    in Python; it is a field, so `dataclasses.replace` keeps it."""

    explicit_flags: Optional[frozenset] = dataclasses.field(default=None, repr=False, compare=False,
                                                            metadata={"internal": True})

    def was_given(self, name: str) -> bool:
        """Whether the user set `name` (built in Python: whether it differs from its default)."""
        if self.explicit_flags is not None:
            return name in self.explicit_flags
        f = next((f for f in dataclasses.fields(self) if f.name == name), None)
        if f is None:
            return False
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        return getattr(self, name) != default

    def __post_init__(self) -> None:
        seen = set()
        for klass in type(self).__mro__:
            for name, fn in vars(klass).items():
                if name.startswith("_validate_") and name not in seen and callable(fn):
                    seen.add(name)
                    getattr(self, name)()

    def to_dict(self) -> dict[str, Any]:
        """The flags' values (no internal fields)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not is_internal(f)}
