"""`rlhf_main`: preference training (DPO, ORPO, SimPO, CPO, KTO, reward model) into an SFT-style run directory.

Same model loading, tuner, template and dataset pipeline as `sft_main`; chosen and rejected answers are
encoded by the SFT template (see train/preference/data.py), so what the policy is trained on is exactly
what inference shows it. The losses are our own (train/preference/losses.py) on SartorTrainer: TRL 1.16's
trainers re-tokenize text with the tokenizer's chat template, patch the model's forward, and keep ORPO/CPO
in `trl.experimental`."""
from typing import Any

from ..arguments import RLHFArguments


def rlhf_main(args: RLHFArguments | None = None, **kwargs: Any) -> dict:
    """Train with the preference method of --rlhf_type; return best/last checkpoint, best metric and the log history."""
    from .methods import method_for
    from .recipe import run_recipe

    args = args or RLHFArguments(**kwargs)
    return run_recipe(args, method_for(args.rlhf_type))
