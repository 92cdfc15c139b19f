"""Every shared sample file loads as a user passes it and encodes with a real template:
labels are exactly the assistant answers plus their end-of-turn token."""
from pathlib import Path

import pytest

from sartor.dataset import load_dataset
from sartor.dataset.canonical import decode_row
from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import get_template

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"
FILES = ["alpaca_en_demo.json", "identity.json", "dpo_en_demo.json", "glaive_toolcall_en_demo.json",
         "kto_en_demo.json", "mllm_demo.json", "c4_demo.jsonl"]


@pytest.mark.parametrize("name", FILES)
def test_file_loads_and_encodes(name):
    if not (SHARED / name).is_file():
        pytest.skip("shared datasets not present")
    tok = get_tiny_tokenizer()
    template = get_template("qwen2.5", tok, max_length=100_000)
    rows, _ = load_dataset([str(SHARED / name)], split_dataset_ratio=0.0, strict=True)
    assert len(rows) > 0
    for row in [decode_row(r) for r in rows.select(range(min(20, len(rows))))]:
        enc = template.encode(row)
        assert enc is not None and len(enc["input_ids"]) == len(enc["labels"])
        trained = tok.decode([t for t in enc["labels"] if t != -100])
        answers = [m["content"] for m in row["messages"] if m["role"] == "assistant"]
        assert trained.count("<|im_end|>") == len(answers)
        for a in answers:
            assert a.strip() in trained
