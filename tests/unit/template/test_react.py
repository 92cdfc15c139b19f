"""--tools_prompt react_en|react_zh: tools for any template in the ReAct format, trained and parsed back."""
import json

import pytest

from _template_helpers import label_text, tokenizer_for
from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import TemplateError, get_template

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city.",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
CALL = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
CONVERSATION = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "Thought: I should look it up.", "tool_calls": [CALL]},
    {"role": "tool", "content": '{"temp": 21}'},
    {"role": "assistant", "content": "Final Answer: 21 degrees."},
]


def test_a_template_without_tools_gets_them_in_react():
    tok = tokenizer_for("zephyr")
    with pytest.raises(TemplateError, match="tool"):
        get_template("zephyr", tok).render(CONVERSATION, TOOLS)
    template = get_template("zephyr", tok, tools_prompt="react_en")
    text = template.render(CONVERSATION, TOOLS)
    assert text.index("get_weather: Weather of a city.") < text.index("Weather in Paris?")  # in the system turn
    assert 'Action: get_weather\nAction Input: {"city": "Paris"}' in text
    assert 'Observation: {"temp": 21}' in text
    labels = label_text(tok, template.encode({"messages": CONVERSATION, "tools": TOOLS}))
    assert labels.startswith("Thought: I should look it up.\nAction: get_weather\nAction Input:")
    assert "Final Answer: 21 degrees." in labels
    assert "Observation" not in labels and "Weather in Paris" not in labels  # results and questions are context
    assert "Observation:" in template.stop_words


@pytest.mark.parametrize("name", ["chatml", "llama3", "jinja"])
def test_the_calls_come_back_out_of_a_reply(name):
    tok = get_tiny_tokenizer() if name == "jinja" else tokenizer_for(name)  # the tiny model has a chat_template
    template = get_template(name, tok, tools_prompt="react_zh")
    text = template.render(CONVERSATION[:2], TOOLS)
    assert "你可以使用以下工具" in text
    reply = text[text.index("Thought: I should"):]
    (call,) = template.parse_tool_calls(reply)
    assert call["function"]["name"] == "get_weather" and json.loads(call["function"]["arguments"]) == {"city": "Paris"}


def test_a_system_message_keeps_its_text_and_label_indices_hold():
    tok = tokenizer_for("chatml")
    template = get_template("chatml", tok, tools_prompt="react_en")
    messages = [{"role": "system", "content": "You are Acme's agent."}, *CONVERSATION]
    messages[2] = {**messages[2], "loss": False}  # the first answer is not trained
    text = template.render(messages, TOOLS)
    assert text.count("You are Acme's agent.") == 1 and text.index("Acme") < text.index("get_weather:")
    labels = label_text(tok, template.encode({"messages": messages, "tools": TOOLS}))
    assert "Action:" not in labels and labels.startswith("Final Answer: 21 degrees.")


def test_unknown_format_is_an_error():
    with pytest.raises(TemplateError, match="react_en"):
        get_template("chatml", tokenizer_for("chatml"), tools_prompt="react")


def test_the_server_returns_react_calls_as_openai_tool_calls():
    from sartor.deploy.tools import can_parse, parse

    template = get_template("chatml", tokenizer_for("chatml"), tools_prompt="react_en")
    assert can_parse(template)
    content, calls = parse(template, 'Thought: look it up.\nAction: get_weather\nAction Input: {"city": "Rome"}\n')
    assert content == "Thought: look it up."
    assert calls[0]["function"]["name"] == "get_weather" and calls[0]["id"].startswith("call_")
    assert not can_parse(get_template("zephyr", tokenizer_for("zephyr")))  # no tool format at all
