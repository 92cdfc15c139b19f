"""Which text encoding a data file is in, or a clear error saying why it cannot be read.

Data files are UTF-8. A byte-order mark makes a file UTF-8-with-BOM, UTF-16 or UTF-32 (as
Windows editors and spreadsheet exports save them), which are read too. Anything else (GBK,
Latin-1, ... bytes, or UTF-16 without a BOM, whose NUL bytes give it away) is an error that
names the byte offset and line of the first bad byte and says to re-save the file as UTF-8.
"""
from __future__ import annotations

import codecs

from ..utils.errors import SartorError

# Longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
CHUNK = 1 << 24
RESAVE = "re-save the file as UTF-8 (e.g. `iconv -f GBK -t UTF-8 old > new`, or an editor's 'Save as UTF-8')"


def _bom_encoding(head: bytes) -> tuple[str, int]:
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    return "utf-8", 0


def _name(encoding: str) -> str:
    return "UTF-8" if encoding.startswith("utf-8") else encoding.upper()


def _bad_byte(path: str, offset: int, encoding: str, why: str) -> SartorError:
    with open(path, "rb") as f:
        before = f.read(offset)
        byte = f.read(1)
    line = before.decode(encoding, errors="replace").count("\n") + 1
    shown = f"byte 0x{byte.hex().upper()}" if byte else "the end of the file"
    return SartorError(f"{path}: {shown} at byte offset {offset} (line {line}) {why}; {RESAVE}")


def _decode(decoder, chunk: bytes, offset: int, encoding: str) -> tuple[str, tuple[int, str] | None]:
    """(text, None) or ("", (file offset, why)) for the first undecodable or (UTF-8) NUL byte."""
    pending = len(decoder.getstate()[0])
    problems, text = [], ""
    try:
        text = decoder.decode(chunk, final=not chunk)
    except UnicodeDecodeError as e:
        bom = f" (the file starts with a {_name(encoding)} byte-order mark)" if encoding != "utf-8" else ""
        problems.append((offset - pending + e.start, f"is not valid {_name(encoding)}{bom}"))
    if encoding.startswith("utf-8") and (nul := chunk.find(b"\x00")) >= 0:
        problems.append((offset + nul, "is a NUL byte, which a UTF-8 text file does not hold (is it UTF-16 "
                                       "without a byte-order mark, or not a text file at all?)"))
    return text, min(problems) if problems else None


def detect_encoding(path: str, limit: int | None = None) -> str:
    """The Python codec to read the text file with ('utf-8', 'utf-8-sig', 'utf-16', 'utf-32').

    Checks that the whole file (its first ``limit`` bytes or so when given) decodes, and that a
    UTF-8 file holds no NUL byte; raises SartorError for those and for a file with no content.
    """
    with open(path, "rb") as f:
        encoding, bom_size = _bom_encoding(f.read(4))
        f.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        offset, blank = 0, True
        while limit is None or offset < limit:
            chunk = f.read(CHUNK)
            text, problem = _decode(decoder, chunk, offset, encoding)
            if problem is not None:
                raise _bad_byte(path, problem[0], encoding, problem[1])
            blank = blank and not text.strip()
            if not chunk:
                break
            offset += len(chunk)
    if blank and (limit is None or offset < limit):
        raise SartorError(f"{path}: the file is empty" + (" (only whitespace)" if offset > bom_size else ""))
    return encoding
