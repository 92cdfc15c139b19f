"""The OpenAI-compatible server and the chat web UI."""
from dataclasses import dataclass
from typing import Optional

from .fields import arg


@dataclass
class DeployConcernArguments:
    host: str = arg("127.0.0.1", "Address to bind (0.0.0.0 exposes the server to the network).")
    port: int = arg(8000, "Port to listen on.")
    api_key: Optional[str] = arg(None, "Require this key as a Bearer token on every route except /health.")
    served_model_name: Optional[str] = arg(None, "Model name clients ask for (default: the model's directory name).")
    log_interval: float = arg(20.0, "Seconds between throughput log lines (0: off).")


@dataclass
class AppConcernArguments:
    server_name: str = arg("127.0.0.1", "Address the web UI binds.")
    server_port: Optional[int] = arg(None, "Port of the web UI (default: gradio's 7860 or the next free one).")
    share: bool = arg(False, "Create a public gradio share link.")
    lang: str = arg("en", "Interface language: en or zh.")
