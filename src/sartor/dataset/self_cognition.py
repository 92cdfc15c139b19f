"""The built-in self-cognition data: filling ``{{NAME}}``/``{{AUTHOR}}`` from --model_name/--model_author."""
from __future__ import annotations

import re
from typing import Callable, Optional, Sequence, Union

from ..utils.errors import SartorError

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
Names = Union[str, Sequence[str], None]


def parse_zh_en(value: Names) -> Optional[tuple[str, str]]:
    """(Chinese, English) from ["中文名", "English Name"] (or ["中文名", "English", "Name"]), one value for both,
    or the single string "中文名 English Name" (split on the first space when the first part has CJK)."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else [v for v in value if v is not None]
    items = [v.strip() for v in items if v.strip()]
    if not items:
        return None
    if len(items) >= 2:  # ["小黄", "Xiao Huang"], or "小黄 Xiao Huang" split on spaces by the command line
        return items[0], " ".join(items[1:])
    first, _, rest = items[0].partition(" ")
    if rest.strip() and _CJK.search(first):
        return first, rest.strip()
    return items[0], items[0]


def make_self_cognition_preprocess(model_name: Names, model_author: Names) -> Callable[[dict], dict]:
    """A row function that fills the placeholders of a self-cognition row by its zh/en tag."""
    names, authors = parse_zh_en(model_name), parse_zh_en(model_author)
    if names is None or authors is None:
        raise SartorError(
            "the self-cognition dataset needs the model's name and author: pass --model_name and "
            "--model_author (e.g. --model_name 小黄 'Xiao Huang' --model_author 魔搭 ModelScope)"
        )

    def fill(row: dict) -> dict:
        i = 0 if row.get("tag") == "zh" else 1
        out = {}
        for key in ("query", "response"):
            text = row[key]
            for ph, value in (("{{NAME}}", names[i]), ("{{AUTHOR}}", authors[i])):
                text = text.replace(ph, value).replace(ph.lower(), value)
            out[key] = text
        return out

    return fill
