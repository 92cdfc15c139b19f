"""ChatML and the Qwen family (plus ChatML-shaped Yi, InternLM2 and Phi-4)."""
from ..meta import TemplateMeta
from ..registry import register_template
from ..renderers.qwen import render_qwen2_5, render_qwen3
from ..tool_calls import parse_hermes_tool_calls
from ..template_type import TemplateType as T

QWEN_SYSTEM = "You are a helpful assistant."
QWEN2_5_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


def chatml_meta(name: str, default_system: str | None = None, prefix: str = "", **kwargs) -> TemplateMeta:
    """`<|im_start|>role\\ncontent<|im_end|>\\n` turns, optionally after a prefix such as BOS."""
    return TemplateMeta(
        template_type=name,
        prefix=prefix,
        system_prefix=prefix + "<|im_start|>system\n{{SYSTEM}}<|im_end|>\n",
        prompt="<|im_start|>user\n{{QUERY}}<|im_end|>\n",
        tool_prompt="<|im_start|>tool\n{{QUERY}}<|im_end|>\n",
        response_prefix="<|im_start|>assistant\n",
        chat_sep="<|im_end|>\n",
        suffix="<|im_end|>\n",
        eot="<|im_end|>",
        default_system=default_system,
        stop_words=["<|endoftext|>"],
        **kwargs,
    )


register_template(chatml_meta(T.chatml, description="ChatML, no default system"))
register_template(chatml_meta(T.qwen, QWEN_SYSTEM, description="Qwen(1) chat"))
register_template(chatml_meta(T.qwen_vl, QWEN_SYSTEM, description="Qwen-VL chat (text turns)"))
register_template(chatml_meta(T.qwen2_vl, QWEN_SYSTEM, description="Qwen2-VL instruct (text turns)"))
register_template(chatml_meta(T.yi, description="Yi chat (ChatML)"))
register_template(chatml_meta(T.internlm2, prefix="{{BOS}}", description="InternLM2 chat"))

for _name, _system in ((T.qwen2, QWEN_SYSTEM), (T.qwen2_5, QWEN2_5_SYSTEM)):
    register_template(TemplateMeta(
        template_type=_name, renderer=render_qwen2_5, default_system=_system, eot="<|im_end|>",
        response_prefix="<|im_start|>assistant\n", stop_words=["<|endoftext|>"], supports_tools=True,
        tool_call_parser=parse_hermes_tool_calls, description="Qwen2/2.5 instruct with Hermes-style tools"))

register_template(TemplateMeta(
    template_type=T.qwen3, renderer=render_qwen3, eot="<|im_end|>", response_prefix="<|im_start|>assistant\n",
    stop_words=["<|endoftext|>"], supports_tools=True, tool_call_parser=parse_hermes_tool_calls,
    render_options={"enable_thinking": True},
    description="Qwen3 with thinking (reasoning kept after the last user query)"))

register_template(TemplateMeta(
    template_type=T.phi4,
    system_prefix="<|im_start|>system<|im_sep|>{{SYSTEM}}<|im_end|>",
    prompt="<|im_start|>user<|im_sep|>{{QUERY}}<|im_end|>",
    response_prefix="<|im_start|>assistant<|im_sep|>",
    chat_sep="<|im_end|>", suffix="<|im_end|>", eot="<|im_end|>",
    description="Phi-4"))
