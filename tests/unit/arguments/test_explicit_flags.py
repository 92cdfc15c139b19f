"""The names the user gave are a real field: they survive dataclasses.replace, are no flag and are not recorded."""
import dataclasses

import pytest

from sartor.arguments import InferArguments, SftArguments, parse_args
from sartor.utils.errors import SartorError


def test_explicit_flags_survive_replace_and_answer_was_given(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("max_length: 128\n")
    args, _ = parse_args(InferArguments, [str(cfg), "--temperature", "0.3", "--model_id_or_path", "tiny"])
    assert args.explicit_flags == {"max_length", "temperature", "model"}
    later = dataclasses.replace(args, template="chatml", top_p=0.5)  # what the code fills in is not "given"
    assert later.explicit_flags == args.explicit_flags
    assert later.was_given("temperature")  # given, even though 0.3 is the default
    assert not later.was_given("top_p") and not later.was_given("template")


def test_python_api_compares_with_defaults():
    args = InferArguments(temperature=0.0)
    assert args.explicit_flags is None and args.was_given("temperature") and not args.was_given("top_p")


def test_explicit_flags_is_no_flag_and_is_not_recorded(tmp_path):
    from sartor.core.runs import args_to_json

    with pytest.raises(SartorError, match="unknown flag --explicit_flags"):
        parse_args(SftArguments, ["--explicit_flags", "x"])
    args, _ = parse_args(SftArguments, ["--model", "tiny"])
    assert "explicit_flags" not in args_to_json(args) and "explicit_flags" not in args.to_dict()
