"""Several LoRA adapters in one engine; incremental detokenizing; stop strings; tool calls in streams."""
import copy
import functools
import threading

import pytest
import torch

from sartor.deploy.tools import ToolStream, parse
from sartor.infer.detokenize import IncrementalDetokenizer, StopStringFilter
from sartor.infer.engine import PtEngine, RequestConfig
from sartor.model.tiny import build_tiny_model, get_tiny_tokenizer
from sartor.template import get_template

CFG = RequestConfig(max_new_tokens=10, temperature=0, presence_penalty=2.0)


@functools.lru_cache(maxsize=1)
def _base_model():
    return build_tiny_model()[0]


def make_adapter(path, seed: int) -> str:
    from peft import LoraConfig, get_peft_model

    model = copy.deepcopy(_base_model())
    torch.manual_seed(seed)
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"],
                                                  init_lora_weights=False))
    peft_model.save_pretrained(str(path))
    return str(path)


@pytest.fixture(scope="module")
def adapter_engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    paths = {"a": make_adapter(root / "a", 1), "b": make_adapter(root / "b", 2)}
    model, tok = build_tiny_model()
    model.eval()
    eng = PtEngine(model, tok, get_template("chatml", tok))
    for name, path in paths.items():
        eng.add_adapter(name, path)
    yield eng, paths
    eng.close()


def test_each_adapter_answers_as_itself_alone_or_mixed_with_others(adapter_engine):
    from peft import PeftModel

    eng, paths = adapter_engine
    msgs = [{"role": "user", "content": "who are you?"}]
    names = [None, "a", "b", "a", None, "b"]
    alone = {n: eng.infer([msgs], CFG, adapter=n)[0].token_ids for n in (None, "a", "b")}
    assert len({tuple(v) for v in alone.values()}) == 3  # the adapters change the answer

    results: list = [None] * len(names)

    def ask(i, name):
        results[i] = eng.infer([msgs], CFG, adapter=name)[0].token_ids

    threads = [threading.Thread(target=ask, args=(i, n)) for i, n in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [alone[n] for n in names]

    # the reference: a fresh model with only adapter a, through transformers' generate
    base, _ = build_tiny_model()
    ref_model = PeftModel.from_pretrained(base, paths["a"]).eval()
    ref_engine = PtEngine(ref_model, eng.tokenizer, eng.template)
    try:
        assert ref_engine.infer([msgs], CFG)[0].token_ids == alone["a"]
    finally:
        ref_engine.close()


def test_unknown_adapter_is_a_clear_error(adapter_engine):
    eng, _ = adapter_engine
    with pytest.raises(Exception, match="no adapter named"):
        eng.infer([[{"role": "user", "content": "hi"}]], CFG, adapter="zzz")


def test_incremental_detokenizer_matches_full_decode():
    tok = get_tiny_tokenizer()
    text = "Grüße, 世界! naïve café — ok 🙂 done"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    detok = IncrementalDetokenizer(tok, tok("prefix", add_special_tokens=False)["input_ids"])
    pieces = [detok.add(t) for t in ids] + [detok.flush()]
    assert "".join(pieces) == tok.decode(ids)
    assert not any("\ufffd" in p for p in pieces)


@pytest.mark.parametrize("pieces,stops,expected", [
    (["Hello", " wor", "ld STO", "P more"], ["STOP"], "Hello world "),
    (["ab", "c"], ["abc"], ""),
    (["no stop ", "here"], ["zz"], "no stop here"),
    (["a<", "|e", "nd|>b"], ["<|end|>"], "a"),
])
def test_stop_string_filter_never_leaks_the_stop(pieces, stops, expected):
    f = StopStringFilter(stops)
    out = "".join(f.push(p) for p in pieces) + f.finish()
    assert out == expected


def test_tool_calls_are_parsed_and_held_out_of_streamed_content():
    tok = get_tiny_tokenizer()
    template = get_template("qwen2.5", tok)
    reply = 'Let me check.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    content, calls = parse(template, reply)
    assert content == "Let me check."
    assert calls[0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert calls[0]["id"].startswith("call_") and calls[0]["type"] == "function"
    stream = ToolStream()
    sent = "".join(stream.push(reply[i:i + 3]) for i in range(0, len(reply), 3))
    assert sent == "Let me check."
    plain = ToolStream()
    assert "".join(plain.push(p) for p in ["Just ", "text <", "b>"]) + plain.rest() == "Just text <b>"
    assert parse(template, "no calls here") == ("no calls here", [])
