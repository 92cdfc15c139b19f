"""Typed boundaries: a function's `args` parameter names the arguments class it reads (a concern dataclass such as
ModelArguments, a command's class such as SftArguments, a Union or a Protocol), never `Any` or nothing."""
import ast
import dataclasses
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "sartor"


def _is_any(annotation: ast.expr) -> bool:
    """`Any`, `typing.Any` or the string "Any"."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value.strip() in ("Any", "typing.Any")
    if isinstance(annotation, ast.Name):
        return annotation.id == "Any"
    return isinstance(annotation, ast.Attribute) and annotation.attr == "Any"


def untyped_args(root: Path) -> list[tuple[str, int, str]]:
    """(file relative to root, line, function) of every parameter named `args` annotated `Any` or not at all
    (`*args` is not such a parameter)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            params = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            for param in params:
                if param.arg == "args" and (param.annotation is None or _is_any(param.annotation)):
                    found.append((rel, param.lineno, node.name))
    return found


def test_no_function_takes_untyped_args():
    found = untyped_args(SRC)
    bad = [f"src/sartor/{rel}:{line} {name}()" for rel, line, name in found]
    assert not bad, ("`args` annotated Any (or not at all); name the arguments class the function reads "
                     "(ModelArguments, SftArguments, a Union or a Protocol):\n" + "\n".join(bad))


def test_the_scan_finds_untyped_args(tmp_path):
    (tmp_path / "m.py").write_text(
        "from typing import Any\n"
        "def a(args: Any): ...\n"
        "def b(x, args): ...\n"
        "class C:\n"
        "    def c(self, *, args: 'Any' = None): ...\n"
        "def ok(args: int, *args2: Any, **kwargs: Any): ...\n"
        "def star(*args: Any): ...\n", encoding="utf-8")
    assert untyped_args(tmp_path) == [("m.py", 2, "a"), ("m.py", 3, "b"), ("m.py", 5, "c")]


@pytest.mark.parametrize("command", ["SftArguments", "PtArguments", "RLHFArguments"])
def test_training_arguments_have_what_the_tuner_protocol_reads(command):
    """tuners may not import arguments (independent building blocks), so prepare_model's Protocol names the fields:
    they must stay fields of every training command's arguments."""
    import sartor.arguments as arguments
    from sartor.tuners.prepare import TunerSettings

    wanted = {name for klass in TunerSettings.__mro__ if klass.__module__ == TunerSettings.__module__
              for name, value in vars(klass).items() if isinstance(value, property)}
    fields = {f.name for f in dataclasses.fields(getattr(arguments, command))}
    assert wanted and wanted <= fields, sorted(wanted - fields)
