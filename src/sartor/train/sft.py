"""`sft_main`: supervised fine-tuning, from arguments to a run directory of checkpoints (train/recipe.py)."""
from typing import Any

from ..arguments import SftArguments


def sft_main(args: SftArguments | None = None, **kwargs: Any) -> dict:
    """Train; return best/last checkpoint, best metric and the log history (with --dry_run, the plan)."""
    from .methods import SFT
    from .recipe import run_recipe

    return run_recipe(args or SftArguments(**kwargs), SFT)
