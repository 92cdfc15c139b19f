"""Every touch of an upstream library's internals, in one place, each with a test in tests/unit/compat/.

A private or undocumented name, attribute, signature or behaviour of transformers, peft, accelerate or torch that
Sartor relies on is reached through a named function of this package (transformers.py, peft.py, accelerate.py,
torch.py, modelscope.py, and noise.py for the upstream messages silenced by name); the rest of the code calls
that function. Public, documented API is used directly.
Trainer methods that Sartor overrides although they are private stay in its Trainer subclasses; this package
declares the signatures relied on and checks them (`transformers.require_trainer_api`). docs/DESIGN.md, "Upstream
internals", lists every touch and its test.

This package imports no other Sartor package than sartor.utils, and no upstream library at import time (the
command line parses flags without loading transformers).

Tested versions (TESTED below; pyproject.toml pins the same ranges). Importing this package warns once when an
installed version lies outside them; it never fails for that alone. Why these bounds:
- upper bounds: the next minor release is untested. Private Trainer methods, the DynamicCache layout and PEFT's
  layer attributes change between minor releases without notice, so a new minor is admitted once
  tests/unit/compat/ passes on it (run it with the new release first on PYTHONPATH).
- transformers >= 5.23: tests/unit/compat/ passes on 5.23.0, 5.24.0 and 5.25.0, and the trainer, loss, rlhf and
  batching unit tests on 5.23.0 too. On 5.22.2 it fails: TrainingArguments has no activation_checkpointing yet
  (the documented rename of gradient_checkpointing that rename_training_args relies on). 5.24 renamed the
  forward's `past_key_values` to `cache`: both names are handled (cache_argument, returned_cache).
- peft >= 0.20: the floor transformers 5.23 itself declares; tests/unit/compat/ passes on 0.19.1, 0.20.0, 0.21.0
  and 0.21.2 (`cast_input_dtype_enabled` on every adapter layer). peft 0.17 cannot be imported beside
  transformers 5 (it imports the removed HybridCache), so the former floor 0.17 was never installable.
- accelerate >= 1.14: tests/unit/compat/ passes on 1.13.0 to 1.16.0 and on 1.2.0, but transformers 5.23's Trainer
  fails with 1.2.0 (unwrap_model(keep_torch_compile=)); the trainer unit tests pass with 1.14.0, the oldest
  release tested with them (ACCELERATE_BYPASS_DEVICE_MAP, Accelerator.scaler).
- torch >= 2.6, < 3: transformers 5.x turns its PyTorch support off below 2.6; the one torch touch is `_orig_mod`
  of torch.compile's wrapper, there since torch 2.0 (tested on 2.13).
"""
import functools
import importlib.metadata
from typing import Optional

from ..utils.errors import SartorError
from ..utils.logging import get_logger

# library -> (lowest tested version, first version not tested); pyproject.toml's dependencies say the same
TESTED: dict[str, tuple[str, str]] = {
    "transformers": ("5.23.0", "5.26"),
    "peft": ("0.20.0", "0.22"),
    "accelerate": ("1.14.0", "1.17"),
    "torch": ("2.6", "3"),
}


class UpstreamChanged(SartorError):
    """An installed upstream library no longer has an internal Sartor relies on (see the message for which)."""


def installed_version(library: str) -> Optional[str]:
    """The installed distribution's version, or None when it is not installed."""
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return None


def _release(version: str) -> tuple[int, ...]:
    """The numeric release of a version string, without trailing zeros: '2.13.0+cpu' -> (2, 13),
    '5.26.0.dev0' -> (5, 26), '2.6' -> (2, 6)."""
    from packaging.version import InvalidVersion, Version

    try:
        release = list(Version(version).release)
    except InvalidVersion:
        return ()
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    return tuple(release)


def is_tested(library: str, version: str) -> bool:
    """Whether `version` of `library` lies in the tested range (a pre-release of the first untested one does not)."""
    low, high = TESTED[library]
    release = _release(version)
    return bool(release) and _release(low) <= release < _release(high)


def untested_versions() -> list[str]:
    """One line per installed library outside its tested range."""
    lines = []
    for library, (low, high) in TESTED.items():
        version = installed_version(library)
        if version is not None and not is_tested(library, version):
            lines.append(f"{library} {version} is outside the tested range >={low},<{high}")
    return lines


@functools.lru_cache(maxsize=1)
def warn_untested_versions() -> list[str]:
    """Warn once per process about libraries outside their tested ranges; returns the lines warned."""
    lines = untested_versions()
    if lines:
        get_logger().warning("; ".join(lines) + ": Sartor relies on some of their internals (sartor/compat), which "
                             "may have changed; pip install 'sartor' pins the tested versions")
    return lines


def relied_on(library: str, thing: str) -> str:
    """The start of a message about something Sartor relies on: '<library> <version>: <thing>'."""
    return f"{library} {installed_version(library) or '(not installed)'}: {thing}"


warn_untested_versions()
