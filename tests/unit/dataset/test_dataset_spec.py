"""Parsing ``id_or_path[:subset1/subset2][#N]`` and splitting old scripts' strings."""
from __future__ import annotations

import pytest

from sartor.dataset import DatasetSpec, parse_dataset_spec, split_dataset_args
from sartor.utils.errors import SartorError


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("alpaca-en", DatasetSpec("alpaca-en")),
        ("alpaca-en#500", DatasetSpec("alpaca-en", None, 500)),
        ("alpaca-en#-1", DatasetSpec("alpaca-en")),
        ("AI-ModelScope/hh-rlhf:helpful-base", DatasetSpec("AI-ModelScope/hh-rlhf", ("helpful-base",))),
        ("owner/name:a/b#20", DatasetSpec("owner/name", ("a", "b"), 20)),
        ("multi-alpaca:ar/de/fr#3", DatasetSpec("multi-alpaca", ("ar", "de", "fr"), 3)),
        ("data/train.json#7", DatasetSpec("data/train.json", None, 7)),
    ],
)
def test_parse(spec, expected):
    assert parse_dataset_spec(spec) == expected
    assert str(parse_dataset_spec(spec)) in (spec, spec.replace("#-1", ""))


@pytest.mark.parametrize("spec", ["x#abc", "x#0", "x#-5", "x:#3", ""])
def test_parse_errors(spec):
    with pytest.raises(SartorError):
        parse_dataset_spec(spec)


def test_existing_path_is_taken_whole(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "odd:name#1.json").write_text("[]")
    assert parse_dataset_spec("odd:name#1.json") == DatasetSpec("odd:name#1.json")


def test_split_dataset_args(tmp_path, monkeypatch):
    assert split_dataset_args(["a.json,b.json"]) == ["a.json", "b.json"]
    assert split_dataset_args(["a.json b.json", "c#3"]) == ["a.json", "b.json", "c#3"]
    assert split_dataset_args("a, b ,c") == ["a", "b", "c"]
    assert split_dataset_args(None) == []
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my data.json").write_text("[]")
    assert split_dataset_args(["my data.json"]) == ["my data.json"]
