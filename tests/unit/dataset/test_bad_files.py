"""Bad data files give a SartorError naming the file and the line, row or byte offset; files in
UTF-8 with a BOM or UTF-16/32 with a BOM load; bad records are skipped and counted (strict false)."""
from __future__ import annotations

import json
import re

import datasets
import pytest

from sartor.dataset import decode_row, load_dataset
from sartor.utils.errors import SartorError

ROWS = [{"instruction": "héllo 你好", "input": "", "output": "ok"},
        {"instruction": "q2", "input": "x", "output": "a2"}]
STRICT = pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])


def messages(dataset) -> list[list[dict]]:
    return [decode_row(r)["messages"] for r in dataset]


def load(path, strict: bool = True, **kwargs):
    return load_dataset([str(path)], strict=strict, **kwargs)[0]


@STRICT
@pytest.mark.parametrize("name, data", [("a.json", b""), ("a.jsonl", b""), ("b.jsonl", b" \n\n \r\n"),
                                        ("c.json", b"\xef\xbb\xbf"), ("d.csv", b""), ("e.txt", b"\n")])
def test_empty_file_is_an_error_naming_it(tmp_path, strict, name, data):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(SartorError, match=re.escape(name) + r": the file is empty"):
        load(tmp_path / name, strict)


@STRICT
@pytest.mark.parametrize("codec, name", [("latin-1", "data.json"), ("gbk", "data.jsonl"), ("gbk", "data.csv"),
                                         ("latin-1", "data.txt")])
def test_legacy_encoding_names_byte_offset_and_line(tmp_path, strict, codec, name):
    lines = ['{"query": "plain", "response": "ascii"}', '{"query": "café 你好", "response": "x"}']
    text = "\n".join(lines) if name.endswith("l") else "\n".join(["query,response", "plain,ascii", "café 你好,x"])
    data = text.encode(codec, errors="replace")
    (tmp_path / name).write_bytes(data)
    offset = next(i for i, b in enumerate(data) if b >= 0x80)
    with pytest.raises(SartorError) as e:
        load(tmp_path / name, strict)
    msg = str(e.value)
    assert name in msg and f"byte 0x{data[offset]:02X} at byte offset {offset} (line " in msg
    assert "not valid UTF-8" in msg and "re-save the file as UTF-8" in msg


def test_nul_bytes_utf16_without_bom_is_an_error(tmp_path):
    path = tmp_path / "d.json"
    path.write_bytes(json.dumps(ROWS[1:]).encode("utf-16-le"))
    with pytest.raises(SartorError, match=r"d\.json: byte 0x00 at byte offset 1 \(line 1\) is a NUL byte.*UTF-16"):
        load(path, False)


def test_truncated_utf16_is_an_error_naming_the_offset(tmp_path):
    data = json.dumps(ROWS).encode("utf-16") + b"x"
    (tmp_path / "d.json").write_bytes(data)
    with pytest.raises(SartorError, match=rf"d\.json: byte 0x78 at byte offset {len(data) - 1} .*not valid UTF-16"):
        load(tmp_path / "d.json", False)


def _encoded(fmt: str) -> str:
    if fmt == "json":
        return json.dumps(ROWS, ensure_ascii=False, indent=1)
    if fmt == "jsonl":
        return "\r\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\r\n"
    return 'instruction,input,output\r\nhéllo 你好,,ok\r\nq2,x,"a2"\r\n'


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-be-bom", "utf-32"])
@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_bom_files_load(tmp_path, codec, fmt):
    text = _encoded(fmt)
    data = b"\xfe\xff" + text.encode("utf-16-be") if codec == "utf-16-be-bom" else text.encode(codec)
    (tmp_path / f"d.{fmt}").write_bytes(data)
    assert messages(load(tmp_path / f"d.{fmt}")) == [
        [{"role": "user", "content": "héllo 你好"}, {"role": "assistant", "content": "ok"}],
        [{"role": "user", "content": "q2\nx"}, {"role": "assistant", "content": "a2"}],
    ]


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16"])
def test_bom_text_file_loads_without_the_mark_or_blank_lines(tmp_path, codec):
    (tmp_path / "t.txt").write_bytes("first\n\n  \nsecond\n\n".encode(codec))
    assert messages(load(tmp_path / "t.txt")) == [[{"role": "assistant", "content": "first"}],
                                                  [{"role": "assistant", "content": "second"}]]


@STRICT
def test_csv_unclosed_quote_names_the_line_it_opens(tmp_path, strict):
    (tmp_path / "q.csv").write_text('query,response\na,b\n"c,d\ne,f\n')
    with pytest.raises(SartorError, match=r"q\.csv: row 2 \(line 3\): broken quote: .*never closed"):
        load(tmp_path / "q.csv", strict)


def test_csv_stray_quote_and_extra_fields_are_bad_rows(tmp_path, sartor_logs):
    (tmp_path / "q.csv").write_text('query,response\na,b\n"c"x,d\ne,f,g\n"multi\nline",h\n')
    with pytest.raises(SartorError, match=r"q\.csv: row 2 \(line 3\): broken quote: .*--strict false"):
        load(tmp_path / "q.csv", True)
    assert [m[0]["content"] for m in messages(load(tmp_path / "q.csv", False))] == ["a", "multi\nline"]
    assert any("skipped 2 of 4 rows" in m and "q.csv" in m for m in sartor_logs)


def test_csv_values_stay_text(tmp_path):
    (tmp_path / "n.csv").write_text("query,response,system\n7,42,\nNA,None,sys\n")
    assert messages(load(tmp_path / "n.csv")) == [
        [{"role": "user", "content": "7"}, {"role": "assistant", "content": "42"}],
        [{"role": "system", "content": "sys"}, {"role": "user", "content": "NA"},
         {"role": "assistant", "content": "None"}],
    ]


BAD_JSONL = '{"query": "a", "response": "b"}\n\n{"query": "c", \n[1, 2]\n{"query": "d", "response": "e"}\n'


def test_malformed_jsonl_line_skipped_and_counted(tmp_path, sartor_logs):
    (tmp_path / "d.jsonl").write_text(BAD_JSONL)
    assert [m[1]["content"] for m in messages(load(tmp_path / "d.jsonl", False))] == ["b", "e"]
    warning = next(m for m in sartor_logs if "skipped" in m)
    assert "skipped 2 of 4 rows of" in warning and "d.jsonl: first: line 3: invalid JSON" in warning


def test_malformed_jsonl_line_strict_names_file_and_line(tmp_path):
    (tmp_path / "d.jsonl").write_text(BAD_JSONL)
    with pytest.raises(SartorError, match=r"d\.jsonl: line 3: invalid JSON \(.* at column 15\)"):
        load(tmp_path / "d.jsonl", True)
    (tmp_path / "e.jsonl").write_text(BAD_JSONL.replace('{"query": "c", \n', ""))
    with pytest.raises(SartorError, match=r"e\.jsonl: line 3: is not a JSON object \(got a list\)"):
        load(tmp_path / "e.jsonl", True)


@STRICT
def test_json_list_syntax_error_names_line_and_column(tmp_path, strict):
    (tmp_path / "d.json").write_text('[\n  {"query": "a", "response": "b"},\n  {"query": "c" "response": "d"}\n]')
    with pytest.raises(SartorError, match=r"d\.json: invalid JSON at line 3 column 17: Expecting ','"):
        load(tmp_path / "d.json", strict)


@STRICT
def test_no_line_of_json_parses_is_an_error(tmp_path, strict):
    (tmp_path / "d.jsonl").write_text('{"query": "a",\n  "response": \n}\n')
    with pytest.raises(SartorError, match=r"d\.jsonl: neither one JSON document nor JSON lines: line 1: invalid"):
        load(tmp_path / "d.jsonl", strict)


def test_streaming_csv_and_utf16_json(tmp_path):
    (tmp_path / "d.csv").write_text("query,response\na,b\n")
    (tmp_path / "d.json").write_bytes(json.dumps([{"query": "c", "response": "d"}]).encode("utf-16"))
    train, _ = load_dataset([str(tmp_path / "d.csv"), str(tmp_path / "d.json")], streaming=True)
    assert isinstance(train, datasets.IterableDataset)
    assert [m[0]["content"] for m in messages(train)] == ["a", "c"]
