"""The `jinja` template renders like transformers and finds the same labels as the built-in templates."""
import pytest

from _template_conversations import CONVERSATIONS, MULTI_CALL, TOOL_CONVERSATIONS, TOOLS
from _template_helpers import FIXTURES, official_template, reference_render, tokenizer_for
from sartor.template import TemplateError, get_template
from test_fixtures import FIXTURE_OF, MULTI_CALL_TEMPLATES, SKIP, TOOL_TEMPLATES

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/fixtures/chat_templates is absent")

JINJA_CASES = [n for n in FIXTURE_OF if n != "llama3.2"]  # 3.2 differs from 3.1 only by today's date


def _pairs(name):
    chat_template = official_template(FIXTURE_OF[name])
    builtin = get_template(name, tokenizer_for(name))
    jinja = get_template("jinja", tokenizer_for(name, chat_template))
    return builtin, jinja


def _conversations(name):
    for conv, messages in CONVERSATIONS.items():
        if conv not in SKIP.get(name, ()) and not conv.startswith("prompt"):
            yield conv, messages, None
    if name in TOOL_TEMPLATES:
        for conv, messages in TOOL_CONVERSATIONS.items():
            yield conv, messages, TOOLS
        if name in MULTI_CALL_TEMPLATES:
            yield "multi_call", MULTI_CALL, TOOLS


@pytest.mark.parametrize("name", JINJA_CASES)
def test_jinja_labels_equal_builtin_labels(name):
    builtin, jinja = _pairs(name)
    checked = 0
    for conv, messages, tools in _conversations(name):
        row = {"messages": messages, "tools": tools}
        try:
            expected = builtin.encode(row)
        except TemplateError:
            with pytest.raises(TemplateError):
                jinja.encode(row)
            continue
        got = jinja.encode(row)
        assert got["input_ids"] == expected["input_ids"], conv
        assert got["labels"] == expected["labels"], conv
        checked += 1
    assert checked


@pytest.mark.parametrize("name", ["chatml", "qwen2.5", "llama3.1", "gemma"])
def test_jinja_render_is_transformers_render(name):
    _, jinja = _pairs(name)
    tok = jinja.tokenizer
    for conv, messages, tools in _conversations(name):
        for agp in (False, True):
            if name == "gemma" and messages[0]["role"] == "system":
                continue  # Gemma's template refuses a system message
            expected = tok.apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=agp)
            assert jinja.render(messages, tools, add_generation_prompt=agp) == expected
            assert jinja.render(messages, tools, agp) == reference_render(
                jinja.chat_template, messages, tools, agp, bos_token=tok.bos_token, eos_token=tok.eos_token)


def test_jinja_stop_words_and_prompt():
    _, jinja = _pairs("llama3")
    assert jinja.stop_words[0] == "<|eot_id|>"
    ids = jinja.encode_prompt([{"role": "user", "content": "Hi"}])
    assert jinja.tokenizer.decode(ids).endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_jinja_qwen3_drops_history_reasoning():
    """Qwen3's template rewrites earlier turns; labels fall back to finding contents in order."""
    tok = tokenizer_for("qwen3", official_template("qwen3.jinja"))
    jinja, builtin = get_template("jinja", tok), get_template("qwen3", tokenizer_for("qwen3"))
    messages = [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
        {"role": "user", "content": "3+3?"},
        {"role": "assistant", "content": "<think>\nadd again\n</think>\n\n6"},
    ]
    assert jinja.render(messages) == builtin.render(messages)
    got, expected = jinja.encode({"messages": messages}), builtin.encode({"messages": messages})
    assert got["labels"] == expected["labels"]
    labelled = tok.decode([t for t in got["labels"] if t != -100])
    assert labelled == "4<|im_end|><think>\nadd again\n</think>\n\n6<|im_end|>"


def test_jinja_needs_a_chat_template():
    with pytest.raises(TemplateError, match="chat_template"):
        get_template("jinja", tokenizer_for("chatml"))


def test_jinja_default_system_is_injected():
    tok = tokenizer_for("chatml", official_template(6))
    jinja = get_template("jinja", tok, default_system="Be brief.")
    text = jinja.render([{"role": "user", "content": "Hi"}])
    assert text.startswith("<|im_start|>system\nBe brief.<|im_end|>\n")
    builtin = get_template("chatml", tokenizer_for("chatml"), default_system="Be brief.")
    flagged = [dict(m) for m in CONVERSATIONS["multi"]]
    flagged[1]["loss"] = False
    row = {"messages": flagged}
    assert jinja.encode(row) == builtin.encode(row)
    assert jinja.render(flagged) == builtin.render(flagged)
