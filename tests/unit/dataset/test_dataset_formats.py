"""Format detection and conversion of single rows into canonical rows."""
from __future__ import annotations

import json

import pytest

from sartor.dataset import decode_row, standardize_row
from sartor.dataset.messages import RowError


def std(row: dict, base_dir: str | None = None) -> dict:
    return decode_row(standardize_row(row, base_dir))


def U(c):
    return {"role": "user", "content": c}


def A(c):
    return {"role": "assistant", "content": c}


def S(c):
    return {"role": "system", "content": c}


def test_alpaca_with_system_history_and_input():
    row = {"instruction": "Sum", "input": "1 2", "output": "3", "system": "Be short.", "history": [["hi", "hello"]]}
    assert std(row) == {"messages": [S("Be short."), U("hi"), A("hello"), U("Sum\n1 2"), A("3")]}
    assert std({"instruction": "Sum", "input": "", "output": "3"})["messages"] == [U("Sum"), A("3")]


def test_swift_query_response():
    row = {"query": "q", "response": "r", "history": [["q0", "r0"]], "system": "sys"}
    assert std(row)["messages"] == [S("sys"), U("q0"), A("r0"), U("q"), A("r")]
    assert std({"prompt": "p", "completion": "c"})["messages"] == [U("p"), A("c")]


def test_sharegpt_function_call_and_observation():
    row = {
        "conversations": [
            {"from": "system", "value": "sys"},
            {"from": "human", "value": "weather?"},
            {"from": "function_call", "value": '{"name": "get_weather", "arguments": {"city": "Paris"}}'},
            {"from": "observation", "value": '{"temp": 20}'},
            {"from": "gpt", "value": "20 degrees"},
        ],
        "tools": json.dumps([{"name": "get_weather", "description": "d", "parameters": {"type": "object"}}]),
    }
    out = std(row)
    assert [m["role"] for m in out["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert out["messages"][2]["tool_calls"] == [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    ]
    assert out["messages"][3]["content"] == '{"temp": 20}'
    assert out["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "description": "d", "parameters": {"type": "object"}}}
    ]


def test_openai_messages_with_tool_calls_and_loss():
    row = {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None,
             "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]},
            {"role": "tool", "content": "ok"},
            {"role": "assistant", "content": "done", "loss": False},
        ],
        "tools": [{"type": "function", "function": {"name": "f"}}],
    }
    out = std(row)
    assert out["messages"][1] == {"role": "assistant", "content": "",
                                  "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]}
    assert out["messages"][3] == {"role": "assistant", "content": "done", "loss": False}
    assert out["tools"] == [{"type": "function", "function": {"name": "f"}}]


def test_qwen_chatml_jsonl_row():
    row = {"type": "chatml", "source": "self-made",
           "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                        {"role": "assistant", "content": "a"}]}
    assert std(row) == {"messages": [S("s"), U("u"), A("a")]}


@pytest.mark.parametrize(
    "row",
    [
        {"prompt": "q", "chosen": "good", "rejected": "bad"},
        {"instruction": "q", "chosen": "good", "rejected": "bad"},
        {"query": "q", "chosen": "good", "rejected": "bad"},
        {"conversations": [{"from": "human", "value": "q"}], "chosen": {"from": "gpt", "value": "good"},
         "rejected": {"from": "gpt", "value": "bad"}},
        {"chosen": [U("q"), A("good")], "rejected": [U("q"), A("bad")]},
        {"prompt": [U("q")], "chosen": [A("good")], "rejected": [A("bad")]},
        {"query": "q", "response": "good", "rejected_response": "bad"},
        {"messages": [U("q"), A("good")], "rejected_response": "bad"},
    ],
)
def test_preference_shapes(row):
    assert std(row) == {"messages": [U("q"), A("good")], "rejected_response": "bad"}


def test_kto_label_and_text():
    assert std({"messages": [U("q"), A("a")], "label": True})["label"] is True
    assert std({"query": "q", "response": "a", "label": 0})["label"] is False
    assert std({"text": "raw text"}) == {"messages": [A("raw text")]}
    with pytest.raises(RowError, match="label"):
        std({"query": "q", "response": "a", "label": "positive"})


def test_images_resolved_against_base_dir(tmp_path):
    out = std({"messages": [U("<image>x"), A("y")], "images": ["img/a.jpg", "https://x/b.png"]}, str(tmp_path))
    assert out["images"] == [str(tmp_path / "img" / "a.jpg"), "https://x/b.png"]
    out = std({"query": "<image>x", "response": "y", "image": {"path": "/abs/c.jpg", "bytes": None}})
    assert out["images"] == ["/abs/c.jpg"]


def test_openai_content_parts_become_image_tags():
    row = {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://i/1.png"}},
                                                     {"type": "text", "text": "what?"}]}, A("cat")]}
    out = std(row)
    assert out["messages"][0]["content"] == "<image>what?" and out["images"] == ["http://i/1.png"]


@pytest.mark.parametrize(
    "row, match",
    [
        ({"instruction": "q"}, "no output"),
        ({"foo": 1}, "no known format"),
        ({"conversations": [{"from": "alien", "value": "x"}]}, "unknown role"),
        ({"conversations": []}, "non-empty"),
        ({"query": "q", "response": 3}, "response must be a string"),
        ({"conversations": [{"from": "function_call", "value": "{not json"}]}, "not valid JSON"),
        ({"query": "q", "response": "r", "history": [["only one"]]}, "history item 1"),
    ],
)
def test_bad_rows(row, match):
    with pytest.raises(RowError, match=match):
        std(row)
