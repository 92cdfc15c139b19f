"""The tested version ranges: pyproject.toml pins them, the installed libraries lie in them, and importing
sartor.compat warns once (never fails) about one outside them, without importing any upstream library."""
import logging
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import sartor.compat as compat

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def test_pyproject_pins_the_tested_ranges():
    deps = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = {d.split(">")[0].split("<")[0].strip(): d.replace(" ", "") for d in deps}
    for library, (low, high) in compat.TESTED.items():
        assert pins[library] == f"{library}>={low},<{high}", (
            f"pyproject.toml pins {pins[library]!r}, sartor.compat.TESTED says >={low},<{high}: keep them equal")


def test_installed_versions_are_the_tested_ones():
    """Fails where CI installed a release nobody has run tests/unit/compat against: run it, then widen
    sartor.compat.TESTED and pyproject.toml together."""
    assert compat.untested_versions() == []


@pytest.mark.parametrize("library, version, tested", [
    ("torch", "2.13.0+cpu", True), ("transformers", "5.25.0", True), ("transformers", "5.23.0", True),
    ("transformers", "5.22.2", False), ("transformers", "5.26.0.dev0", False), ("transformers", "5.26.0", False),
    ("peft", "0.21.2", True), ("peft", "0.22.0", False), ("accelerate", "1.13.0", False), ("torch", "3.0.0", False),
])
def test_is_tested(library, version, tested):
    assert compat.is_tested(library, version) is tested


def test_an_untested_version_warns_once(monkeypatch):
    monkeypatch.setitem(compat.TESTED, "transformers", ("0.1", "0.2"))
    logger = logging.getLogger("sartor")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    compat.warn_untested_versions.cache_clear()
    try:
        compat.warn_untested_versions()
        compat.warn_untested_versions()
    finally:
        logger.removeHandler(handler)
        compat.warn_untested_versions.cache_clear()
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert f"transformers {compat.installed_version('transformers')} is outside the tested range >=0.1,<0.2" \
        in records[0].getMessage()


def test_importing_compat_loads_no_upstream_library():
    """The command line imports compat to check a flag; transformers (seconds) must not come with it."""
    code = ("import sys, sartor.compat, sartor.compat.transformers, sartor.compat.peft, sartor.compat.accelerate, "
            "sartor.compat.torch, sartor.compat.modelscope, sartor.compat.noise\n"
            "print(sorted(m for m in ('torch', 'transformers', 'peft', 'accelerate') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_compat_imports_no_sartor_package_but_utils():
    root = Path(compat.__file__).parent
    for path in root.glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text.startswith(("from ..", "import sartor", "from sartor")):
                assert text.startswith(("from ..utils", "from sartor.utils", "import sartor.utils")), (
                    f"{path.name}: {text} (compat sits below every Sartor package but utils)")


def test_versions_compare_without_trailing_zeros():
    assert compat.is_tested("torch", "2.6") and compat.is_tested("torch", "2.6.0")
    assert compat.is_tested("transformers", "5.23") and not compat.is_tested("transformers", "5.26.0rc1")
