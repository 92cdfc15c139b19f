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
    """Like sartor_cli, but calls the console script's entry point (`sartor.cli.main.main`) in this process,
    which spares the interpreter start and the imports: sartor_main("infer", ..., cwd=path, input=None,
    check=True) -> CompletedProcess."""
    import io

    from sartor.cli.main import main

    def run(*argv: str, cwd: Path, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        monkeypatch.chdir(cwd)
        if input is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(input))
        capsys.readouterr()
        try:
            main(list(argv))
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        out = capsys.readouterr()
        r = subprocess.CompletedProcess(["sartor", *argv], code, out.out, out.err)
        if check:
            assert code == 0, out.err[-4000:]
        return r

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
