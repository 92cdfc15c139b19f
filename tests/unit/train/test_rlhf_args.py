"""`sartor rlhf` arguments: method defaults and the combinations it refuses, before anything loads."""
import pytest

from sartor.arguments import RLHFArguments
from sartor.train.preference.trainer import PreferenceConfig
from sartor.train.preference.checks import check_rlhf_args
from sartor.utils.errors import SartorError


def test_method_defaults():
    assert PreferenceConfig.from_args(RLHFArguments(rlhf_type="dpo")).beta == 0.1
    simpo = PreferenceConfig.from_args(RLHFArguments(rlhf_type="simpo"))
    assert (simpo.beta, simpo.loss_type, simpo.cpo_alpha, simpo.simpo_gamma) == (2.0, "simpo", 1.0, 1.0)
    assert PreferenceConfig.from_args(RLHFArguments(rlhf_type="simpo", beta=2.5)).beta == 2.5
    assert PreferenceConfig.from_args(RLHFArguments(rlhf_type="kto")).loss_type == "kto"
    assert PreferenceConfig.from_args(RLHFArguments(rlhf_type="dpo", loss_type="ipo")).loss_type == "ipo"


@pytest.mark.parametrize("kwargs,match", [
    (dict(packing=True), "packing"),
    (dict(loss_type="robust", label_smoothing=0.5), "label_smoothing"),
])
def test_refused_combinations(kwargs, match):
    with pytest.raises(SartorError, match=match):
        check_rlhf_args(RLHFArguments(rlhf_type="dpo", **kwargs))


def test_unknown_loss_type_and_bad_beta_are_user_errors():
    with pytest.raises(SartorError, match="choose one of"):
        PreferenceConfig.from_args(RLHFArguments(rlhf_type="cpo", loss_type="simpo"))
    with pytest.raises(SartorError, match="beta"):
        RLHFArguments(rlhf_type="dpo", beta=0.0)


def test_cli_parses_rlhf_flags():
    from sartor.arguments import parse_args

    args, _ = parse_args(RLHFArguments, ["--rlhf_type", "kto", "--desirable_weight", "1.33", "--ref_model", "x",
                                         "--max_prompt_length", "64"])
    assert (args.rlhf_type, args.desirable_weight, args.ref_model, args.max_prompt_length) == ("kto", 1.33, "x", 64)
