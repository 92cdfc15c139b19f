"""Templates without an official fixture match their models' published prompt formats (literal strings)."""
import pytest

from _template_helpers import label_text, tokenizer_for
from sartor.template import TEMPLATE_MAPPING, TemplateType, get_template
from sartor.template.renderers.llama import today

SYS = {"role": "system", "content": "SYS"}
CONV = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}]

# name -> (with a system message?, full rendering, rendering of CONV[:-1] with the generation prompt)
EXPECTED = {
    "chatglm2": (False, "[gMASK]sop[Round 1]\n\n问：Q1\n\n答：A1\n\n[Round 2]\n\n问：Q2\n\n答：A2</s>",
                 "[gMASK]sop[Round 1]\n\n问：Q1\n\n答：A1\n\n[Round 2]\n\n问：Q2\n\n答："),
    "chatglm3": (True, "[gMASK]sop<|system|>\nSYS<|user|>\nQ1<|assistant|>\nA1<|user|>\nQ2<|assistant|>\nA2<|user|>",
                 "[gMASK]sop<|system|>\nSYS<|user|>\nQ1<|assistant|>\nA1<|user|>\nQ2<|assistant|>"),
    "glm4": (True, "[gMASK]<sop><|system|>\nSYS<|user|>\nQ1<|assistant|>\nA1<|user|>\nQ2<|assistant|>\nA2<|user|>",
             "[gMASK]<sop><|system|>\nSYS<|user|>\nQ1<|assistant|>\nA1<|user|>\nQ2<|assistant|>"),
    "baichuan": (True, "SYS<reserved_102>Q1<reserved_103>A1</s><reserved_102>Q2<reserved_103>A2</s>",
                 "SYS<reserved_102>Q1<reserved_103>A1</s><reserved_102>Q2<reserved_103>"),
    "baichuan2": (True, "SYS<reserved_106>Q1<reserved_107>A1</s><reserved_106>Q2<reserved_107>A2</s>",
                  "SYS<reserved_106>Q1<reserved_107>A1</s><reserved_106>Q2<reserved_107>"),
    "internlm": (True, "<s><|System|>:SYS\n<|User|>:Q1<eoh>\n<|Bot|>:A1<eoa>\n<|User|>:Q2<eoh>\n<|Bot|>:A2<eoa>\n",
                 "<s><|System|>:SYS\n<|User|>:Q1<eoh>\n<|Bot|>:A1<eoa>\n<|User|>:Q2<eoh>\n<|Bot|>:"),
    "xverse": (False, "Human: Q1\n\nAssistant: A1<|endoftext|>Human: Q2\n\nAssistant: A2<|endoftext|>",
               "Human: Q1\n\nAssistant: A1<|endoftext|>Human: Q2\n\nAssistant:"),
    "openbuddy": (True, "SYS\n\nUser: Q1\nAssistant: A1</s>\nUser: Q2\nAssistant: A2</s>",
                  "SYS\n\nUser: Q1\nAssistant: A1</s>\nUser: Q2\nAssistant:"),
    "vicuna": (True, "<s>SYS USER: Q1 ASSISTANT: A1</s>USER: Q2 ASSISTANT: A2</s>",
               "<s>SYS USER: Q1 ASSISTANT: A1</s>USER: Q2 ASSISTANT:"),
    "alpaca": (True, "SYS\n\n### Instruction:\nQ1\n\n### Response:\nA1</s>\n\n### Instruction:\nQ2\n\n### Response:\nA2</s>",
               "SYS\n\n### Instruction:\nQ1\n\n### Response:\nA1</s>\n\n### Instruction:\nQ2\n\n### Response:\n"),
    "default": (True, "SYS\n\n### Human:\nQ1\n\n### Assistant:\nA1</s>\n\n### Human:\nQ2\n\n### Assistant:\nA2</s>",
                "SYS\n\n### Human:\nQ1\n\n### Assistant:\nA1</s>\n\n### Human:\nQ2\n\n### Assistant:\n"),
    "default-generation": (False, "Q1A1Q2A2</s>", "Q1A1Q2"),
    "polylm": (False, "<|user|>\nQ1<|end|>\n<|assistant|>\nA1<|end|>\n<|user|>\nQ2<|end|>\n<|assistant|>\nA2</s>",
               "<|user|>\nQ1<|end|>\n<|assistant|>\nA1<|end|>\n<|user|>\nQ2<|end|>\n<|assistant|>\n"),
    "seqgpt": (False, "Q1\n输出: A1\n\nQ2\n输出: A2</s>", "Q1\n输出: A1\n\nQ2\n输出:"),
    "phi4": (True, "<|im_start|>system<|im_sep|>SYS<|im_end|><|im_start|>user<|im_sep|>Q1<|im_end|>"
                   "<|im_start|>assistant<|im_sep|>A1<|im_end|><|im_start|>user<|im_sep|>Q2<|im_end|>"
                   "<|im_start|>assistant<|im_sep|>A2<|im_end|>",
             "<|im_start|>system<|im_sep|>SYS<|im_end|><|im_start|>user<|im_sep|>Q1<|im_end|>"
             "<|im_start|>assistant<|im_sep|>A1<|im_end|><|im_start|>user<|im_sep|>Q2<|im_end|>"
             "<|im_start|>assistant<|im_sep|>"),
    "deepseek-r1": (True, "<｜begin▁of▁sentence｜>SYS<｜User｜>Q1<｜Assistant｜>A1<｜end▁of▁sentence｜>"
                          "<｜User｜>Q2<｜Assistant｜>A2<｜end▁of▁sentence｜>",
                    "<｜begin▁of▁sentence｜>SYS<｜User｜>Q1<｜Assistant｜>A1<｜end▁of▁sentence｜>"
                    "<｜User｜>Q2<｜Assistant｜><think>\n"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_published_format(name):
    with_system, full, prompt = EXPECTED[name]
    template = get_template(name, tokenizer_for(name))
    messages = ([SYS] if with_system else []) + CONV
    assert template.render(messages) == full
    assert template.render(messages[:-1], add_generation_prompt=True) == prompt


def test_every_name_exists():
    names = set(TemplateType.all()) - {"jinja"}
    assert names == set(TEMPLATE_MAPPING)
    required = ("default default-generation chatml qwen qwen2 qwen2.5 qwen3 llama2 llama3 llama3.1 llama3.2 "
                "mistral mixtral gemma gemma3 phi3 phi4 deepseek deepseek-r1 deepseek-v2 yi glm4 chatglm2 "
                "chatglm3 baichuan baichuan2 internlm internlm2 xverse openbuddy zephyr vicuna alpaca falcon "
                "command-r polylm seqgpt qwen-vl qwen2-vl openchat starcoder2 solar granite chatqa").split()
    assert set(required) <= names


def test_default_generation_for_pretraining():
    tok = tokenizer_for("default-generation")
    template = get_template("default-generation", tok, loss_scale="all")
    assert template.render([{"role": "assistant", "content": "Just text."}]) == "Just text.</s>"
    row = template.encode({"messages": [{"role": "assistant", "content": "Just text."}]})
    assert tok.decode(row["labels"]) == "Just text.</s>"


def test_default_system_and_override():
    tok = tokenizer_for("qwen2.5")
    text = get_template("qwen2.5", tok).render(CONV[:1])
    assert text.startswith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
    text = get_template("qwen2.5", tok, default_system="Be brief.").render(CONV[:1])
    assert text.startswith("<|im_start|>system\nBe brief.<|im_end|>\n")
    assert get_template("qwen", tok).default_system == "You are a helpful assistant."


def test_qwen3_thinking():
    tok = tokenizer_for("qwen3")
    template = get_template("qwen3", tok)
    messages = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "<think>\nadd\n</think>\n\n4"}]
    assert template.render(messages) == ("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
                                         "<think>\nadd\n</think>\n\n4<|im_end|>\n")
    reasoning = [messages[0], {"role": "assistant", "content": "4", "reasoning_content": "add"}]
    assert template.render(reasoning) == template.render(messages)
    row = template.encode({"messages": messages})
    assert label_text(tok, row) == "<think>\nadd\n</think>\n\n4<|im_end|>"
    template.render_options["enable_thinking"] = False
    assert template.render(messages[:1], add_generation_prompt=True).endswith(
        "<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_deepseek_r1_drops_reasoning_of_earlier_turns_only():
    template = get_template("deepseek-r1", tokenizer_for("deepseek-r1"))
    messages = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "<think>\nr1\n</think>\n\nA1"},
                {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "<think>\nr2\n</think>\n\nA2"}]
    text = template.render(messages)
    assert "r1" not in text and "<｜Assistant｜>\n\nA1" in text
    assert text.endswith("<｜Assistant｜><think>\nr2\n</think>\n\nA2<｜end▁of▁sentence｜>")


def test_llama3_2_uses_todays_date_and_accepts_a_fixed_one():
    template = get_template("llama3.2", tokenizer_for("llama3.2"))
    assert f"Today Date: {today()}\n\n" in template.render(CONV[:1])
    template.render_options["date_string"] = "01 Jan 2025"
    assert "Today Date: 01 Jan 2025\n\n" in template.render(CONV[:1])
    assert "Today Date: 26 Jul 2024\n\n" in get_template("llama3.1", tokenizer_for("llama3.1")).render(CONV[:1])


def test_register_template_plugin():
    from sartor.template import TemplateError, TemplateMeta, register_template

    meta = TemplateMeta("test-plugin", prompt="Q: {{QUERY}}\n", response_prefix="A: ", generation_prompt="A:",
                        chat_sep="{{EOS}}\n", suffix="{{EOS}}", eot="{{EOS}}")
    register_template(meta)
    try:
        with pytest.raises(TemplateError, match="already registered"):
            register_template(meta)
        register_template(meta, exist_ok=True)
        template = get_template("test-plugin", tokenizer_for("default"))
        assert template.render(CONV) == "Q: Q1\nA: A1</s>\nQ: Q2\nA: A2</s>"
        assert template.stop_words == ["</s>"]
    finally:
        TEMPLATE_MAPPING.pop("test-plugin", None)
