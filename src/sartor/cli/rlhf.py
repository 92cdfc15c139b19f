"""`sartor rlhf`: preference training (--rlhf_type dpo|orpo|simpo|cpo|kto|rm)."""
from ..arguments import RLHFArguments
from .common import run_command


def main(argv: list[str]) -> None:
    from ..train.rlhf import rlhf_main

    run_command("rlhf", RLHFArguments, rlhf_main, argv,
                "Preference training: DPO, ORPO, SimPO, CPO, KTO or a reward model, with LoRA, QLoRA or all weights.")
