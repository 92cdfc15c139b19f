"""`sartor pt`: continued pre-training on raw text."""
from ..arguments import PtArguments
from .common import run_command


def main(argv: list[str]) -> None:
    from ..train.pt import pt_main

    run_command("pt", PtArguments, pt_main, argv, "Continued pre-training on raw text (loss on all tokens, packing on).")
