"""`deploy_main`: load the model (and LoRA adapters), build the app, serve it with uvicorn."""
import dataclasses
import ipaddress
import os
import socket
import threading
import time
from typing import Any, Optional

from ..arguments import DeployArguments
from ..utils.errors import SartorError
from ..utils.lazy import require
from ..utils.logging import get_logger
from .serving import SamplingDefaults, ServedModels


def split_adapters(entries: list[str]) -> tuple[list[str], dict[str, str]]:
    """`--adapters` entries -> (a lone unnamed checkpoint that becomes the served model, {name: path}).

    `name=path` entries are served under `name`. One entry without a name is the served model itself
    (as `--ckpt_dir`, ms-swift 3 style); with several, unnamed entries are named after their folder."""
    unnamed = [e for e in entries if "=" not in e]
    named: dict[str, str] = {}
    for entry in entries:
        if "=" in entry:
            name, path = (x.strip() for x in entry.split("=", 1))
            if not name or not path:
                raise SartorError(f"--adapters {entry!r}: expected name=path")
            if name in named:
                raise SartorError(f"--adapters: the name {name!r} is given twice")
            named[name] = path
    if len(unnamed) == 1 and not named:
        return unnamed, {}
    for path in unnamed:
        name = os.path.basename(os.path.normpath(path))
        if name in named:
            raise SartorError(f"--adapters: two adapters would be named {name!r}; name them with name=path")
        named[name] = path
    return [], named


def prepare_deploy(args: DeployArguments) -> tuple[Any, ServedModels, SamplingDefaults]:
    """(engine, served model names, sampling defaults) for the arguments."""
    from ..infer.infer_main import prepare_engine
    from ..infer.load import fill_from_checkpoint
    from ..core.checkpoints import resolve_checkpoint

    unnamed, named = split_adapters(list(args.adapters or []))
    for name, path in named.items():
        if not os.path.isdir(path):
            raise SartorError(f"--adapters {name}={path}: no such directory")
    named = {name: resolve_checkpoint(path) for name, path in named.items()}
    args = dataclasses.replace(args, adapters=unnamed)
    if not args.model and not args.ckpt_dir and not unnamed and named:
        args = fill_from_checkpoint(args, next(iter(named.values())))  # the base model the adapters were trained on
    engine, args, ckpt = prepare_engine(args)
    for name, path in named.items():
        engine.add_adapter(name, path)
    if hasattr(engine, "start"):  # vllm: load now, with every adapter known, so /health means ready
        engine.start()
    name = args.served_model_name or os.path.basename(os.path.normpath(ckpt or args.model))
    if name in named:
        raise SartorError(f"the adapter name {name!r} is also the served model's name; pick another")
    served = ServedModels(name, root=ckpt or args.model, adapters=named)
    return engine, served, SamplingDefaults.from_args(args)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free one), or a clear error when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise SartorError(f"cannot listen on {host}:{port} ({e.strerror}); pick another --port") from None
    sock.listen(2048)  # clients that connect while the model loads wait in the backlog
    sock.set_inheritable(True)
    return sock


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable only from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def exposure_warning(host: str, api_key: Optional[str]) -> Optional[str]:
    """The warning for a server that other machines can reach with no API key (None when there is none)."""
    if api_key or is_loopback(host):
        return None
    return (f"--host {host} lets other machines reach this server, and there is no --api_key: anyone who can "
            "connect can run generations. Pass --api_key <key> (clients send it as a Bearer token), or bind "
            "--host 127.0.0.1.")


def deploy_main(args: Optional[DeployArguments] = None, **kwargs: Any) -> None:
    """Serve the model with an OpenAI-compatible API until interrupted."""
    require("fastapi", "deploy")
    uvicorn = require("uvicorn", "deploy")
    from .app import build_app

    args = args or DeployArguments(**kwargs)
    sock = bind_socket(args.host, args.port)  # fail before the model loads
    if warning := exposure_warning(args.host, args.api_key):
        get_logger().warning(warning)
    engine = None
    try:
        engine, served, defaults = prepare_deploy(args)
        app = build_app(engine, served, defaults, api_key=args.api_key, log_interval=args.log_interval,
                        max_body_bytes=args.max_request_body_bytes)
        port = sock.getsockname()[1]
        names = ", ".join([served.name, *served.adapters])
        get_logger().info(f"serving {names} at http://{args.host}:{port}/v1"
                          + (" (API key required)" if args.api_key else ""))
        config = uvicorn.Config(app, log_level="info", timeout_graceful_shutdown=5)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        if engine is not None:
            engine.close()


class RunningServer:
    """A server in a background thread of this process (tests, benchmarks, notebooks). `stop()` ends it."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        uvicorn = require("uvicorn", "deploy")
        self.sock = bind_socket(host, port)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
