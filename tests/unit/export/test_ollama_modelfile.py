"""The Modelfile's Go template renders exactly what our template renders, as Ollama would run it."""
import json

import pytest

from sartor.export.ollama import (OllamaTemplateError, build_modelfile, generation_parameters, go_template,
                                  pieces_meta, write_modelfile)
from sartor.export.ollama_render import ollama_values, render_go_template
from sartor.template import TEMPLATE_MAPPING, TemplateError, get_template

REQUIRED = ["chatml", "qwen", "qwen2.5", "qwen3", "llama2", "llama3", "llama3.1", "mistral", "gemma", "gemma3",
            "phi3", "deepseek", "yi", "internlm2", "zephyr", "vicuna", "alpaca", "default"]
UNTRANSLATABLE = {"chatglm2", "llama3.2"}  # round numbers; today's date

CONVERSATIONS = {
    "single": [{"role": "user", "content": "Hello, who are you?"}],
    "multi": [{"role": "user", "content": "What is 1 + 1?"}, {"role": "assistant", "content": "It is 2."},
              {"role": "user", "content": "And 2 + 2?"}, {"role": "assistant", "content": "4, of course."},
              {"role": "user", "content": "Thanks! 你好 {{ not a template }}"}],
    "system": [{"role": "system", "content": "You are a pirate.\nSpeak like one."},
               {"role": "user", "content": "Where is the treasure?"}],
    "system-multi": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                     {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}],
}


class FakeTokenizer:
    """Just what templates and the BOS check read from a tokenizer."""

    def __init__(self, adds_bos: bool, bos: str = "<s>", eos: str = "</s>") -> None:
        self.bos_token, self.eos_token, self.bos_token_id, self.adds_bos = bos, eos, 1, adds_bos
        self.chat_template = None

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": ([1] if self.adds_bos and add_special_tokens else []) + [7, 8]}


def ollama_prompt(template, messages, runtime_bos: bool) -> str:
    """What Ollama feeds the model: its runtime BOS (where the tokenizer adds one) + the Modelfile template."""
    source = go_template(template, runtime_bos=runtime_bos)
    text = render_go_template(source, ollama_values(messages, template.default_system))
    bos = template.special["BOS"]
    expected_starts_with_bos = template.render(messages, add_generation_prompt=True).startswith(bos)
    return (bos if runtime_bos and expected_starts_with_bos else "") + text


def translatable():
    return [name for name in TEMPLATE_MAPPING if name not in UNTRANSLATABLE]


def test_every_builtin_template_translates_but_the_known_few():
    assert set(REQUIRED) <= set(translatable())
    for name in UNTRANSLATABLE:
        with pytest.raises(OllamaTemplateError):
            go_template(get_template(name, FakeTokenizer(False)))


@pytest.mark.parametrize("adds_bos", [False, True], ids=["no-bos", "tokenizer-adds-bos"])
@pytest.mark.parametrize("name", translatable())
def test_ollama_prompt_equals_template_render(name, adds_bos):
    template = get_template(name, FakeTokenizer(adds_bos))
    checked = 0
    for key, messages in CONVERSATIONS.items():
        try:
            expected = template.render(messages, add_generation_prompt=True)
        except TemplateError:
            assert key.startswith("system") and not pieces_meta(template).supports_system
            continue
        assert ollama_prompt(template, messages, adds_bos) == expected, key
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("name", ["chatml", "qwen2.5", "llama3", "phi3", "gemma"])
def test_trailing_assistant_message_is_left_open_for_the_reply(name):
    template = get_template(name, FakeTokenizer(False))
    start = [{"role": "user", "content": "Count to three."}]
    prefill = start + [{"role": "assistant", "content": "One, two"}]
    got = ollama_prompt(template, prefill, False)
    assert got == template.render(start, add_generation_prompt=True) + "One, two"


def test_a_custom_default_system_goes_to_the_modelfile_system():
    template = get_template("llama3", FakeTokenizer(True, "<|begin_of_text|>", "<|end_of_text|>"),
                            default_system="You are Sartor.")
    messages = CONVERSATIONS["multi"]
    assert ollama_prompt(template, messages, True) == template.render(messages, add_generation_prompt=True)
    parsed = parse_modelfile(build_modelfile(template, "."))
    assert parsed["system"] == ["You are Sartor."]


def parse_modelfile(text: str) -> dict:
    """Ollama's Modelfile parser (parser/parser.go), reduced to FROM/TEMPLATE/SYSTEM/PARAMETER: values end
    at a line break once they unquote ('\"\"\"...\"\"\"' or '\"...\"'), so quoting decides what survives."""
    def unquote(s):
        if s.startswith('"""'):
            return (s[3:-3], True) if len(s) >= 6 and s.endswith('"""') else ("", False)
        if s.startswith('"'):
            return (s[1:-1], True) if len(s) >= 2 and s.endswith('"') else ("", False)
        return s, True

    out: dict = {}
    state, buf, name = "nil", "", ""
    for ch in text + "\n":
        if state == "nil":
            if ch.isspace():
                continue
            state, buf = ("comment", "") if ch == "#" else ("name", ch)
        elif state == "comment":
            state = "nil" if ch == "\n" else "comment"
        elif state in ("name", "param"):
            if ch in " \t":
                word = buf.lower()
                if state == "name" and word == "parameter":
                    state, buf = "param", ""
                else:
                    name, state, buf = ("model" if word == "from" else (word if state == "name" else buf)), "value", ""
            else:
                buf += ch
        elif state == "value":
            if ch in "\r\n":
                value, ok = unquote(buf.strip())
                if ok:
                    out.setdefault(name, []).append(value)
                    state, buf = "nil", ""
                    continue
            buf += ch
    assert state == "nil", f"unterminated value: {buf!r}"
    return out


@pytest.mark.parametrize("name", ["chatml", "qwen2.5", "llama3", "mistral", "gemma", "phi3", "deepseek", "alpaca"])
def test_modelfile_parses_back_to_the_template_stops_and_system(name, tmp_path):
    template = get_template(name, FakeTokenizer(False))
    (tmp_path / "generation_config.json").write_text(json.dumps(
        {"do_sample": True, "temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05}))
    path = write_modelfile(template, str(tmp_path), str(tmp_path))
    parsed = parse_modelfile(open(path, encoding="utf-8").read())
    assert parsed["model"] == ["."]
    assert parsed["template"] == [go_template(template)]
    assert parsed["stop"] == template.stop_words and parsed["stop"]
    assert parsed.get("system") == ([template.default_system] if template.default_system else None)
    assert parsed["temperature"] == ["0.7"] and parsed["top_p"] == ["0.8"] and parsed["top_k"] == ["20"]
    assert parsed["repeat_penalty"] == ["1.05"]


def test_modelfile_points_at_weights_elsewhere_and_greedy_configs(tmp_path):
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "generation_config.json").write_text(json.dumps({"do_sample": False, "temperature": 0.7}))
    path = write_modelfile(get_template("chatml", FakeTokenizer(False)), str(tmp_path / "out"), str(weights))
    parsed = parse_modelfile(open(path, encoding="utf-8").read())
    assert parsed["model"] == [str(weights.resolve())]
    assert parsed["temperature"] == ["0"]
    assert generation_parameters(str(tmp_path)) == {}


def test_multiline_stop_words_survive_quoting():
    template = get_template("default", FakeTokenizer(False))   # stop word "\n\n### Human:"
    parsed = parse_modelfile(build_modelfile(template, "."))
    assert "\n\n### Human:" in parsed["stop"]


def test_export_writes_a_modelfile_for_a_model_folder(tiny_dir, tmp_path, capsys):
    from sartor.arguments import ExportArguments
    from sartor.export.export_main import export_main
    from sartor.model.loader import load_tokenizer

    result = export_main(ExportArguments(model="tiny", to_ollama=True, output_dir=str(tmp_path / "ollama")))
    assert f"ollama_modelfile: {result['modelfile']}" in capsys.readouterr().out
    parsed = parse_modelfile(open(result["modelfile"], encoding="utf-8").read())
    template = get_template("chatml", load_tokenizer(tiny_dir))   # the tiny model's registered template
    assert parsed["model"] == [str(__import__("pathlib").Path(tiny_dir).resolve())]
    assert parsed["template"] == [go_template(template)] and parsed["stop"] == template.stop_words
