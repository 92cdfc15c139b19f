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


def test_a_resolved_model_is_not_resolved_again(monkeypatch, tiny_dir):
    import sartor.model.loader as loader

    info = loader.resolve_model_info("tiny")
    calls = []
    monkeypatch.setattr(loader, "resolve_model_info", lambda *a, **k: calls.append(a) or info)
    model, tokenizer = get_model_tokenizer(model=info.model_dir, model_type=info.model_type, info=info)
    assert calls == [] and model.model_info is info and tokenizer is not None
