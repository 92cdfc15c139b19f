"""Encoded data is cached under a key made from the data, tokenizer, template and encoding arguments."""
from datasets import Dataset
from datasets.fingerprint import Hasher

from sartor.dataset.encode import _Encoder, encode_dataset
from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import get_template


def _key(**kw):
    return Hasher.hash(_Encoder(get_template("chatml", get_tiny_tokenizer(), **kw)))


def test_key_is_stable_and_follows_the_arguments():
    assert _key(max_length=512) == _key(max_length=512)
    assert _key(max_length=512) != _key(max_length=256)
    assert _key(max_length=512) != _key(max_length=512, loss_scale="last_round")


def test_second_encoding_of_a_file_comes_from_the_cache(tmp_path):
    rows = [{"messages": [{"role": "user", "content": f"q{i}", "tool_calls": None, "loss": None},
                          {"role": "assistant", "content": f"a{i}", "tool_calls": None, "loss": None}],
             "tools": None, "images": None, "rejected_response": None, "label": None} for i in range(8)]
    Dataset.from_list(rows).to_parquet(tmp_path / "rows.parquet")
    ds = Dataset.from_parquet(str(tmp_path / "rows.parquet"), cache_dir=str(tmp_path / "cache"))
    template = get_template("chatml", get_tiny_tokenizer(), max_length=64)
    first = encode_dataset(ds, template)
    second = encode_dataset(ds, template)
    assert first["input_ids"] == second["input_ids"]
    assert first.cache_files and first.cache_files == second.cache_files
