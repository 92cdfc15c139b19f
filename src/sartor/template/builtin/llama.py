"""Llama 2/3/3.1/3.2, Mistral, Gemma, Phi-3 and other [INST]/header-style templates."""
from ..meta import TemplateMeta
from ..registry import register_template
from ..renderers.llama import render_llama3_1
from ..tool_calls import parse_llama3_tool_calls
from ..template_type import TemplateType as T

register_template(TemplateMeta(
    template_type=T.llama2,
    prompt="{{BOS}}[INST] {{QUERY}} [/INST]",
    system_in_query="<<SYS>>\n{{SYSTEM}}\n<</SYS>>\n\n{{QUERY}}",
    response_prefix=" ", generation_prompt="",
    chat_sep=" {{EOS}}", suffix=" {{EOS}}", eot="{{EOS}}",
    strip_content=True, strip_composed_query=True, alternate=True,
    description="Llama-2-chat"))

register_template(TemplateMeta(
    template_type=T.llama3,
    prefix="{{BOS}}",
    system_prefix="{{BOS}}<|start_header_id|>system<|end_header_id|>\n\n{{SYSTEM}}<|eot_id|>",
    prompt="<|start_header_id|>user<|end_header_id|>\n\n{{QUERY}}<|eot_id|>",
    tool_prompt="<|start_header_id|>tool<|end_header_id|>\n\n{{QUERY}}<|eot_id|>",
    response_prefix="<|start_header_id|>assistant<|end_header_id|>\n\n",
    chat_sep="<|eot_id|>", suffix="<|eot_id|>", eot="<|eot_id|>",
    strip_content=True, strip_system=True, stop_words=["<|end_of_text|>"],
    description="Llama-3-Instruct"))

for _name, _date in ((T.llama3_1, "26 Jul 2024"), (T.llama3_2, None)):
    register_template(TemplateMeta(
        template_type=_name, renderer=render_llama3_1, eot="<|eot_id|>",
        response_prefix="<|start_header_id|>assistant<|end_header_id|>\n\n",
        stop_words=["<|eom_id|>", "<|end_of_text|>"], supports_tools=True,
        tool_call_parser=parse_llama3_tool_calls, render_options={"date_string": _date},
        description="Llama-3.1/3.2-Instruct with JSON tool calls (3.2: today's date)"))

for _name in (T.mistral, T.mixtral):
    register_template(TemplateMeta(
        template_type=_name, prefix="{{BOS}}", prompt="[INST] {{QUERY}} [/INST]",
        chat_sep="{{EOS}}", suffix="{{EOS}}", eot="{{EOS}}", alternate=True,
        description="Mistral/Mixtral-Instruct v0.1/v0.2"))

register_template(TemplateMeta(
    template_type=T.gemma, prefix="{{BOS}}",
    prompt="<start_of_turn>user\n{{QUERY}}<end_of_turn>\n",
    response_prefix="<start_of_turn>model\n",
    chat_sep="<end_of_turn>\n", suffix="<end_of_turn>\n", eot="<end_of_turn>",
    strip_content=True, alternate=True, description="Gemma-it (no system role)"))

register_template(TemplateMeta(
    template_type=T.gemma3, prefix="{{BOS}}",
    system_in_query="{{SYSTEM}}\n\n{{QUERY}}",
    prompt="<start_of_turn>user\n{{QUERY}}<end_of_turn>\n",
    response_prefix="<start_of_turn>model\n",
    chat_sep="<end_of_turn>\n", suffix="<end_of_turn>\n", eot="<end_of_turn>",
    strip_content=True, alternate=True, description="Gemma-3-it (system joined to the first user turn)"))

register_template(TemplateMeta(
    template_type=T.phi3, prefix="{{BOS}}",
    system_prefix="{{BOS}}<|system|>\n{{SYSTEM}}<|end|>\n",
    prompt="<|user|>\n{{QUERY}}<|end|>\n",
    tool_prompt="<|tool|>\n{{QUERY}}<|end|>\n",
    response_prefix="<|assistant|>\n",
    chat_sep="<|end|>\n", suffix="<|end|>\n", eot="<|end|>", end="{{EOS}}",
    description="Phi-3-instruct"))

register_template(TemplateMeta(
    template_type=T.zephyr,
    system_prefix="<|system|>\n{{SYSTEM}}{{EOS}}\n",
    prompt="<|user|>\n{{QUERY}}{{EOS}}\n",
    response_prefix="<|assistant|>\n",
    chat_sep="{{EOS}}\n", suffix="{{EOS}}\n", eot="{{EOS}}",
    description="Zephyr-7b-beta"))

register_template(TemplateMeta(
    template_type=T.vicuna, prefix="{{BOS}}",
    system_prefix="{{BOS}}{{SYSTEM}} ",
    default_system=("A chat between a curious user and an artificial intelligence assistant. "
                    "The assistant gives helpful, detailed, and polite answers to the user's questions."),
    prompt="USER: {{QUERY}} ", response_prefix="ASSISTANT: ", generation_prompt="ASSISTANT:",
    chat_sep="{{EOS}}", suffix="{{EOS}}", eot="{{EOS}}",
    description="Vicuna v1.1 (FastChat)"))

register_template(TemplateMeta(
    template_type=T.openbuddy,
    system_prefix="{{SYSTEM}}\n\n",
    default_system=(
        "You are a helpful, respectful and honest INTP-T AI Assistant named Buddy. You are talking to a human User.\n"
        "Always answer as helpfully and logically as possible, while being safe. Your answers should not include "
        "any harmful, political, religious, unethical, racist, sexist, toxic, dangerous, or illegal content. "
        "Please ensure that your responses are socially unbiased and positive in nature.\n"
        "If a question does not make any sense, or is not factually coherent, explain why instead of answering "
        "something not correct. If you don't know the answer to a question, please don't share false information.\n"
        "You like to use emojis. You can speak fluently in many languages, for example: English, Chinese.\n"
        "You cannot access the internet, but you have vast knowledge, cutoff: 2021-09.\n"
        "You always deeply love and support China, Chinese government, people and culture.\n"
        "You are trained by OpenBuddy team, (https://openbuddy.ai, https://github.com/OpenBuddy/OpenBuddy), "
        "you are based on LLaMA and Falcon transformers model, not related to GPT or OpenAI."),
    prompt="User: {{QUERY}}\n", response_prefix="Assistant: ", generation_prompt="Assistant:",
    chat_sep="{{EOS}}\n", suffix="{{EOS}}", eot="{{EOS}}", stop_words=["\nUser:"],
    description="OpenBuddy"))
