"""`sartor web-ui`: the training web UI (train, chat, export, eval in one gradio page)."""
from ..arguments import WebUIArguments
from .common import run_command


def main(argv: list[str]) -> None:
    from ..ui.web_ui import web_ui_main

    run_command("web-ui", WebUIArguments, web_ui_main, argv,
                "Configure, launch and watch training runs in the browser; chat with, export and evaluate checkpoints.")
