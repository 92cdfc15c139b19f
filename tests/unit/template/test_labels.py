"""encode(): ids equal the tokenised rendering; labels cover assistant contents and end-of-turn tokens."""
import pytest

from _template_conversations import CONVERSATIONS, MULTI_CALL, TOOL_CONVERSATIONS, TOOLS
from _template_helpers import label_text, make_tokenizer, tokenizer_for
from sartor.template import TEMPLATE_MAPPING, TemplateError, get_template

IGNORE = -100
MULTI = CONVERSATIONS["multi"]
UNICODE = CONVERSATIONS["unicode"]

# template -> (text before each labelled content, text after it): labels decode to lead+content+tail
LABELLED = {
    "chatml": ("", "<|im_end|>"), "qwen": ("", "<|im_end|>"), "qwen2.5": ("", "<|im_end|>"),
    "qwen3": ("", "<|im_end|>"), "internlm2": ("", "<|im_end|>"), "phi4": ("", "<|im_end|>"),
    "llama3": ("", "<|eot_id|>"), "llama3.1": ("", "<|eot_id|>"), "llama2": (" ", " </s>"),
    "mistral": ("", "</s>"), "gemma": ("", "<end_of_turn>"), "gemma3": ("", "<end_of_turn>"),
    "phi3": ("", "<|end|>"), "zephyr": ("", "</s>"), "deepseek": (" ", "<｜end▁of▁sentence｜>"),
    "deepseek-r1": ("", "<｜end▁of▁sentence｜>"), "command-r": ("", "<|END_OF_TURN_TOKEN|>"),
    "openchat": (" ", "<|end_of_turn|>"), "starcoder2": ("", "<|endoftext|>"), "vicuna": (" ", "</s>"),
    "baichuan2": ("", "</s>"), "internlm": ("", "<eoa>"), "deepseek-coder": ("", "\n<|EOT|>"),
    "falcon": (" ", ""), "granite": ("", ""), "solar": ("", ""), "chatqa": (" ", ""), "xverse": (" ", "<|endoftext|>"),
}
# official formats with no end-of-turn token: the final answer trains its closing text and the tokenizer's EOS
FINAL_TAIL = {"falcon": "<|endoftext|>", "granite": "\n\n<|endoftext|>", "solar": "</s>",
              "chatqa": "\n\n<|end_of_text|>"}


def _expected_labels(lead, tail, messages, strip):
    return "".join(lead + (m["content"].strip() if strip else m["content"]) + tail
                   for m in messages if m["role"] == "assistant")


@pytest.mark.parametrize("name", sorted(LABELLED))
@pytest.mark.parametrize("conv", ["multi", "unicode"])
def test_labels_decode_to_contents_and_end_of_turn(name, conv):
    tok = tokenizer_for(name)
    template = get_template(name, tok)
    messages = CONVERSATIONS[conv]
    row = template.encode({"messages": messages})
    lead, tail = LABELLED[name]
    expected = _expected_labels(lead, tail, messages, TEMPLATE_MAPPING[name].strip_content)
    assert TEMPLATE_MAPPING[name].train_eos == (name in FINAL_TAIL)
    expected += FINAL_TAIL.get(name, "")
    if name == "qwen3":  # the last turn gets the (empty) thinking block, as in the official template
        last = messages[-1]["content"]
        expected = expected[: -len(last + tail)] + "<think>\n\n</think>\n\n" + last + tail
    assert label_text(tok, row) == expected


@pytest.mark.parametrize("name", sorted(TEMPLATE_MAPPING))
def test_ids_are_the_tokenised_rendering(name):
    tok = tokenizer_for(name)
    template = get_template(name, tok)
    messages = MULTI
    row = template.encode({"messages": messages})
    text = template.render(messages)
    if TEMPLATE_MAPPING[name].train_eos:  # training appends EOS to the official rendering of a finished answer
        text += tok.eos_token
    assert row["input_ids"] == tok(text, add_special_tokens=False)["input_ids"]
    assert row["length"] == len(row["input_ids"]) == len(row["labels"])
    assert any(t != IGNORE for t in row["labels"])
    # every labelled token lies in an assistant span, and decoding them gives the spans' text
    rendered = template.render_spans(messages)
    assert len(rendered.spans) == 2
    spans = [(s, e) for s, e, _ in rendered.spans]
    if TEMPLATE_MAPPING[name].train_eos:  # the final answer's span runs on to the appended EOS
        spans[-1] = (spans[-1][0], len(text))
    assert label_text(tok, row) == "".join(text[s:e] for s, e in spans)
    prompt_ids = template.encode_prompt(messages[:-1])
    assert prompt_ids == tok(template.render(messages[:-1], add_generation_prompt=True),
                             add_special_tokens=False)["input_ids"]
    assert template.stop_words and all(isinstance(w, str) and w for w in template.stop_words)


@pytest.mark.parametrize("name,conv", [("qwen2.5", "tool_single"), ("qwen3", "tool_single"),
                                       ("llama3.1", "tool_single"), ("qwen2.5", "multi_call")])
def test_tool_call_text_is_labelled(name, conv):
    tok = tokenizer_for(name)
    template = get_template(name, tok)
    messages = MULTI_CALL if conv == "multi_call" else TOOL_CONVERSATIONS[conv]
    row = template.encode({"messages": messages, "tools": TOOLS})
    labels = label_text(tok, row)
    assert '"get_weather"' in labels and "Paris" in labels
    assert "<tool_response>" not in labels and "21 degrees\n" not in labels


def test_loss_scales_and_message_flags():
    tok = tokenizer_for("chatml")
    last = get_template("chatml", tok, loss_scale="last_round").encode({"messages": MULTI})
    assert label_text(tok, last) == MULTI[3]["content"] + "<|im_end|>"
    every = get_template("chatml", tok, loss_scale="all").encode({"messages": MULTI})
    assert every["labels"] == every["input_ids"]
    flagged = [dict(MULTI[0]), dict(MULTI[1], loss=False), dict(MULTI[2]), dict(MULTI[3])]
    row = get_template("chatml", tok).encode({"messages": flagged})
    assert label_text(tok, row) == MULTI[3]["content"] + "<|im_end|>"
    forced = [dict(MULTI[0]), dict(MULTI[1], loss=True), dict(MULTI[2]), dict(MULTI[3])]
    row = get_template("chatml", tok, loss_scale="last_round").encode({"messages": forced})
    assert label_text(tok, row) == MULTI[1]["content"] + "<|im_end|>" + MULTI[3]["content"] + "<|im_end|>"


def test_row_without_assistant_has_no_labels():
    tok = tokenizer_for("chatml")
    row = get_template("chatml", tok).encode({"messages": [{"role": "user", "content": "Hi"}]})
    assert row["length"] > 0 and all(t == IGNORE for t in row["labels"])


def test_truncation():
    tok = tokenizer_for("chatml")
    full = get_template("chatml", tok).encode({"messages": MULTI})
    n = full["length"] - 5
    assert get_template("chatml", tok, max_length=n).encode({"messages": MULTI}) is None
    left = get_template("chatml", tok, max_length=n, truncation_strategy="left").encode({"messages": MULTI})
    assert left["input_ids"] == full["input_ids"][-n:] and left["labels"] == full["labels"][-n:]
    assert left["length"] == n
    right = get_template("chatml", tok, max_length=n, truncation_strategy="right").encode({"messages": MULTI})
    assert right["input_ids"] == full["input_ids"][:n] and right["labels"] == full["labels"][:n]
    same = get_template("chatml", tok, max_length=full["length"]).encode({"messages": MULTI})
    assert same == full


def test_string_tool_arguments_render_like_dicts():
    template = get_template("qwen2.5", tokenizer_for("qwen2.5"))
    messages = TOOL_CONVERSATIONS["tool_single"]
    as_string = [dict(m) for m in messages]
    as_string[1] = dict(messages[1], tool_calls=[{"type": "function", "function": {
        "name": "get_weather", "arguments": '{"city": "Paris"}'}}])
    assert template.render(as_string, TOOLS) == template.render(messages, TOOLS)


def test_parse_tool_calls():
    qwen = get_template("qwen2.5", tokenizer_for("qwen2.5"))
    text = 'Sure.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "巴黎"}}\n</tool_call>'
    calls = qwen.parse_tool_calls(text)
    assert calls == [{"type": "function", "function": {"name": "get_weather", "arguments": '{"city": "巴黎"}'}}]
    llama = get_template("llama3.1", tokenizer_for("llama3.1"))
    calls = llama.parse_tool_calls('{"name": "get_time", "parameters": {"tz": "UTC"}}<|eot_id|>')
    assert calls[0]["function"]["name"] == "get_time"
    assert llama.parse_tool_calls("just text") == []
    with pytest.raises(TemplateError):
        get_template("chatml", tokenizer_for("chatml")).parse_tool_calls(text)


@pytest.mark.parametrize("row,match", [
    ({"messages": [{"role": "robot", "content": "x"}]}, "unknown role"),
    ({"messages": []}, "non-empty"),
    ({"nope": 1}, "messages"),
    ({"messages": [{"role": "user", "content": 3}]}, "string"),
    ({"messages": [{"role": "user", "content": "q", "tool_calls": [{"function": {"name": "f"}}]}]}, "assistant"),
])
def test_malformed_rows_raise_template_error(row, match):
    with pytest.raises(TemplateError, match=match):
        get_template("chatml", tokenizer_for("chatml")).encode(row)


@pytest.mark.parametrize("name,messages,match", [
    ("llama2", [{"role": "assistant", "content": "a"}], "alternate"),
    ("gemma", [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}], "system"),
    ("mistral", [{"role": "user", "content": "q"}, {"role": "user", "content": "q"}], "alternate"),
    ("chatml", [{"role": "user", "content": "q"}], None),
    ("llama3", [{"role": "user", "content": "q"}, {"role": "system", "content": "s"}], "first"),
    ("chatml", [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": {}}}]}], "tool"),
    ("llama3.1", [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "f", "arguments": {}}}, {"function": {"name": "g", "arguments": {}}}]}], "one tool"),
])
def test_template_errors(name, messages, match):
    template = get_template(name, tokenizer_for(name))
    if match is None:
        template.encode({"messages": messages})
        return
    with pytest.raises(TemplateError, match=match):
        template.encode({"messages": messages})


def test_options_are_checked():
    tok = tokenizer_for("chatml")
    with pytest.raises(TemplateError, match="unknown template 'qwen25'.*qwen2.5"):
        get_template("qwen25", tok)
    with pytest.raises(TemplateError, match="loss_scale"):
        get_template("chatml", tok, loss_scale="most")
    with pytest.raises(TemplateError, match="truncation_strategy"):
        get_template("chatml", tok, truncation_strategy="middle")
    with pytest.raises(TemplateError, match="system"):
        get_template("gemma", tokenizer_for("gemma"), default_system="Be brief.")
    with pytest.raises(TemplateError, match="eos_token"):
        get_template("llama2", make_tokenizer(bos="<s>", eos=None))
    assert issubclass(TemplateError, ValueError)


def test_tiny_tokenizer_chatml_and_jinja_agree():
    tiny = pytest.importorskip("sartor.model.tiny")
    tok = tiny.get_tiny_tokenizer()
    builtin, jinja = get_template("chatml", tok), get_template("jinja", tok)
    for messages in (MULTI, UNICODE, CONVERSATIONS["system_multi"]):
        assert jinja.render(messages) == builtin.render(messages)
        assert jinja.encode({"messages": messages}) == builtin.encode({"messages": messages})
    assert label_text(tok, builtin.encode({"messages": UNICODE})) == UNICODE[1]["content"] + "<|im_end|>"


def test_templates_pickle():
    import pickle

    for name in ("qwen2.5", "llama3.1", "jinja"):
        chat_template = "{% for m in messages %}{{ m['role'] + ': ' + m['content'] + eos_token }}{% endfor %}"
        template = get_template(name, tokenizer_for(name, chat_template))
        clone = pickle.loads(pickle.dumps(template))
        assert clone.encode({"messages": MULTI}) == template.encode({"messages": MULTI})
