"""Row-level preprocessing for registered hub datasets whose columns need more than a rename.

Each function takes one raw row and returns a row in a supported format (query/response,
messages, ...), or None to drop the row (a filter). They run before standardisation.
"""
from __future__ import annotations

import ast
import json
import re
from typing import Any, Optional

Row = dict[str, Any]


def _literal(value: Any) -> Any:
    """Parse a Python/JSON literal held in a string (some hub datasets store lists that way)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return ast.literal_eval(value)


def alpaca_zh(row: Row) -> Row:
    """alpaca-gpt4-data-zh: inputs sometimes start with '输入：'."""
    inp = row.get("input") or ""
    if inp.startswith("输入："):
        inp = inp[3:]
    return {**row, "input": inp}


def sharegpt_swift(row: Row) -> Row:
    """swift/sharegpt: `conversation` is a list of {"human", "assistant"} rounds (maybe a string)."""
    rounds = _literal(row["conversation"])
    messages = []
    for r in rounds:
        messages += [{"role": "user", "content": r["human"]}, {"role": "assistant", "content": r["assistant"]}]
    return {"messages": messages}


def damo_agent(row: Row) -> Optional[Row]:
    """damo/MSAgent-Bench: conversations stored as a Python literal string."""
    conv = _literal(row["conversations"])
    return {"conversations": conv} if len(conv) > 1 else None


def make_cls(labels: list[str], task: str, pair: bool):
    """Classification rows (CLUE cmnli, JD sentiment) -> query with the task and categories."""

    def _process(row: Row) -> Optional[Row]:
        label = row.get("label")
        if label is None or not 0 <= int(label) < len(labels):
            return None
        if pair:
            text = f"Sentence1: {row['sentence1']}\nSentence2: {row['sentence2']}"
        else:
            text = f"Sentence: {row['sentence']}"
        query = f"Task: {task}\n{text}\nCategory: {', '.join(labels)}\nOutput:"
        return {"query": query, "response": labels[int(label)]}

    return _process


def dureader_robust(row: Row) -> Row:
    """DuReader_robust-QG: text1 = 'answer[SEP]context', text2 = question."""
    answer, context = row["text1"].split("[SEP]", 1)
    query = f"Task: Question Generation\nContext: {context}\nAnswer: {answer}\nQuestion:"
    return {"query": query, "response": row["text2"]}


def advertise_gen(row: Row) -> Row:
    """AdvertiseGen: keywords (content) -> advertisement (summary)."""
    query = f"Task: Generating advertisements based on keywords.\nKeywords: {row['content']}\nAdvertisements:"
    return {"query": query, "response": row["summary"]}


def blossom_math(row: Row) -> Row:
    """blossom-math-v2: the final answer follows the worked output."""
    return {"query": row["input"], "response": f"{row['output']}\n\nAnswer: {row['answer']}"}


def tigerbot_law(row: Row) -> Row:
    """tigerbot-law-plugin: law articles as pre-training text."""
    text = f"{row['type']}\n{row['title']}\n"
    text += "".join(row[f"chapter{i}"] for i in range(1, 4) if row.get(f"chapter{i}"))
    return {"response": text + row["content"]}


def leetcode_python(row: Row) -> Row:
    """leetcode-solutions-python: problem + code, then the explanation."""
    text = row["code_with_problem"]
    idx = text.find("```python")
    problem = text[:idx]
    problem = problem[2:] if problem.startswith("# ") else problem
    return {"query": problem, "response": f"{text[idx:].strip()}\n\n{row['explanation_only']}"}


def coco_caption(row: Row) -> Row:
    """coco_2014_caption: one image and its first caption."""
    image = row["image"]
    path = image.get("path") if isinstance(image, dict) else getattr(image, "filename", image)
    caption = row["caption"].split("&&")[0]
    return {"query": "<image>please describe the image.", "response": caption, "images": [path]}


def hh_rlhf(row: Row) -> Optional[Row]:
    """Anthropic hh-rlhf: chosen/rejected are whole '\\n\\nHuman: ... \\n\\nAssistant: ...' transcripts."""
    sep = re.compile(r"\n\nHuman:|\n\nAssistant:|\n\nHum:")
    chosen = [s.strip() for s in sep.split(row["chosen"].strip())]
    rejected = [s.strip() for s in sep.split(row["rejected"].strip())]
    if chosen and chosen[0].startswith("Human:"):
        chosen[0] = chosen[0][6:].strip()
        rejected[0] = rejected[0][6:].strip() if rejected[0].startswith("Human:") else rejected[0]
    common = 0
    while common < min(len(chosen), len(rejected)) and chosen[common] == rejected[common]:
        common += 1
    if common % 2 == 0 or common >= len(chosen) or common >= len(rejected):
        return None  # the answers must differ at an assistant turn
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(chosen[:common])]
    messages.append({"role": "assistant", "content": chosen[common]})
    return {"messages": messages, "rejected_response": rejected[common]}


def ruozhiba(row: Row) -> Optional[Row]:
    """ruozhiba posts as pre-training text (title, or content; numbering removed)."""
    title = row.get("title") or row.get("content")
    abstract = row.get("abs")
    if abstract and abstract != title:
        title = f"{title}，{abstract}"
    if not title:
        return None
    m = re.search(r"\d+[\.,\s,\、](.+)", title)
    return {"response": m.group(1) if m else title}
