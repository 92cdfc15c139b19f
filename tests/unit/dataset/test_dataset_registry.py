"""Registry entries, custom_dataset_info, the built-in self-cognition data and hub loading (faked)."""
from __future__ import annotations

import json

import datasets
import pytest

from sartor.dataset import DATASET_MAPPING, DatasetMeta, DatasetName, decode_row, load_dataset, register_dataset
from sartor.dataset import hub
from sartor.utils.errors import SartorError

REQUIRED = [
    "alpaca-en", "alpaca-zh", "multi-alpaca", "instinwild-en", "instinwild-zh", "cot-en", "cot-zh", "firefly-zh",
    "firefly-all-zh", "instruct-en", "gpt4all-en", "sharegpt-en", "sharegpt-zh", "damo-agent-zh",
    "damo-agent-mini-zh", "code-alpaca-en", "code-python-zh", "leetcode-python-en", "medical-en", "medical-zh",
    "lawyer-llama-zh", "tigerbot-law-zh", "blossom-math-zh", "school-math-zh", "text2sql-en",
    "sql-create-context-en", "advertise-gen-zh", "dureader-robust-zh", "cmnli-zh", "jd-sentiment-zh", "finance-en",
    "poetry-zh", "cls-fudan-news-zh", "ner-jave-zh", "coco-en", "alpaca-gpt4-data-en", "ruozhiba",
    "codefuse-python-en", "codefuse-evol-instruction-zh", "hh-rlhf", "shareai-llama3-dpo-zh-en-emoji",
    "ultrafeedback-kto", "stack-exchange-paired", "lmsys-chat-1m", "self-cognition",
]
# Datasets known on both hubs (the others are ModelScope-only: hf_dataset_id is None, not invented).
BOTH_HUBS = ["alpaca-en", "alpaca-zh", "multi-alpaca", "firefly-zh", "code-alpaca-en", "lawyer-llama-zh",
             "tigerbot-law-zh", "blossom-math-zh", "school-math-zh", "text2sql-en", "sql-create-context-en",
             "advertise-gen-zh", "cmnli-zh", "finance-en", "hh-rlhf", "ultrafeedback-kto", "lmsys-chat-1m"]


def test_registry_entries():
    for name in REQUIRED:
        assert name in DATASET_MAPPING, name
    for name, meta in DATASET_MAPPING.items():
        assert meta.name == name
        assert meta.ms_dataset_id or meta.hf_dataset_id or meta.dataset_path
        assert meta.split and meta.subsets and isinstance(meta.tags, list)
        for hub_id in (meta.ms_dataset_id, meta.hf_dataset_id):
            assert hub_id is None or (hub_id.count("/") <= 1 and " " not in hub_id)
    for name in BOTH_HUBS:
        assert DATASET_MAPPING[name].ms_dataset_id and DATASET_MAPPING[name].hf_dataset_id, name
    assert DATASET_MAPPING[DatasetName.alpaca_en].ms_dataset_id == "AI-ModelScope/alpaca-gpt4-data-en"
    assert DATASET_MAPPING[DatasetName.alpaca_en].hf_dataset_id == "vicgalle/alpaca-gpt4"


def test_register_twice_needs_exist_ok():
    meta = DatasetMeta(name="alpaca-en", hf_dataset_id="x/y")
    with pytest.raises(SartorError, match="already registered"):
        register_dataset(meta)
    with pytest.raises(SartorError):
        DatasetMeta(name="nothing")


@pytest.fixture
def fake_hub(monkeypatch):
    calls = []

    def fake(dataset_id, subset, split, *, token, streaming, num_proc):
        calls.append((dataset_id, subset, split, token, streaming))
        rows = [{"instruction": f"{dataset_id}/{subset}/{split}/{i}", "input": "", "output": "o"} for i in range(4)]
        data = datasets.Dataset.from_list(rows)
        return data.to_iterable_dataset() if streaming else data

    monkeypatch.setattr(hub, "load_from_hf", fake)
    monkeypatch.setattr(hub, "load_from_modelscope", fake)
    return calls


def test_hub_id_loads_through_the_hub_loader(fake_hub):
    train, _ = load_dataset(["someone/some-data:a/b#5"], hub_token="tok")
    assert fake_hub == [("someone/some-data", "a", "train", "tok", False), ("someone/some-data", "b", "train", "tok", False)]
    assert len(train) == 5


def test_registered_name_picks_the_hub(fake_hub):
    load_dataset(["alpaca-en#2"])
    load_dataset(["alpaca-en#2"], use_hf=False)
    load_dataset(["cot-en#2"])  # ModelScope only: loads there even with use_hf
    assert [c[0] for c in fake_hub] == ["vicgalle/alpaca-gpt4", "AI-ModelScope/alpaca-gpt4-data-en", "YorickHe/CoT"]
    fake_hub.clear()
    load_dataset(["medical-zh"])
    assert {(c[1], c[2]) for c in fake_hub} == {("zh", "train"), ("zh", "val"), ("zh", "test")}


def test_registered_hub_id_uses_registered_preprocessing(fake_hub, monkeypatch):
    def fake(dataset_id, subset, split, **kwargs):
        return datasets.Dataset.from_list([{"question": "q", "response_j": "good", "response_k": "bad"}])

    monkeypatch.setattr(hub, "load_from_hf", fake)
    train, _ = load_dataset(["lvwerra/stack-exchange-paired"])
    assert decode_row(train[0])["rejected_response"] == "bad"


def test_hub_errors_and_missing_modelscope(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(hub, "load_from_hf", broken)
    with pytest.raises(SartorError, match="owner/data.*no network"):
        load_dataset(["owner/data"])
    import builtins

    real_import = builtins.__import__

    def no_modelscope(name, *args, **kwargs):
        if name == "modelscope":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_modelscope)
    with pytest.raises(SartorError, match=r"pip install 'sartor\[modelscope\]'"):
        hub.load_from_modelscope("owner/data", None, "train", token=None, streaming=False, num_proc=1)


def test_custom_dataset_info(tmp_path, monkeypatch):
    """A JSON list (or dict name -> entry) of {name, ms_dataset_id, hf_dataset_id, dataset_path, columns, subsets}."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "qa.jsonl").write_text(json.dumps({"q": "question", "a": "answer"}) + "\n")
    info = [
        {"name": "my-qa", "dataset_path": "data/qa.jsonl", "columns": {"q": "query", "a": "response"}},
        {"name": "my-hub", "hf_dataset_id": "me/hub-data", "subsets": ["x"]},
    ]
    (tmp_path / "info.json").write_text(json.dumps(info))
    (tmp_path / "info2.json").write_text(json.dumps({"my-qa-2": {"dataset_path": ["data/qa.jsonl"]}}))
    monkeypatch.chdir(tmp_path.parent)
    try:
        train, _ = load_dataset(["my-qa#3"], custom_dataset_info=[str(tmp_path / "info.json")])
        assert len(train) == 3
        assert decode_row(train[0])["messages"][0] == {"role": "user", "content": "question"}
        assert DATASET_MAPPING["my-hub"].subsets == ["x"] and DATASET_MAPPING["my-hub"].ms_dataset_id is None
        from sartor.dataset import register_dataset_info

        register_dataset_info(str(tmp_path / "info2.json"))
        assert DATASET_MAPPING["my-qa-2"].dataset_path == [str(tmp_path / "data" / "qa.jsonl")]
        (tmp_path / "bad.json").write_text(json.dumps([{"name": "nothing-here"}]))
        with pytest.raises(SartorError, match="nothing-here"):
            register_dataset_info(str(tmp_path / "bad.json"))
    finally:
        for name in ("my-qa", "my-hub", "my-qa-2"):
            DATASET_MAPPING.pop(name, None)


def test_self_cognition_fills_zh_and_en():
    train, _ = load_dataset(["self-cognition"], model_name=["小黄", "Xiao Huang"], model_author=["魔搭", "ModelScope"])
    assert len(train) >= 90
    rows = [decode_row(r)["messages"] for r in train]
    text = json.dumps(rows, ensure_ascii=False)
    assert "{{" not in text
    who = {m[1]["content"] for m in rows if m[0]["content"] in ("who are you?", "Who are you?")}
    assert len(who) == 1 and "Xiao Huang" in who.pop() and "ModelScope" in text
    zh = [m[1]["content"] for m in rows if m[0]["content"] == "你是谁？"]
    assert zh and "小黄" in zh[0] and "魔搭" in zh[0] and "Xiao Huang" not in zh[0]


@pytest.mark.parametrize(
    "name, author, zh, en",
    [
        (["小黄 Xiao Huang"], ["魔搭 ModelScope"], "小黄", "Xiao Huang"),
        ("Sartor", "Acme", "Sartor", "Sartor"),
        (["Sartor Bot"], ["Acme"], "Sartor Bot", "Sartor Bot"),
    ],
)
def test_self_cognition_name_forms(name, author, zh, en):
    train, _ = load_dataset(["self-cognition#200"], model_name=name, model_author=author)
    assert len(train) == 200
    rows = [decode_row(r)["messages"] for r in train]
    assert any(zh in m[1]["content"] for m in rows if any("\u4e00" <= c <= "\u9fff" for c in m[0]["content"]))
    assert any(en in m[1]["content"] for m in rows if m[0]["content"] == "Who are you?")


def test_self_cognition_needs_name_and_author():
    with pytest.raises(SartorError, match="--model_name and --model_author"):
        load_dataset(["self-cognition#5"], model_name=["x"])
