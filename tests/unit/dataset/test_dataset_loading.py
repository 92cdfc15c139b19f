"""load_dataset on local files: formats, folders, sampling, splitting, renaming and bad rows."""
from __future__ import annotations

import json
from collections import Counter

import datasets
import pytest

from sartor.dataset import decode_row, load_dataset
from sartor.dataset.sampling import sample_indices
from sartor.utils.errors import SartorError


def write_alpaca(path, n: int, bad: dict[int, dict] | None = None) -> None:
    rows = [{"instruction": f"q{i}", "input": "", "output": f"a{i}"} for i in range(n)]
    for i, row in (bad or {}).items():
        rows[i] = row
    path.write_text(json.dumps(rows))


def queries(dataset) -> list[str]:
    return [decode_row(r)["messages"][0]["content"] for r in dataset]


def test_sample_fewer_than_size_has_no_duplicates(tmp_path):
    write_alpaca(tmp_path / "d.json", 50)
    train, _ = load_dataset([f"{tmp_path / 'd.json'}#20"])
    got = queries(train)
    assert len(got) == 20 and len(set(got)) == 20


def test_sample_more_than_size_repeats_whole_data(tmp_path):
    write_alpaca(tmp_path / "d.json", 10)
    train, _ = load_dataset([f"{tmp_path / 'd.json'}#25"])
    counts = Counter(queries(train))
    assert len(train) == 25 and set(counts) == {f"q{i}" for i in range(10)}
    assert sorted(counts.values()) == [2] * 5 + [3] * 5  # 2 whole copies + 5 distinct extra rows


def test_sample_indices_seeded():
    assert list(sample_indices(10, 4, 1)) == list(sample_indices(10, 4, 1))
    assert list(sample_indices(10, 4, 1)) != list(sample_indices(10, 4, 2))
    assert sorted(sample_indices(3, 7, 0)[:6]) == [0, 0, 1, 1, 2, 2]


def test_split_keeps_at_least_one_validation_row(tmp_path):
    write_alpaca(tmp_path / "d.json", 5)
    train, val = load_dataset([str(tmp_path / "d.json")], split_dataset_ratio=0.01)
    assert len(val) == 1 and len(train) == 4
    assert set(queries(train)) | set(queries(val)) == {f"q{i}" for i in range(5)}
    write_alpaca(tmp_path / "one.json", 1)
    train, val = load_dataset([str(tmp_path / "one.json")], split_dataset_ratio=0.5)
    assert len(train) == 1 and val is None


def test_train_dataset_sample_caps_training_rows(tmp_path):
    write_alpaca(tmp_path / "d.json", 30)
    train, val = load_dataset([str(tmp_path / "d.json")], split_dataset_ratio=0.1, train_dataset_sample=10)
    assert len(train) == 10 and len(val) == 3


def test_relative_paths_folder_and_file_types(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "dataset_dir"
    (folder / "sub").mkdir(parents=True)
    write_alpaca(folder / "a.json", 3)
    (folder / "b.jsonl").write_text("\n".join(json.dumps({"query": f"b{i}", "response": "r"}) for i in range(2)))
    (folder / "sub" / "c.csv").write_text("instruction,input,output\nc0,,x\nc1,in,y\n")
    datasets.Dataset.from_list([{"text": "p0"}, {"text": "p1"}]).to_parquet(str(folder / "d.parquet"))
    (folder / "e.txt").write_text("line one\nline two\n")
    (folder / "notes.md").write_text("ignored")
    train, _ = load_dataset(["dataset_dir"])
    got = [decode_row(r)["messages"] for r in train]
    assert len(got) == 3 + 2 + 2 + 2 + 2
    assert got[3] == [{"role": "user", "content": "b0"}, {"role": "assistant", "content": "r"}]
    assert {"role": "user", "content": "c1\nin"} in [m[0] for m in got]
    assert [{"role": "assistant", "content": "line two"}] in got
    assert [{"role": "assistant", "content": "p1"}] in got


def test_json_file_holding_json_lines_and_mixed_types(tmp_path):
    (tmp_path / "lines.json").write_text('{"query": "a", "response": "b"}\n{"query": "c", "response": "d"}\n')
    train, _ = load_dataset([str(tmp_path / "lines.json")])
    assert len(train) == 2
    mixed = [
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
         "tools": [{"name": "f"}]},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
         "tools": json.dumps([{"name": "g"}])},
    ]
    (tmp_path / "mixed.json").write_text(json.dumps(mixed))
    train, _ = load_dataset([str(tmp_path / "mixed.json")])
    assert [decode_row(r)["tools"][0]["function"]["name"] for r in train] == ["f", "g"]


def test_columns_renaming(tmp_path):
    rows = [{"question": f"q{i}", "answer": f"a{i}", "junk": 1} for i in range(3)]
    (tmp_path / "qa.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    train, _ = load_dataset([str(tmp_path / "qa.jsonl")], columns={"question": "query", "answer": "response"})
    assert decode_row(train[0])["messages"] == [{"role": "user", "content": "q0"},
                                                {"role": "assistant", "content": "a0"}]
    rows = [{"q": "x", "a": "y"}]
    (tmp_path / "qa2.json").write_text(json.dumps(rows))
    train, _ = load_dataset([str(tmp_path / "qa2.json")], columns='{"q": "query", "a": "response"}')
    assert len(train) == 1


def test_bad_row_strict_names_file_and_row(tmp_path):
    write_alpaca(tmp_path / "data.json", 10, bad={6: {"instruction": "q6", "input": ""}})
    with pytest.raises(SartorError, match=r"data\.json: row 7: .*no output"):
        load_dataset([str(tmp_path / "data.json")], strict=True)


def test_bad_rows_skipped_and_counted(tmp_path, sartor_logs):
    bad = {1: {"instruction": "x", "input": ""}, 4: {"something": "else"}, 8: {"instruction": 5, "output": "y"}}
    write_alpaca(tmp_path / "file.json", 12, bad=bad)
    train, _ = load_dataset([str(tmp_path / "file.json")], strict=False)
    assert len(train) == 9
    assert any("skipped 3 of 12 rows of" in m and "file.json" in m for m in sartor_logs)


def test_missing_path_is_an_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SartorError, match="no_such_file.json"):
        load_dataset(["no_such_file.json"])
    with pytest.raises(SartorError, match="data/train.json"):
        load_dataset(["data/train.json"])
    with pytest.raises(SartorError, match="alpaca-en"):  # a close registered name is suggested
        load_dataset(["alpaca_enn"])


def test_streaming_returns_iterable(tmp_path):
    write_alpaca(tmp_path / "d.json", 10)
    (tmp_path / "t.txt").write_text("a\nb\n")
    train, val = load_dataset([f"{tmp_path / 'd.json'}#4", str(tmp_path / "t.txt")], streaming=True,
                              split_dataset_ratio=0.1)
    assert isinstance(train, datasets.IterableDataset) and val is None
    rows = [decode_row(r) for r in train]
    assert len(rows) == 6 and rows[-1] == {"messages": [{"role": "assistant", "content": "b"}]}
