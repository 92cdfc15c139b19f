"""`sartor <command> ...`: dispatch to one small file per command."""
import importlib
import sys

from ..version import __version__
from .common import exit_on_user_error

COMMANDS = {
    "sft": ("sft", "supervised fine-tuning (LoRA, QLoRA, full)"),
    "pt": ("pt", "continued pre-training on raw text"),
    "rlhf": ("rlhf", "preference training: --rlhf_type dpo|orpo|simpo|cpo|kto|rm"),
    "infer": ("infer", "chat, one-shot --query, or generation over a dataset"),
    "export": ("export", "merge LoRA, quantise, push to a hub, Ollama"),
    "deploy": ("deploy", "OpenAI-compatible HTTP server"),
    "app": ("app", "chat web UI over a model or checkpoint"),
    "web-ui": ("web_ui", "web UI to configure, launch and watch training runs"),
    "eval": ("eval", "metrics of a model or checkpoint on datasets"),
}


# older command names: (command, flags it implies, origin)
COMMAND_ALIASES = {
    "app-ui": ("app", [], "ms-swift 2.x"),
    "merge-lora": ("export", ["--merge_lora", "true"], "ms-swift 2.x"),
}


def usage() -> str:
    lines = [f"sartor {__version__}: fine-tune large language models", "",
             "usage: sartor <command> [config.yaml] [--flag value ...]", "", "commands:"]
    lines += [f"  {name:<8} {desc}" for name, (_, desc) in COMMANDS.items()]
    lines += ["", "`sartor <command> --help` lists that command's flags."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from ..compat.noise import quiet_upstream_noise

    quiet_upstream_noise()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return
    if argv[0] in ("-V", "--version"):
        print(__version__)
        return
    name, rest = argv[0], argv[1:]
    if name in COMMAND_ALIASES:
        from ..utils.logging import get_logger

        new, implied, origin = COMMAND_ALIASES[name]
        get_logger().warning(f"`sartor {name}` ({origin}) is deprecated: use `sartor {' '.join([new, *implied])}`")
        name, rest = new, [*implied, *rest]
    if name not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(name, list(COMMANDS), n=1)
        hint = f"; did you mean `sartor {close[0]}`?" if close else ""
        print(f"sartor: error: unknown command {name!r}{hint}\n\n{usage()}", file=sys.stderr)
        sys.exit(2)
    from .launch import maybe_launch

    status = exit_on_user_error(lambda: maybe_launch(name, rest))  # NPROC_PER_NODE / NNODES: relaunch under torchrun
    if status is not None:
        sys.exit(status)
    module = importlib.import_module(f"sartor.cli.{COMMANDS[name][0]}")
    exit_on_user_error(lambda: module.main(rest))
