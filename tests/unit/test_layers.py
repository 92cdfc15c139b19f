"""The layers hold (docs/DESIGN.md, "Layers"): import-linter's contract in pyproject.toml passes on src/, fails on a
copy of src/ given one import that breaks it, and no module imports another package's private names."""
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` with the repository's contract, on the `sartor` package found under root/src."""
    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.is_file():
        exe = shutil.which("lint-imports")  # type: ignore[assignment]
    assert exe, "lint-imports is missing: pip install -e '.[test]' (it is in the test extra)"
    env = {**os.environ, "PYTHONPATH": str(root / "src")}  # this tree's sartor, not an installed one
    return subprocess.run([str(exe), "--no-cache", "--no-logo", str(root / "pyproject.toml")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_layers_contract_is_kept():
    r = lint_imports(REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Sartor layers KEPT" in r.stdout and "0 broken" in r.stdout


@pytest.mark.parametrize("module, line, broken", [
    ("core/runs.py", "from ..cli.main import main", "sartor.core.runs -> sartor.cli.main"),  # upward
    ("train/plot.py", "from ..infer.engine import PtEngine", "sartor.train.plot -> sartor.infer.engine"),  # peers
    ("model/tiny.py", "from ..core.runs import read_args", "sartor.model.tiny -> sartor.core.runs"),  # below core
])
def test_the_contract_fails_on_an_import_that_breaks_the_layers(tmp_path, module, line, broken):
    shutil.copytree(SRC / "sartor", tmp_path / "src" / "sartor", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / "src" / "sartor" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n\ndef _breaks_the_layers() -> None:\n    {line}  # noqa\n",
                    encoding="utf-8")  # a lazy import inside a function counts as much as one at the top
    r = lint_imports(tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Sartor layers BROKEN" in r.stdout and broken in r.stdout, r.stdout


def _module_of(path: Path, root: Path) -> tuple[str, bool]:
    parts = path.relative_to(root).with_suffix("").parts
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _package_of(module: str) -> str:
    """sartor.<top>: the unit whose private names stay inside it."""
    return ".".join(module.split(".")[:2])


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(root: Path) -> list[str]:
    """`from sartor.x.y import _name` (or `from ..x import _mod`, or `mod._name` on a module imported from another
    package) in a module outside sartor.x. Root holds the `sartor` folder."""
    found = []
    modules = {_module_of(p, root)[0] for p in (root / "sartor").rglob("*.py")}
    for path in sorted((root / "sartor").rglob("*.py")):
        module, is_package = _module_of(path, root)
        here = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), here)
        foreign_modules: dict[str, str] = {}  # local name -> a module of another package
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != "sartor" or _package_of(target) == _package_of(module):
                    continue
                if any(_private(p) for p in target.split(".")):
                    found.append(f"{here}:{node.lineno}: from {target} import ...")
                for alias in node.names:
                    if _private(alias.name):
                        found.append(f"{here}:{node.lineno}: from {target} import {alias.name}")
                    elif f"{target}.{alias.name}" in modules:
                        foreign_modules[alias.asname or alias.name] = f"{target}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "sartor" and _package_of(alias.name) != _package_of(module):
                        if any(_private(p) for p in alias.name.split(".")):
                            found.append(f"{here}:{node.lineno}: import {alias.name}")
                        if alias.asname:
                            foreign_modules[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in foreign_modules and _private(node.attr)):
                found.append(f"{here}:{node.lineno}: {foreign_modules[node.value.id]}.{node.attr}")
    return found


def test_no_module_imports_another_packages_private_names():
    found = private_imports(SRC)
    assert not found, "private names used across packages (make them public in the layer that owns them):\n" + \
        "\n".join(found)


def test_the_private_name_scan_finds_each_way_of_reaching_in(tmp_path):
    files = {
        "sartor/__init__.py": "",
        "sartor/a/__init__.py": "",
        "sartor/a/x.py": "_hidden = 1\n",
        "sartor/a/y.py": "from .x import _hidden\n",  # the same package: allowed
        "sartor/b/__init__.py": "",
        "sartor/b/z.py": ("from ..a.x import _hidden\n"
                          "from sartor.a import x\n"
                          "import sartor.a.x as xx\n"
                          "def f():\n    return x._hidden + xx._hidden\n"),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = private_imports(tmp_path)
    assert found == ["sartor/b/z.py:1: from sartor.a.x import _hidden", "sartor/b/z.py:5: sartor.a.x._hidden",
                     "sartor/b/z.py:5: sartor.a.x._hidden"], found
