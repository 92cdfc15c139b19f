"""`sartor eval`: metrics of a model or checkpoint on validation datasets."""
from ..arguments import EvalArguments
from .common import run_command


def main(argv: list[str]) -> None:
    from ..eval.eval_main import eval_main

    run_command("eval", EvalArguments, eval_main, argv,
                "Answer validation datasets greedily and score ROUGE-L, BLEU-4 and exact match.")
