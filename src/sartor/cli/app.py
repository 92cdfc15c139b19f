"""`sartor app`: a chat web UI over a model or checkpoint."""
from ..arguments import AppArguments
from .common import run_command


def main(argv: list[str]) -> None:
    from ..ui.app_main import app_main

    run_command("app", AppArguments, app_main, argv, "Chat with a model or checkpoint in the browser (gradio).")
