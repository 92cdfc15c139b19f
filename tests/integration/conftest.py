"""Run `python -m sartor ...` as a user would, in a given working directory."""
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helper modules beside the tests (browser.py)


def _run(*argv: str, cwd: Path, input: str | None = None, check: bool = True, timeout: int = 900,
         env: dict | None = None) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "sartor", *argv], capture_output=True, text=True, cwd=cwd,
                       input=input, timeout=timeout, env=env)
    if check:
        assert r.returncode == 0, r.stderr[-4000:]
    return r


@pytest.fixture(scope="session")
def sartor_cli():
    """sartor_cli("sft", "--model", "tiny", ..., cwd=path, check=True) -> CompletedProcess."""
    return _run
