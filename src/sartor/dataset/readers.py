"""Reading the rows of a decoded text file with Python's json and csv modules.

A record that cannot be parsed but leaves the records around it intact (a malformed JSON line, a
JSON value that is not an object, a CSV record with a stray quote or too many fields) becomes a
``BadRecord``: standardisation skips and counts it like any other bad row, or raises with
``--strict true``. A problem that leaves no record boundary to trust (a syntax error inside one
JSON document, a quoted CSV field never closed) is a SartorError naming the file and line.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any, Union

from ..utils.errors import SartorError

CSV_FIELD_LIMIT = 1 << 30


@dataclass(frozen=True)
class BadRecord:
    """A record of a file that is not a row; ``where`` is "line 5" or "row 3 (line 4)"."""

    where: str
    what: str


Record = Union[dict, BadRecord]


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def _object_or_bad(value: Any, where: str) -> Record:
    if isinstance(value, dict):
        return value
    return BadRecord(where, f"is not a JSON object (got {_kind(value)})")


def _json_lines(path: str, text: str) -> list[Record]:
    rows: list[Record] = []
    for lineno, line in enumerate(text.split("\n"), 1):  # not splitlines(): JSON strings may hold U+2028
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(_object_or_bad(json.loads(line), f"line {lineno}"))
        except json.JSONDecodeError as e:
            rows.append(BadRecord(f"line {lineno}", f"invalid JSON ({e.msg} at column {e.colno})"))
        except RecursionError:
            rows.append(BadRecord(f"line {lineno}", "invalid JSON (nested too deeply)"))
    if rows and all(isinstance(r, BadRecord) for r in rows):
        first = rows[0]
        raise SartorError(f"{path}: neither one JSON document nor JSON lines: {first.where}: {first.what}")
    return rows


def read_json_rows(path: str, text: str) -> list[Record]:
    """The rows of a JSON list, a single JSON object or JSON lines (blank lines ignored)."""
    head = text.lstrip()[:1]
    if head == "[":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            raise SartorError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg} "
                              "(in a file holding one JSON list, a bad row cannot be skipped)") from None
        except RecursionError:
            raise SartorError(f"{path}: invalid JSON: nested too deeply") from None
        return [_object_or_bad(v, f"row {i + 1}") for i, v in enumerate(value)]
    if head == "{":
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            value = None  # JSON lines (or a broken document, which no line of will parse)
        if isinstance(value, dict):
            return [value]
    return _json_lines(path, text)


def _csv_header(path: str, reader) -> list[str]:
    for fields in reader:
        if not fields:
            continue
        names = [f.strip() for f in fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SartorError(f"{path}: line {reader.line_num}: the header names column(s) {dupes} more than once")
        return names
    return []


def read_csv_rows(path: str, text: str) -> list[Record]:
    """The rows of a CSV file with a header line; every value is a string, an empty field is None."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)  # the default (128 KiB) is shorter than some answers
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = _csv_header(path, reader)
    except csv.Error as e:
        raise SartorError(f"{path}: line {reader.line_num}: cannot read the header: {e}") from None
    rows: list[Record] = []
    while True:
        start = reader.line_num + 1
        where = f"row {len(rows) + 1} (line {start})"
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            if "end of data" in str(e):
                raise SartorError(f"{path}: {where}: broken quote: the quoted field opened here is never closed "
                                  "(a quote inside a field is written as two quotes: \"say \"\"hi\"\"\")") from None
            rows.append(BadRecord(where, f"broken quote: {e} (a field holding quotes must be quoted whole, "
                                         "its quotes doubled: \"say \"\"hi\"\"\")"))
            continue
        if not fields:
            continue
        if len(fields) > len(header):
            rows.append(BadRecord(where, f"has {len(fields)} fields but the header has {len(header)} "
                                         "(quote a field that holds a comma)"))
            continue
        rows.append({name: (fields[i] if i < len(fields) and fields[i] != "" else None)
                     for i, name in enumerate(header)})
    return rows


def read_text_rows(text: str) -> list[dict]:
    """One ``{"text": line}`` row per non-blank line."""
    return [{"text": line.rstrip("\r")} for line in text.split("\n") if line.strip()]
