"""The OpenAI-compatible server: `deploy_main(DeployArguments)`, and `build_app(engine, name)` for tests.

fastapi and uvicorn (`pip install 'sartor[deploy]'`) are imported only when a server is built."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from ..arguments import DeployArguments


def deploy_main(args: Optional[DeployArguments] = None, **kwargs: Any) -> None:
    """Serve a model or checkpoint (and LoRA adapters) with an OpenAI-compatible API until interrupted."""
    from .server import deploy_main as _main

    _main(args, **kwargs)


def build_app(engine: Any, served: Any, defaults: Any = None, api_key: Any = None, log_interval: float = 0.0,
              max_body_bytes: int = 16 * 1024 * 1024) -> Any:
    """The FastAPI app serving `engine` under the model name `served` (see app.build_app)."""
    from .app import build_app as _build

    return _build(engine, served, defaults, api_key=api_key, log_interval=log_interval, max_body_bytes=max_body_bytes)


__all__ = ["build_app", "deploy_main"]
