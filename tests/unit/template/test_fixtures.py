"""Every built-in template with an official chat template renders exactly what that template renders."""
import jinja2
import pytest

from _template_conversations import CONVERSATIONS, MULTI_CALL, SYSTEM_CONVERSATIONS, TOOL_CONVERSATIONS, TOOLS
from _template_helpers import FIXTURES, MODEL_TOKENS, official_template, reference_render, tokenizer_for
from sartor.template import TemplateError, get_template
from sartor.template.renderers.llama import today

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/fixtures/chat_templates is absent")

# built-in template -> official template it is held against: an index in hf_chat_templates.json, or a
# file (fixtures/jinja/ or tests' data/). Where a family has variants, the current official one:
# llama2 28 (Llama-2-chat, content.strip()), mistral 10 (v0.1/v0.2, no space after </s>),
# phi3 31 (system role, generation prompt), zephyr 2 (zephyr-7b-beta), falcon 34 (Falcon-180B-chat),
# chatqa 32 (Llama3-ChatQA-1.5); 20 (listed as "chatqa") is DeepSeek-LLM-chat's template word for word.
FIXTURE_OF = {
    "chatml": 6, "yi": 6, "qwen": 7, "qwen-vl": 7, "qwen2-vl": 7, "qwen2": 7, "internlm2": 5,
    "qwen2.5": "qwen2.5-instruct.jinja", "qwen3": "qwen3.jinja",
    "llama2": 28, "llama3": 23, "llama3.1": 24, "llama3.2": 24, "mistral": 10, "mixtral": 10,
    "gemma": 21, "gemma3": 22, "phi3": 31, "zephyr": 2, "deepseek": 20, "deepseek-v2": 20,
    "deepseek-coder": 19, "falcon": 34, "command-r": 36, "openchat": 4, "starcoder2": 11, "solar": 35,
    "granite": 25, "chatqa": 32,
}
TOOL_TEMPLATES = {"qwen2.5", "qwen3", "llama3.1", "llama3.2"}
MULTI_CALL_TEMPLATES = {"qwen2.5", "qwen3"}
# chatqa's official template always writes its fixed system prompt and drops the user's one
SKIP = {"chatqa": SYSTEM_CONVERSATIONS}


def _cases():
    for name, source in FIXTURE_OF.items():
        for conv, messages in CONVERSATIONS.items():
            if conv in SKIP.get(name, ()):
                continue
            for agp in ((False, True) if conv.startswith("prompt") else (False,)):
                yield pytest.param(name, source, messages, None, agp, id=f"{name}-{conv}-{'gen' if agp else 'full'}")
        if name in TOOL_TEMPLATES:
            convs = dict(TOOL_CONVERSATIONS, **({"multi_call": MULTI_CALL} if name in MULTI_CALL_TEMPLATES else {}))
            for conv, messages in convs.items():
                for agp in (False, True):
                    yield pytest.param(name, source, messages, TOOLS, agp, id=f"{name}-{conv}-{agp}")


def _reference_kwargs(name: str) -> dict:
    bos, eos = MODEL_TOKENS[name]
    kwargs = {k: v for k, v in (("bos_token", bos), ("eos_token", eos)) if v is not None}
    if name == "llama3.2":
        kwargs["date_string"] = today()
    return kwargs


@pytest.mark.parametrize("name,source,messages,tools,agp", list(_cases()))
def test_render_matches_official(name, source, messages, tools, agp):
    chat_template = official_template(source)
    template = get_template(name, tokenizer_for(name))
    try:
        expected = reference_render(chat_template, messages, tools, agp, **_reference_kwargs(name))
    except jinja2.exceptions.TemplateError:
        with pytest.raises(TemplateError):
            template.render(messages, tools, add_generation_prompt=agp)
        return
    assert template.render(messages, tools, add_generation_prompt=agp) == expected
