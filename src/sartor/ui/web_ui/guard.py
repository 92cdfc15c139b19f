"""What a browser may not make the training web UI do: run code, or have the UI read or write outside its folders.

The web UI runs commands for whoever reaches the page. Flags that run code (a Python file to import, code from a
model repository) are refused unless `sartor web-ui --allow_code_flags true` was started, in every spelling the
parser accepts: `--flag value`, `--flag=value`, `--flag-name`, an older alias, a key of a `--config` YAML file, a
value hidden in another form field. The check runs on the server where a command is launched (`JobStore.launch`)
and where the Chat tab loads a checkpoint, so a crafted request is refused as the page is.

Files the UI itself reads or writes stay in its folders: `--config` files inside the directory commands run in,
`--result_path` (read back by the Eval tab) inside the output directory; `<output dir>/uploads/` holds uploaded
data files only, never a model or checkpoint (an upload could otherwise stand in for a checkpoint's args.json)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Union

from ...utils.errors import SartorError

if TYPE_CHECKING:
    from ...arguments import ExportArguments, InferArguments, SftArguments, TunerArguments

# flag -> what it does; refused from the browser unless --allow_code_flags true
CODE_FLAGS = {
    "custom_register_path": "imports (runs) the Python files it names",
    "trust_remote_code": "runs Python code from the model's repository",
    "external_plugins": "imports (runs) the Python plug-in files it names",
}
ALLOW_HINT = ("start `sartor web-ui --allow_code_flags true` to let the page pass it (only where you alone reach "
              "the page), or run the command in a shell")
_OFF = ("false", "0", "no", "off", "none", "")
_CONFIG_SUFFIXES = (".yaml", ".yml")
# flags naming a model, checkpoint or run folder (the uploads folder is none of them)
MODEL_PATH_FLAGS = ("model", "tokenizer", "ckpt_dir", "adapters", "resume_from_checkpoint", "ref_model", "output_dir")


@dataclass(frozen=True)
class Policy:
    """The web UI's folders (commands run in `cwd`, runs live in `root`) and whether code flags are allowed."""

    cwd: str
    root: str
    allow_code_flags: bool = False

    def real(self, path: str) -> str:
        """A path a command is given (relative to cwd), resolved: links followed, `..` gone."""
        return os.path.realpath(os.path.join(self.cwd, path))

    @property
    def uploads(self) -> str:
        return self.real(os.path.join(self.root, "uploads"))

    def inside(self, path: str, folder: str) -> bool:
        real, folder = self.real(path), self.real(folder)
        return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)


def _refuse(what: str, why: str) -> SartorError:
    return SartorError(f"refused: {what} {why}, and this web UI does not let the browser run code: {ALLOW_HINT}")


def alias_targets() -> dict[str, set[str]]:
    """Each older flag name -> the flags it stands for (read from the alias table, so a new alias is covered)."""
    from ...arguments.aliases import ALIASES, new_names

    targets = {}
    for old in ALIASES:
        try:
            text = new_names(old)
        except Exception:  # noqa: BLE001 - a converter that needs a real value: the parsed check covers it
            continue
        targets[old] = set(text[2:].split("/")) if text.startswith("--") else set()
    return targets


def _code_flag(name: str, aliases: dict[str, set[str]]) -> Optional[str]:
    """The code flag `name` is, or stands for (None: not one)."""
    name = name.replace("-", "_")
    if name in CODE_FLAGS:
        return name
    return next((t for t in sorted(aliases.get(name, ())) if t in CODE_FLAGS), None)


def _enables(flag: str, values: list) -> bool:
    """Whether a code flag with these values turns code on (`--trust_remote_code false` or an empty list does not)."""
    if flag == "trust_remote_code" and not values:
        return True  # a bare boolean flag means true
    return any(str(v).strip().lower() not in _OFF for v in values)


def split_flags(argv: list[str]) -> tuple[list[str], list[tuple[str, str, list[str]]]]:
    """(leading positionals, [(flag name, the flag as written, values)]), as the parser splits argv."""
    positionals: list[str] = []
    pairs: list[tuple[str, str, list[str]]] = []
    for token in argv:
        if token.startswith("--") and len(token) > 2:
            name, eq, value = token[2:].partition("=")
            pairs.append((name.replace("-", "_"), token.partition("=")[0], [value] if eq else []))
        elif pairs:
            pairs[-1][2].append(token)
        else:
            positionals.append(token)
    return positionals, pairs


def config_files(argv: list[str]) -> list[str]:
    positionals, pairs = split_flags(argv[1:])
    return [p for p in positionals if p.endswith(_CONFIG_SUFFIXES)] + \
           [v for name, _, values in pairs if name == "config" for v in values]


def absolute_configs(argv: list[str], policy: Policy) -> list[str]:
    """argv with its config file paths made absolute (from the directory commands run in), for the UI's own parse."""
    out, seen_flag, in_config = argv[:1], False, False
    for token in argv[1:]:
        if token.startswith("--") and len(token) > 2:
            name, eq, value = token[2:].partition("=")
            seen_flag, in_config = True, name.replace("-", "_") == "config"
            if in_config and eq:
                token = f"--{name}={policy.real(value)}"
        elif in_config or (not seen_flag and token.endswith(_CONFIG_SUFFIXES)):
            token = policy.real(token)
        out.append(token)
    return out


def check_before_parse(argv: list[str], policy: Policy) -> None:
    """Refuse code flags in argv and in the YAML files it names; config files must lie inside the UI's folder."""
    from ...arguments.parser import load_config

    aliases = alias_targets()
    _, pairs = split_flags(argv[1:])
    for name, written, values in pairs:
        flag = _code_flag(name, aliases)
        if flag and not policy.allow_code_flags and _enables(flag, values):
            raise _refuse(written, CODE_FLAGS[flag])
    for path in config_files(argv):
        if not policy.inside(path, "."):
            raise SartorError(f"refused: config file {path}: the web UI reads config files only from inside the "
                              "folder it runs commands in")
        if not os.path.isfile(policy.real(path)):
            raise SartorError(f"config file not found: {path}")
        for key, raw in load_config(policy.real(path)).items():
            flag = _code_flag(str(key), aliases)
            if flag and not policy.allow_code_flags and _enables(flag, raw if isinstance(raw, list) else [raw]):
                raise _refuse(f"`{key}` in {path}", CODE_FLAGS[flag])


def _listed(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else ([] if value is None else [value])


def check_parsed(command: str, args: Union[SftArguments, InferArguments, ExportArguments], explicit: set[str],
                 policy: Policy) -> None:
    """The parsed arguments of any command the web UI runs (command.args_class), however they were spelt: no code
    turned on, no model folder in uploads, results inside the output directory, and no checkpoint whose args.json
    turns code on."""
    from ...arguments import ExportArguments, InferArguments, SftArguments

    if not policy.allow_code_flags:
        if _listed(args.custom_register_path):
            raise _refuse("--custom_register_path", CODE_FLAGS["custom_register_path"])
        if args.trust_remote_code:
            raise _refuse("--trust_remote_code", CODE_FLAGS["trust_remote_code"])
        extras = {"model_kwargs": args.model_kwargs,
                  "training_args": args.training_args if isinstance(args, SftArguments) else None}
        for name, given in extras.items():
            extra = given or {}
            found = [k for k in extra if k in CODE_FLAGS and extra[k]]
            if found:
                raise _refuse(f"--{name} with {found[0]}", CODE_FLAGS[found[0]])
    for name in MODEL_PATH_FLAGS:  # each command has some of these flags: the table is looked up by name
        for value in _listed(getattr(args, name, None)):
            path = str(value).split("=", 1)[-1] if name == "adapters" else str(value)
            if path and policy.inside(path, policy.uploads):
                raise SartorError(f"refused: --{name} {value}: the uploads folder holds uploaded data files only")
    result_path = args.result_path if isinstance(args, InferArguments) else None
    if command == "infer" and result_path and not policy.inside(result_path, policy.root):
        raise SartorError(f"refused: --result_path {result_path}: the web UI writes results only inside its output "
                          f"directory {policy.root}")
    if isinstance(args, (InferArguments, ExportArguments)):  # infer and export load a checkpoint
        ckpt = args.ckpt_dir or _single_adapter(args)
        if ckpt:
            check_checkpoint(ckpt, policy, explicit)


def _single_adapter(args: TunerArguments) -> Optional[str]:
    adapters = _listed(args.adapters)
    return adapters[0] if len(adapters) == 1 and "=" not in adapters[0] else None


def check_checkpoint(path: str, policy: Policy, explicit: Optional[set[str]] = None) -> None:
    """Refuse a checkpoint in the uploads folder, or one whose args.json turns code on (a command fills what it is
    not given from there) unless the code flag was given explicitly off."""
    from ...core.checkpoints import resolve_checkpoint
    from ...core.runs import read_args

    if policy.inside(path, policy.uploads):
        raise SartorError(f"refused: {path}: the uploads folder holds uploaded data files only, not checkpoints")
    if policy.allow_code_flags or not os.path.isdir(policy.real(path)):
        return
    try:
        saved = read_args(resolve_checkpoint(policy.real(path))) or {}
    except (OSError, ValueError):
        return  # unreadable: the command reports it
    for flag in ("custom_register_path", "trust_remote_code"):
        value = saved.get(flag)
        if flag not in (explicit or ()) and value not in (None, False, []) and _enables(flag, _listed(value)):
            raise _refuse(f"checkpoint {path}, trained with --{flag},", f"{CODE_FLAGS[flag]} when it loads")
