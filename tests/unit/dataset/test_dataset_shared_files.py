"""Every file in ../shared/datasets loads as a user would pass it, into the canonical shape."""
from __future__ import annotations

import json
import os

import pytest

from sartor.dataset import decode_row, load_dataset


def _rows(path) -> list[dict]:
    train, val = load_dataset([str(path)])
    assert val is None
    return [decode_row(r) for r in train]


def _check_shape(row: dict) -> None:
    assert set(row) <= {"messages", "tools", "images", "rejected_response", "label"}
    assert row["messages"]
    for m in row["messages"]:
        assert m["role"] in ("system", "user", "assistant", "tool")
        assert isinstance(m["content"], str)


def test_alpaca(shared_datasets):
    rows = _rows(shared_datasets / "alpaca_en_demo.json")
    raw = json.loads((shared_datasets / "alpaca_en_demo.json").read_text())
    assert len(rows) == len(raw) == 999
    for row, r in zip(rows, raw):
        _check_shape(row)
        query = r["instruction"] + ("\n" + r["input"] if r["input"] else "")
        assert row["messages"] == [{"role": "user", "content": query}, {"role": "assistant", "content": r["output"]}]


def test_identity_loads_as_plain_alpaca(shared_datasets):
    rows = _rows(shared_datasets / "identity.json")
    assert len(rows) == 91
    assert any("{{name}}" in r["messages"][-1]["content"] for r in rows)  # user files are not filled


def test_glaive_toolcall(shared_datasets):
    rows = _rows(shared_datasets / "glaive_toolcall_en_demo.json")
    assert len(rows) == 300
    with_calls = [r for r in rows if any(m["role"] == "tool" for m in r["messages"])]
    assert len(with_calls) > 100
    for row in with_calls:
        _check_shape(row)
        assert row["tools"] and row["tools"][0]["type"] == "function" and "name" in row["tools"][0]["function"]
        calls = [m for m in row["messages"] if m.get("tool_calls")]
        assert calls and all(m["role"] == "assistant" for m in calls)
        call = calls[0]["tool_calls"][0]
        assert call["type"] == "function" and isinstance(call["function"]["name"], str)
        assert isinstance(call["function"]["arguments"], dict)
        roles = [m["role"] for m in row["messages"]]
        assert roles[roles.index("tool") - 1] == "assistant"


def test_dpo(shared_datasets):
    rows = _rows(shared_datasets / "dpo_en_demo.json")
    raw = json.loads((shared_datasets / "dpo_en_demo.json").read_text())
    assert len(rows) == 300
    for row, r in zip(rows, raw):
        _check_shape(row)
        assert row["messages"][-1] == {"role": "assistant", "content": r["chosen"]["value"]}
        assert row["rejected_response"] == r["rejected"]["value"]
    assert any(r["messages"][0]["role"] == "system" for r in rows)


def test_kto(shared_datasets):
    rows = _rows(shared_datasets / "kto_en_demo.json")
    assert len(rows) == 300
    assert {r["label"] for r in rows} == {True, False}
    for row in rows:
        _check_shape(row)
        assert row["messages"][-1]["role"] == "assistant"


def test_mllm_images_are_absolute_existing_paths(shared_datasets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative to the data file, not to the CWD
    rows = _rows(os.path.relpath(shared_datasets / "mllm_demo.json", tmp_path))
    assert len(rows) == 6
    for row in rows:
        _check_shape(row)
        assert row["images"]
        n_tags = sum(m["content"].count("<image>") for m in row["messages"])
        assert n_tags == len(row["images"])
        for image in row["images"]:
            assert os.path.isabs(image) and os.path.isfile(image)


def test_c4_is_assistant_only_text(shared_datasets):
    rows = _rows(shared_datasets / "c4_demo.jsonl")
    first = json.loads((shared_datasets / "c4_demo.jsonl").read_text().splitlines()[0])
    assert len(rows) == 300
    assert rows[0]["messages"] == [{"role": "assistant", "content": first["text"]}]
    assert all(len(r["messages"]) == 1 and r["messages"][0]["role"] == "assistant" for r in rows)


def test_every_shared_file_loads(shared_datasets):
    files = [p for p in sorted(shared_datasets.iterdir()) if p.suffix in (".json", ".jsonl")]
    assert files
    train, _ = load_dataset([str(p) for p in files], split_dataset_ratio=0.1)
    assert len(train) > 2000


def test_every_shared_file_loads_strictly_row_for_row(shared_datasets):
    """No real row is a bad row: --strict true loads every data file whole, one canonical row per record."""
    files = [p for p in sorted(shared_datasets.rglob("*")) if p.suffix in (".json", ".jsonl", ".csv", ".txt")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        records = json.loads(text) if path.suffix == ".json" else [line for line in text.splitlines() if line.strip()]
        train, _ = load_dataset([str(path)], strict=True)
        assert len(train) == len(records), path.name
        for row in train:
            _check_shape(decode_row(row))


@pytest.mark.parametrize("sep", [",", " ", ", "])
def test_one_string_with_several_files(shared_datasets, sep):
    item = sep.join(str(shared_datasets / f) for f in ("identity.json", "mllm_demo.json"))
    train, _ = load_dataset([item])
    assert len(train) == 91 + 6
