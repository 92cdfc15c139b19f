"""Secrets (hub tokens, API keys, UI passwords) never reach disk or logs: what is recorded is that one was given.

A field is secret when its metadata says so (`arg(..., secret=True)`); keys with these names inside free-form
dicts (`training_args`, `model_kwargs`) are treated alike."""
import dataclasses
from typing import Any, Mapping, Union

from .base import ArgumentsBase

GIVEN = "<given, not recorded>"
SECRET_KEYS = frozenset({"hub_token", "token", "api_key", "auth", "password", "use_auth_token"})


def secret_names(args: Union[ArgumentsBase, type[ArgumentsBase], Mapping[str, Any]]) -> set[str]:
    """Names of the secret fields of an argument dataclass (instance or class); none for a plain mapping."""
    if not dataclasses.is_dataclass(args):
        return set()
    return {f.name for f in dataclasses.fields(args) if f.metadata.get("secret")}


def redacted(values: Any, secrets: frozenset[str] | set[str] = SECRET_KEYS) -> Any:
    """A copy of `values` whose secret entries (at any depth) read GIVEN when set; other values untouched."""
    if isinstance(values, dict):
        return {k: (GIVEN if k in secrets and v not in (None, "", [], False) else redacted(v, secrets))
                for k, v in values.items()}
    if isinstance(values, (list, tuple)):
        return type(values)(redacted(v, secrets) for v in values)
    return values


def redacted_args(args: Union[ArgumentsBase, Mapping[str, Any]], values: dict) -> dict:
    """`values` (the fields of `args`, maybe with extras) with every secret of `args` and every secret-named key masked."""
    return redacted(values, SECRET_KEYS | secret_names(args))
