"""Property tests: whatever rows or bytes a user's file holds, loading ends in canonical rows, a counted
skip or a SartorError, never another exception. Derandomised and bounded, so the run is the same on
every machine and stays short."""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os

import datasets
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sartor.dataset import decode_row, load_dataset
from sartor.dataset.canonical import ROLES, canonical_dataset
from sartor.dataset.standardize import RowPipeline
from sartor.utils.errors import SartorError

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
FAST = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FILES = settings(FAST, max_examples=20)

# -- rows ------------------------------------------------------------------------------------------

ROW_KEYS = ["instruction", "input", "output", "system", "history", "conversations", "messages", "query",
            "response", "prompt", "chosen", "rejected", "rejected_response", "label", "text", "tools", "images"]
TURN_KEYS = ["role", "content", "from", "value", "tool_calls", "loss", "type", "text", "image_url"]
ROLE_NAMES = ["user", "assistant", "system", "tool", "human", "gpt", "function_call", "observation", "bot", ""]
TEXTS = st.sampled_from(["", " ", "\n", "hi", "[", "[1]", '[{"role": "user"}]', '{"name": "f"}', "true", "0",
                         '[["q", "a"]]', "<image>", "你好", "a\u2028b"]) | st.text(min_size=1, max_size=6)
SCALARS = st.none() | st.booleans() | st.integers(-2, 2) | st.floats(allow_nan=False, width=16) | TEXTS
JUNK = st.recursive(SCALARS, lambda c: st.lists(c, max_size=3)
                    | st.dictionaries(st.sampled_from(TURN_KEYS + ROW_KEYS), c, max_size=3), max_leaves=8)
ROLE = st.sampled_from(["user", "assistant", "human", "gpt"]) | st.sampled_from(ROLE_NAMES)
ANY_TURN = st.fixed_dictionaries({}, optional={"role": ROLE | JUNK, "from": ROLE, "content": TEXTS | JUNK,
                                               "value": TEXTS | JUNK, "tool_calls": JUNK, "loss": JUNK})
TURN = (st.fixed_dictionaries({"role": ROLE, "content": TEXTS}, optional={"tool_calls": JUNK, "loss": JUNK})
        | st.fixed_dictionaries({"from": ROLE, "value": TEXTS}) | ANY_TURN)
TURNS = st.lists(TURN, min_size=1, max_size=4) | st.lists(TURN, max_size=3) | JUNK
VALUE = TEXTS | JUNK


def _row(required: dict, optional: dict) -> st.SearchStrategy:
    """Rows of one format; half of them also carry system/tools/images columns."""
    extras = {**optional, "system": VALUE, "tools": VALUE, "images": VALUE}
    return st.fixed_dictionaries(required, optional=optional) | st.fixed_dictionaries(required, optional=extras)


ROWS = {
    "alpaca": _row({"instruction": VALUE, "output": VALUE}, {"input": VALUE, "history": VALUE}),
    "sharegpt": _row({"conversations": TURNS}, {}),
    "openai": _row({"messages": TURNS}, {"label": VALUE}),
    "ms-swift": _row({"query": VALUE, "response": VALUE}, {"history": VALUE}),
    "preference": _row({"chosen": TURN | TURNS | VALUE, "rejected": TURN | TURNS | VALUE},
                       {"prompt": VALUE, "conversations": TURNS, "rejected_response": VALUE}),
    "kto": _row({"messages": TURNS, "label": st.booleans() | VALUE}, {}),
    "any": st.dictionaries(st.sampled_from(ROW_KEYS), VALUE, max_size=5),
}


def check_canonical(row: dict) -> None:
    decoded = decode_row(canonical_dataset([row])[0])  # fits the one Arrow schema, and reads back
    assert decoded["messages"] and all(m["role"] in ROLES and isinstance(m["content"], str)
                                       for m in decoded["messages"])
    assert any(m["role"] in ("user", "assistant") and (m["content"].strip() or m.get("tool_calls"))
               for m in decoded["messages"])


@pytest.mark.parametrize("fmt", list(ROWS))
@FAST
@given(data=st.data())
def test_standardising_any_row_gives_a_row_a_counted_skip_or_a_sartor_error(fmt, data):
    raw = data.draw(ROWS[fmt], label="row")
    row, error = RowPipeline("f.json", base_dir="/data").convert(raw, 6)
    event("row" if error is None else "skipped")
    if error is None:
        check_canonical(row)
    else:
        assert error.startswith("f.json: row 7: ")
    try:
        RowPipeline("f.json", base_dir="/data", strict=True).convert(raw, 6)
    except SartorError as e:
        assert error is not None and str(e).startswith(error)
    else:
        assert error is None


# -- files -----------------------------------------------------------------------------------------

_names = itertools.count()


@pytest.fixture(scope="module")
def files_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("random_files"))


def _rows_text(rows: list[dict], ext: str) -> str:
    if ext == ".json":
        return json.dumps(rows, ensure_ascii=False)
    if ext == ".jsonl":
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    if ext == ".csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, ["query", "response", "system"])
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    return "\n".join(str(r.get("query", "")) for r in rows)


@st.composite
def file_bytes(draw, ext: str) -> bytes:
    """Random bytes, or rows in some encoding with bytes cut, inserted or replaced."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=120))
    row = st.fixed_dictionaries({"query": TEXTS, "response": TEXTS}, optional={"system": TEXTS})
    rows = draw(st.lists(row, min_size=1, max_size=4))
    codec = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1", "gbk"]))
    data = bytearray(codecs.encode(_rows_text(rows, ext), codec, errors="replace"))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["cut", "insert", "replace"]))
        junk = draw(st.sampled_from([b'"', b"\n", b",", b"{", b"]", b"\x00", b"\xff", b"\xe4\xbd", b"\r\n", b""]))
        if action == "cut":
            del data[at:at + draw(st.integers(1, 8))]
        elif action == "insert":
            data[at:at] = junk
        else:
            data[at:at + len(junk)] = junk
    return bytes(data)


def _load_any(folder: str, ext: str, data: bytes, strict: bool) -> None:
    path = os.path.join(folder, f"f{next(_names)}{ext}")  # a new name each time: no stale datasets cache
    with open(path, "wb") as f:
        f.write(data)
    try:
        train, _ = load_dataset([path], strict=strict)
    except SartorError as e:
        assert path in str(e), str(e)  # every file error names the file
        event("no usable rows" if str(e).startswith("no usable rows") else "file error")
        return
    event(f"{len(train)} rows")
    for row in train:
        check_canonical(row)


@pytest.mark.parametrize("ext", [".json", ".jsonl", ".csv", ".txt"])
@FILES
@given(data=st.data(), strict=st.booleans())
def test_loading_any_file_bytes_gives_rows_or_a_sartor_error(files_dir, ext, data, strict):
    _load_any(files_dir, ext, data.draw(file_bytes(ext), label="bytes"), strict)


def test_parquet_bytes_give_rows_or_a_sartor_error(files_dir):
    good = os.path.join(files_dir, "good.parquet")
    datasets.Dataset.from_list([{"query": "q", "response": "r"}, {"query": "", "response": ""}]).to_parquet(good)
    with open(good, "rb") as f:
        valid = f.read()

    @settings(FILES, max_examples=6)
    @given(st.binary(max_size=64) | st.integers(1, len(valid) - 1).map(lambda n: valid[:n]), st.booleans())
    def check(data, strict):
        _load_any(files_dir, ".parquet", data, strict)

    check()
    assert len(load_dataset([good], strict=False)[0]) == 1
