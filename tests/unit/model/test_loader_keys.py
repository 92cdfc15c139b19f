"""The loader's keyword arguments are exactly the model flags: a misspelt key is an error, never dropped."""
import dataclasses
import inspect

import pytest

from sartor.arguments.model_args import ModelArguments
from sartor.model.loader import get_model_tokenizer


def test_every_model_flag_is_a_loader_argument_and_nothing_else_is_taken():
    params = set(inspect.signature(get_model_tokenizer).parameters)
    assert {f.name for f in dataclasses.fields(ModelArguments)} <= params
    with pytest.raises(TypeError, match="modle_type"):
        get_model_tokenizer(model="tiny", modle_type="qwen2", load_model=False)
