"""Batched encoding (one tokenizer call per batch, labels from the offsets) gives exactly the input_ids and
labels of the per-row encoder it replaced: every shared dataset, every built-in template and `jinja`, with
--loss_scale, "loss" flags, truncation strategies and max_length varied."""
import datasets
import pytest
from datasets import Dataset

from _encode_reference import reference_encode, reference_template
from _template_helpers import SHARED, official_template, tokenizer_for
from sartor.dataset import load_dataset
from sartor.dataset.canonical import decode_row
from sartor.dataset.encode import encode_dataset
from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import TEMPLATE_MAPPING, TemplateError, TemplateType, get_template
from sartor.utils.errors import SartorError

FILES = ["alpaca_en_demo.json", "identity.json", "dpo_en_demo.json", "glaive_toolcall_en_demo.json",
         "kto_en_demo.json", "mllm_demo.json", "c4_demo.jsonl"]
BUILTIN = [name for name in TemplateType.all() if name in TEMPLATE_MAPPING]
# (loss_scale, truncation_strategy, max_length), cycled over the built-in templates
OPTIONS = [("default", "delete", None), ("last_round", "left", 96), ("all", "right", 64),
           ("default", "delete", 160), ("last_round", "right", 200), ("default", "left", 48)]
SAMPLE = 16  # rows per file for each built-in template


@pytest.fixture(scope="module")
def shared_rows(tmp_path_factory) -> dict[str, Dataset]:
    """Each shared file as the public loader gives it, with "loss" flags set on some assistant messages."""
    if not SHARED.is_dir():
        pytest.skip("shared datasets not present")
    old = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = tmp_path_factory.mktemp("hf_datasets_cache")
    try:
        out = {}
        for name in FILES:
            rows, _ = load_dataset([str(SHARED / "datasets" / name)], split_dataset_ratio=0.0, strict=True)
            out[name] = Dataset.from_list([_with_loss_flags(i, r) for i, r in enumerate(rows)], features=rows.features)
        yield out
    finally:
        datasets.config.HF_DATASETS_CACHE = old


def _with_loss_flags(i: int, row: dict) -> dict:
    assistant = [m for m in row["messages"] if m["role"] == "assistant"]
    if assistant and i % 3 == 1:
        assistant[0]["loss"] = False
    if len(assistant) > 1 and i % 5 == 2:
        assistant[0]["loss"] = True  # trained even with --loss_scale last_round
    if assistant and i % 7 == 3:
        assistant[-1]["loss"] = False
    return row


def _sample(ds: Dataset, n: int) -> Dataset:
    step = max(1, len(ds) // n)
    return ds.select(range(0, len(ds), step)[:n])


def assert_same_as_per_row(template, reference, ds: Dataset, batch_size: int = 256) -> int:
    """Per-row encode and encode_dataset (batched datasets.map) equal the old per-row encoder, row by row,
    on the rows the template can render; returns how many rows were compared."""
    plain = [decode_row(r) for r in ds]
    ok, expected = [], []
    for i, row in enumerate(plain):
        try:
            expected.append(reference_encode(reference, row))
        except TemplateError:
            continue
        ok.append(i)
    assert [template.encode(plain[i]) for i in ok] == expected
    kept = [e for e in expected if e is not None]
    encoded = encode_dataset(ds.select(ok), template, load_from_cache_file=False, batch_size=batch_size,
                             validation=True)
    if not kept:
        assert encoded is None
        return len(ok)
    assert encoded["input_ids"] == [e["input_ids"] for e in kept]
    assert encoded["labels"] == [e["labels"] for e in kept]
    assert encoded["length"] == [e["length"] for e in kept]
    return len(ok)


def _pair(name: str, tokenizer, **kwargs):
    return get_template(name, tokenizer, **kwargs), reference_template(get_template(name, tokenizer, **kwargs))


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_template_encodes_every_file_as_before(name, shared_rows):
    loss_scale, strategy, max_length = OPTIONS[BUILTIN.index(name) % len(OPTIONS)]
    template, reference = _pair(name, tokenizer_for(name), loss_scale=loss_scale, truncation_strategy=strategy,
                                max_length=max_length)
    compared = sum(assert_same_as_per_row(template, reference, _sample(ds, SAMPLE), batch_size=5)
                   for ds in shared_rows.values())
    assert compared > 0


def test_whole_files_with_the_tiny_tokenizer_encode_as_before(shared_rows):
    template, reference = _pair("qwen2.5", get_tiny_tokenizer(), max_length=384, truncation_strategy="delete")
    for ds in shared_rows.values():
        assert assert_same_as_per_row(template, reference, ds) == len(ds)


@pytest.mark.parametrize("name,loss_scale,strategy,max_length", [
    ("qwen2.5", "last_round", "delete", 128), ("chatml", "all", "left", 100), ("qwen2.5", "default", "right", 100),
    ("jinja", "default", "delete", 256), ("jinja", "last_round", "left", 64),
])
def test_the_tiny_tokenizer_encodes_as_before(name, loss_scale, strategy, max_length, shared_rows):
    template, reference = _pair(name, get_tiny_tokenizer(), loss_scale=loss_scale, truncation_strategy=strategy,
                                max_length=max_length)
    for ds in shared_rows.values():  # (chatml has no tool format: it renders the glaive rows without tools)
        assert assert_same_as_per_row(template, reference, _sample(ds, 60), batch_size=16) > 0


@pytest.mark.parametrize("tools_prompt", [None, "react_en"])
def test_jinja_with_an_official_tool_template_encodes_as_before(tools_prompt, shared_rows):
    tok = tokenizer_for("qwen2.5", official_template("qwen2.5-instruct.jinja"))
    template, reference = _pair("jinja", tok, loss_scale="last_round", tools_prompt=tools_prompt, max_length=512,
                                truncation_strategy="right")
    for name in ("glaive_toolcall_en_demo.json", "dpo_en_demo.json"):
        ds = _sample(shared_rows[name], 100)
        assert assert_same_as_per_row(template, reference, ds, batch_size=32) == len(ds)


def test_a_row_the_template_cannot_render_fails_its_batch_with_the_per_row_error(shared_rows):
    ds = _sample(shared_rows["glaive_toolcall_en_demo.json"], 40)  # tool calls: llama2 has no tool format
    template = get_template("llama2", tokenizer_for("llama2"))
    with pytest.raises(TemplateError) as per_row:
        for row in ds:
            template.encode(decode_row(row))
    with pytest.raises(SartorError, match="cannot encode a row") as batched:
        encode_dataset(ds, template, load_from_cache_file=False)
    assert str(per_row.value) in str(batched.value)


def test_two_processes_encode_what_one_does(shared_rows):
    ds = shared_rows["dpo_en_demo.json"]
    template = get_template("chatml", get_tiny_tokenizer(), max_length=256)
    one = encode_dataset(ds, template, load_from_cache_file=False, batch_size=32)
    two = encode_dataset(ds, template, num_proc=2, load_from_cache_file=False, batch_size=32)
    assert one["input_ids"] == two["input_ids"] and one["labels"] == two["labels"] and len(one) < len(ds)
