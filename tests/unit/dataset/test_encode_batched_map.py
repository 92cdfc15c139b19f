"""encode_dataset maps in batches: --dataset_num_proc processes when there is a batch of rows for each, the
cache key follows the template's arguments, streams encode too, and lazy encoding is the batch of one."""
from datasets import Dataset
from datasets.fingerprint import Hasher

from sartor.dataset.encode import BATCH_SIZE, LazyEncodedDataset, _Encoder, encode_dataset, processes
from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import get_template


def _rows(*answers: str) -> Dataset:
    return Dataset.from_list([{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": a}]}
                              for a in answers])


def test_processes_follow_num_proc_when_each_gets_a_batch():
    assert processes(10_000, 4) == 4
    assert processes(4 * BATCH_SIZE, 4) == 4
    assert processes(2 * BATCH_SIZE + 1, 8) == 3
    assert processes(BATCH_SIZE, 2) is None and processes(10_000, 1) is None
    assert processes(100, 2, batch_size=10) == 2


def test_batched_cache_key_follows_the_template_arguments():
    def key(**kw):
        return Hasher.hash(_Encoder(get_template("chatml", get_tiny_tokenizer(), **kw)).encode_table)

    assert key(max_length=64) == key(max_length=64)
    assert key(max_length=64) != key(max_length=32)
    assert key(max_length=64) != key(max_length=64, truncation_strategy="left")


def test_a_stream_encodes_in_batches_and_drops_over_length_rows():
    template = get_template("chatml", get_tiny_tokenizer(), max_length=32)
    ds = _rows("a", "long " * 40, "b", "c")
    eager = encode_dataset(ds, template, load_from_cache_file=False, batch_size=2)
    streamed = list(encode_dataset(ds.to_iterable_dataset(), template, batch_size=2))
    assert [r["input_ids"] for r in streamed] == eager["input_ids"] and len(streamed) == 3
    assert eager.features["input_ids"].feature.dtype == "int32" and eager.features["labels"].feature.dtype == "int64"


def test_lazy_encoding_is_the_batch_of_one():
    template = get_template("chatml", get_tiny_tokenizer(), max_length=32)
    ds = _rows("a", "long " * 40, "b")
    lazy = LazyEncodedDataset(ds, template)
    eager = encode_dataset(ds, template, load_from_cache_file=False)
    assert [lazy[0]["labels"], lazy[1]["labels"]] == [eager["labels"][0], eager["labels"][1]]  # row 1 -> row 2
