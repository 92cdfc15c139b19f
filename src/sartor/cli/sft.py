"""`sartor sft`: supervised fine-tuning."""
from ..arguments import SftArguments
from .common import run_command


def main(argv: list[str]) -> None:
    from ..train.sft import sft_main

    run_command("sft", SftArguments, sft_main, argv, "Supervised fine-tuning with LoRA, QLoRA or all weights.")
