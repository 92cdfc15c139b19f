"""The OpenAI-compatible server and the chat web UI."""
from dataclasses import dataclass
from typing import Optional

from ..utils.errors import SartorError
from .fields import arg


@dataclass
class DeployConcernArguments:
    host: str = arg("127.0.0.1", "Address to bind (0.0.0.0 exposes the server to the network).")
    port: int = arg(8000, "Port to listen on.")
    api_key: Optional[str] = arg(None, "Require this key as a Bearer token on every route except /health (never logged or written).", secret=True, repr=False)
    served_model_name: Optional[str] = arg(None, "Model name clients ask for (default: the model's directory name).")
    log_interval: float = arg(20.0, "Seconds between throughput log lines (0: off).")
    max_request_body_mb: float = arg(16.0, "Largest request body accepted, in MiB (a larger one is answered 413).")

    def _validate_deploy(self) -> None:
        if not self.max_request_body_mb > 0:
            raise SartorError(f"--max_request_body_mb must be more than 0, got {self.max_request_body_mb}")

    @property
    def max_request_body_bytes(self) -> int:
        return int(self.max_request_body_mb * 1024 * 1024)


@dataclass
class AppConcernArguments:
    server_name: str = arg("127.0.0.1", "Address the web UI binds (127.0.0.1: this machine only; 0.0.0.0 exposes it to "
                           "the network: add --auth).")
    server_port: Optional[int] = arg(None, "Port of the web UI (default: gradio's 7860 or the next free one).")
    share: bool = arg(False, "Create a public gradio share link (add --auth).")
    auth: Optional[str] = arg(None, "Ask for a login: user:password (the password is what follows the first colon). "
                              "It shows in the process list: prefer --auth_file.", secret=True, repr=False)
    auth_file: Optional[str] = arg(None, "Ask for a login: a file of user:password lines, one per user (# comments).")
    lang: str = arg("en", "Interface language: en or zh.")
