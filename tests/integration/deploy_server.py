"""Helpers for the deploy tests: a tiny-model engine, raw HTTP over a socket, and the server's CLI process."""
import json
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator, Optional
from urllib.parse import urlsplit

NAME = "tiny-chat"


@contextmanager
def tiny_engine(**args) -> Iterator[tuple]:
    """(engine, served models, sampling defaults) of the tiny model; the engine is closed afterwards."""
    from sartor.arguments import DeployArguments
    from sartor.deploy.server import prepare_deploy

    engine, models, defaults = prepare_deploy(DeployArguments(**{"model": "tiny", "served_model_name": NAME,
                                                                 "temperature": 0, **args}))
    try:
        yield engine, models, defaults
    finally:
        engine.close()


def connect(url: str, timeout: float = 60) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def request_head(path: str, headers: dict) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_post(path: str, body: dict, **headers) -> bytes:
    raw = json.dumps(body).encode()
    return request_head(path, {"Content-Type": "application/json", "Content-Length": str(len(raw)), **headers}) + raw


def read_response(sock: socket.socket) -> tuple[int, dict]:
    """(status, JSON body) of one response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-response"
        body += chunk
    return status, json.loads(body) if length else {}


class CliServer:
    """`python -m sartor deploy ...` in a child process; `url` once it listens, `log` (stderr) once stopped."""

    def __init__(self, *argv: str, cwd: str, wait_s: float = 240) -> None:
        env = {**os.environ, "SARTOR_LOG_LEVEL": "INFO", "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "sartor", "deploy", "--model", "tiny", "--port", "0",
                                      *argv], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                     cwd=cwd, env=env)
        self.lines: list[str] = []
        self.url: Optional[str] = None
        deadline = time.monotonic() + wait_s
        while self.url is None and time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.lines.append(line)
            if m := re.search(r"serving \S+ at http://[^:]+:(\d+)/v1", line):
                self.url = f"http://127.0.0.1:{m.group(1)}"
        if self.url is None:
            self.stop()
            raise AssertionError("the server did not start:\n" + self.log[-3000:])

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stop(self) -> str:
        """Ends the process; the whole of its log."""
        self.proc.terminate()
        try:
            rest = self.proc.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rest = self.proc.communicate(timeout=10)[1]
        self.lines.append(rest or "")
        return self.log
