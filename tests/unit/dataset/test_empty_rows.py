"""A row with no user and no assistant content is dropped and counted (strict false) or an error (strict)."""
from __future__ import annotations

import json

import pytest

from sartor.dataset import load_dataset
from sartor.utils.errors import SartorError


def load(path, strict: bool):
    return load_dataset([str(path)], strict=strict)[0]


EMPTY_ROWS = [
    {"query": "", "response": ""},
    {"instruction": " ", "input": "", "output": "\n"},
    {"conversations": [{"from": "human", "value": ""}, {"from": "gpt", "value": ""}]},
    {"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": ""},
                  {"role": "assistant", "content": ""}], "label": True},
    {"prompt": "", "chosen": "", "rejected": "r"},
    {"text": ""},
]


def test_empty_rows_dropped_and_counted(tmp_path, sartor_logs):
    good = [{"query": "q", "response": ""}, {"query": "", "response": "r"}]
    (tmp_path / "e.jsonl").write_text("\n".join(json.dumps(r) for r in good + EMPTY_ROWS))
    assert len(load(tmp_path / "e.jsonl", False)) == 2
    assert any(f"skipped {len(EMPTY_ROWS)} of {len(EMPTY_ROWS) + 2} rows" in m and "empty row" in m
               for m in sartor_logs)


@pytest.mark.parametrize("row", EMPTY_ROWS, ids=lambda r: next(iter(r)))
def test_empty_row_strict_is_an_error(tmp_path, row):
    (tmp_path / "e.json").write_text(json.dumps([{"query": "q", "response": "r"}, row]))
    with pytest.raises(SartorError, match=r"e\.json: row 2: empty row: no user and no assistant content"):
        load(tmp_path / "e.json", True)


def test_txt_blank_lines_are_not_rows(tmp_path):
    (tmp_path / "t.txt").write_text("one\n\n   \ntwo\n")
    assert len(load(tmp_path / "t.txt", True)) == 2
