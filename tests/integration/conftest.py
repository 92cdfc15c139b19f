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


@pytest.fixture
def sartor_main(monkeypatch, capsys):
    """sartor_main("infer", ..., cwd=path) -> (exit status, stdout, stderr): the console script's entry point
    (`sartor.cli.main.main`) called in this process, which spares the interpreter start and imports."""
    from sartor.cli.main import main

    def run(*argv: str, cwd: Path) -> tuple[int, str, str]:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            main(list(argv))
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="session")
def sartor_cli():
    """sartor_cli("sft", "--model", "tiny", ..., cwd=path, check=True) -> CompletedProcess."""
    return _run


QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.yaml"


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory, sartor_cli):
    """The README quickstart trained once per session: (working dir, sft CompletedProcess).

    Its checkpoints live in <work>/output/quickstart/v0-*/; the last one answers "who are you?" as Sartor."""
    work = tmp_path_factory.mktemp("quickstart")
    r = sartor_cli("sft", str(QUICKSTART), "--report_to", "none", cwd=work)
    return work, r
