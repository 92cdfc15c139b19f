"""Get a model onto the local disk: a local directory as is, else a Hugging Face or ModelScope snapshot."""
from __future__ import annotations

import os

from sartor.utils.errors import SartorError
from sartor.utils.lazy import require
from sartor.utils.logging import get_logger

__all__ = ["snapshot_download", "resolve_model_dir", "is_offline", "get_hub_token"]

_TRUE = {"1", "true", "yes", "on"}


def is_offline() -> bool:
    """True when HF_HUB_OFFLINE (or the older TRANSFORMERS_OFFLINE) asks for the local cache only."""
    return any(os.environ.get(k, "").strip().lower() in _TRUE for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def get_hub_token(use_hf: bool = True, token: str | None = None) -> str | None:
    """The token given, else HF_TOKEN / MODELSCOPE_API_TOKEN, else None (the library's saved login)."""
    if token:
        return token
    env = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN") if use_hf else ("MODELSCOPE_API_TOKEN",)
    for key in env:
        if os.environ.get(key):
            return os.environ[key]
    return None


def _hub_name(use_hf: bool) -> str:
    return "Hugging Face" if use_hf else "ModelScope"


def _failure(model_id: str, use_hf: bool, revision: str | None, err: Exception) -> SartorError:
    hub = _hub_name(use_hf)
    other = "--use_hf false (ModelScope)" if use_hf else "--use_hf true (Hugging Face)"
    rev = f" at revision {revision!r}" if revision else ""
    kind = type(err).__name__
    if is_offline() or kind in ("LocalEntryNotFoundError", "OfflineModeIsEnabled"):
        why = (
            "it is not in the local cache and offline mode is on (HF_HUB_OFFLINE=1). "
            "Download it once with network access, or pass a local directory with --model"
        )
    elif kind == "GatedRepoError":
        why = "the repository is gated: accept its licence on the hub and log in (`hf auth login`) or set HF_TOKEN"
    elif kind in ("RepositoryNotFoundError", "RevisionNotFoundError"):
        why = (
            f"no such repository{rev} (or it is private: set a token). Check the id, try {other}, "
            "or pass a local directory with --model"
        )
    else:
        why = (
            f"{kind}: {err}. Check the network (or a proxy / HF_ENDPOINT), try {other}, "
            "or pass a local directory with --model"
        )
    return SartorError(f"could not download {model_id!r}{rev} from {hub}: {why}")


def snapshot_download(
    model_id: str,
    use_hf: bool = True,
    revision: str | None = None,
    token: str | None = None,
    ignore_patterns: list[str] | None = None,
) -> str:
    """Download (or find in the cache) a model repository and return its local directory."""
    token = get_hub_token(use_hf, token)
    offline = is_offline()
    log = get_logger()
    if use_hf:
        import huggingface_hub

        log.info(f"getting {model_id} from Hugging Face{' (offline: cache only)' if offline else ''}")
        try:
            return huggingface_hub.snapshot_download(
                model_id,
                revision=revision,
                token=token,
                ignore_patterns=ignore_patterns,
                local_files_only=offline,
            )
        except Exception as e:  # noqa: BLE001 - every hub failure becomes one clear user error
            raise _failure(model_id, use_hf, revision, e) from e

    modelscope = require("modelscope", "modelscope")
    log.info(f"getting {model_id} from ModelScope{' (offline: cache only)' if offline else ''}")
    try:
        if token and not offline:
            from modelscope.hub.api import HubApi

            HubApi().login(token)
        kwargs = {"revision": revision} if revision else {}
        return modelscope.snapshot_download(
            model_id,
            ignore_file_pattern=ignore_patterns,
            local_files_only=offline,
            **kwargs,
        )
    except Exception as e:  # noqa: BLE001
        raise _failure(model_id, use_hf, revision, e) from e


def _looks_like_path(model: str) -> bool:
    return (
        model.startswith(("/", "./", "../", "~", ".\\"))
        or os.path.isabs(model)
        or model.count("/") > 1
        or "\\" in model
    )


def resolve_model_dir(
    model: str,
    use_hf: bool = True,
    revision: str | None = None,
    token: str | None = None,
) -> str:
    """A local directory for `model`: an existing directory as is, a registry model_type or hub id downloaded."""
    if not model:
        raise SartorError("no model given: pass --model with a hub id or a local directory")
    expanded = os.path.expanduser(model)
    if os.path.isdir(expanded):
        return expanded
    if os.path.exists(expanded):
        raise SartorError(f"--model {model!r} is a file, not a model directory")
    if _looks_like_path(model):
        raise SartorError(f"model directory {model!r} does not exist")

    from sartor.model.registry import MODEL_MAPPING

    meta = MODEL_MAPPING.get(model)
    if meta is not None:
        if meta.builtin:
            raise SartorError(
                f"{model!r} is built locally, not downloaded; load it through sartor.model (get_model_tokenizer)"
            )
        model = meta.model_id(use_hf)
    return snapshot_download(model, use_hf=use_hf, revision=revision, token=token)
