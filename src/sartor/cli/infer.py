"""`sartor infer`: interactive chat, one-shot --query, or generation over a dataset."""
from ..arguments import InferArguments
from .common import run_command


def main(argv: list[str]) -> None:
    from ..infer.infer_main import infer_main

    run_command("infer", InferArguments, infer_main, argv, "Chat with a model or checkpoint, answer --query once, or generate over a dataset.")
