"""Push a folder to the Hugging Face Hub (`--use_hf true`) or ModelScope (`--use_hf false`).

The token comes from --hub_token, else HF_TOKEN / MODELSCOPE_API_TOKEN, else the saved login;
`check_push` resolves it (and the repository id) before any work starts, so a missing one is a
clear error rather than a failure after hours of training. The hub client is made by
`make_client`, a plain function that tests replace with a fake."""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Protocol, Union

from ..utils.errors import SartorError
from ..utils.logging import get_logger

if TYPE_CHECKING:
    from ..arguments import ExportArguments, SftArguments

# Files of a training checkpoint that are for resuming, not for using the model.
TRAINING_STATE = ["optimizer.pt", "optimizer.bin", "scheduler.pt", "rng_state*.pth", "scaler.pt",
                  "global_step*", "zero_to_fp32.py", "latest", "training_args.bin"]


class HubClient(Protocol):
    """What pushing needs from a hub library (HfApi-like)."""

    def create_repo(self, repo_id: str, private: bool) -> str: ...

    def upload_folder(self, folder: str, repo_id: str, path_in_repo: str, commit_message: str,
                      ignore_patterns: list[str]) -> str: ...


@dataclass
class PushTarget:
    """Where and how to push, resolved from the arguments before any work starts."""

    repo_id: str
    token: str
    use_hf: bool = True
    private: bool = False
    commit_message: str = "update files"
    client: Any = field(default=None, repr=False)
    created: bool = field(default=False, repr=False)

    @property
    def hub(self) -> str:
        return "Hugging Face" if self.use_hf else "ModelScope"


class _HfClient:
    def __init__(self, token: str) -> None:
        from huggingface_hub import HfApi

        self.api = HfApi(token=token)

    def create_repo(self, repo_id: str, private: bool) -> str:
        return str(self.api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model"))

    def upload_folder(self, folder: str, repo_id: str, path_in_repo: str, commit_message: str,
                      ignore_patterns: list[str]) -> str:
        info = self.api.upload_folder(repo_id=repo_id, folder_path=folder, path_in_repo=path_in_repo or None,
                                      commit_message=commit_message, ignore_patterns=ignore_patterns,
                                      repo_type="model")
        return str(getattr(info, "commit_url", None) or f"https://huggingface.co/{repo_id}")


class _ModelScopeClient:
    def __init__(self, token: str) -> None:
        from ..utils.lazy import require

        require("modelscope", "modelscope")
        from modelscope.hub.api import HubApi

        self.api = HubApi()
        self.api.login(token)
        self.token = token

    def create_repo(self, repo_id: str, private: bool) -> str:
        visibility = "private" if private else "public"
        return str(self.api.create_repo(repo_id, visibility=visibility, exist_ok=True))

    def upload_folder(self, folder: str, repo_id: str, path_in_repo: str, commit_message: str,
                      ignore_patterns: list[str]) -> str:
        self.api.upload_folder(repo_id=repo_id, folder_path=folder, path_in_repo=path_in_repo or "",
                               commit_message=commit_message, ignore_patterns=ignore_patterns)
        return f"https://modelscope.cn/models/{repo_id}"


def make_client(use_hf: bool, token: str) -> HubClient:
    """The hub library's client (replaced by a fake in tests)."""
    return _HfClient(token) if use_hf else _ModelScopeClient(token)


def saved_login_token(use_hf: bool) -> Optional[str]:
    """The token of `hf auth login` / `modelscope login`, if any."""
    if use_hf:
        from huggingface_hub import get_token

        return get_token()
    try:
        from modelscope.hub.api import ModelScopeConfig
    except ImportError:
        return None
    try:
        return ModelScopeConfig.get_token()
    except Exception:  # noqa: BLE001 - no saved login
        return None


def resolve_token(use_hf: bool, token: Optional[str]) -> Optional[str]:
    """--hub_token, else HF_TOKEN / MODELSCOPE_API_TOKEN, else the saved login."""
    from ..model.hub import get_hub_token

    return get_hub_token(use_hf, token) or saved_login_token(use_hf)


def check_push(args: Union[SftArguments, ExportArguments]) -> Optional[PushTarget]:
    """The push target of `args` (None without --push_to_hub); raises SartorError when the repository
    id or the token is missing."""
    if not args.push_to_hub:
        return None
    hub = "Hugging Face Hub" if args.use_hf else "ModelScope"
    if not args.hub_model_id:
        raise SartorError(f"--push_to_hub true needs --hub_model_id (the {hub} repository, e.g. your-name/my-model)")
    if args.hub_model_id.count("/") != 1 or not all(args.hub_model_id.split("/")):
        raise SartorError(f"--hub_model_id must look like owner/name, got {args.hub_model_id!r}")
    token = resolve_token(args.use_hf, args.hub_token)
    if not token:
        how = ("pass --hub_token, set HF_TOKEN, or log in once with `hf auth login`" if args.use_hf else
               "pass --hub_token, set MODELSCOPE_API_TOKEN, or log in once with `modelscope login`")
        raise SartorError(f"--push_to_hub true needs a {hub} token with write access: {how}")
    return PushTarget(repo_id=args.hub_model_id, token=token, use_hf=args.use_hf, private=args.hub_private_repo,
                      commit_message=args.commit_message)


def upload_plan(folder: str, ignore_patterns: list[str]) -> list[str]:
    """The files of `folder` (relative, posix) that an upload with these ignore patterns sends."""
    root = Path(folder)
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(path.name, p) for p in ignore_patterns):
            continue
        files.append(rel)
    return files


def push_folder(target: PushTarget, folder: str, path_in_repo: str = "", commit_message: Optional[str] = None,
                ignore_patterns: Optional[list[str]] = None) -> dict:
    """Create the repository if needed and upload `folder`; returns the url and the files sent."""
    if not os.path.isdir(folder):
        raise SartorError(f"nothing to push: {folder} is not a directory")
    ignore = list(ignore_patterns if ignore_patterns is not None else TRAINING_STATE)
    files = upload_plan(folder, ignore)
    if not files:
        raise SartorError(f"nothing to push: {folder} has no files to upload")
    client = target.client or make_client(target.use_hf, target.token)
    target.client = client
    log = get_logger()
    log.info(f"pushing {len(files)} files from {folder} to {target.hub} {target.repo_id}"
             + (f"/{path_in_repo}" if path_in_repo else "") + (" (private)" if target.private else ""))
    try:
        if not target.created:
            client.create_repo(target.repo_id, private=target.private)
            target.created = True
        url = client.upload_folder(folder, target.repo_id, path_in_repo=path_in_repo,
                                   commit_message=commit_message or target.commit_message, ignore_patterns=ignore)
    except SartorError:
        raise
    except Exception as e:  # noqa: BLE001 - network, auth and permission errors of the hub library
        raise SartorError(f"pushing {folder} to {target.hub} {target.repo_id} failed: "
                          f"{type(e).__name__}: {e}") from None
    log.info(f"pushed to {url}")
    return {"url": url, "repo_id": target.repo_id, "path_in_repo": path_in_repo, "files": files}
