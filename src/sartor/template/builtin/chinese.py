"""ChatGLM/GLM-4, Baichuan, InternLM and XVERSE templates."""
from ..meta import TemplateMeta
from ..registry import register_template
from ..template_type import TemplateType as T

register_template(TemplateMeta(
    template_type=T.chatglm2, prefix="[gMASK]sop",
    prompt="[Round {{ROUND1}}]\n\n问：{{QUERY}}\n\n", response_prefix="答：",
    chat_sep="\n\n", suffix="{{EOS}}", eot="{{EOS}}",
    description="ChatGLM2 ([Round N] 问/答)"))

register_template(TemplateMeta(
    template_type=T.chatglm3, prefix="[gMASK]sop",
    system_prefix="[gMASK]sop<|system|>\n{{SYSTEM}}",
    prompt="<|user|>\n{{QUERY}}", tool_prompt="<|observation|>\n{{QUERY}}",
    response_prefix="<|assistant|>\n", generation_prompt="<|assistant|>",
    suffix="<|user|>", eot="<|user|>", stop_words=["<|observation|>"],
    description="ChatGLM3 (the last reply ends with <|user|>, its stop token)"))

register_template(TemplateMeta(
    template_type=T.glm4, prefix="[gMASK]<sop>",
    system_prefix="[gMASK]<sop><|system|>\n{{SYSTEM}}",
    prompt="<|user|>\n{{QUERY}}", tool_prompt="<|observation|>\n{{QUERY}}",
    response_prefix="<|assistant|>\n", generation_prompt="<|assistant|>",
    suffix="<|user|>", eot="<|user|>", stop_words=["<|observation|>"],
    description="GLM-4-chat (the last reply ends with <|user|>, its stop token)"))

for _name, _user, _bot in ((T.baichuan, "<reserved_102>", "<reserved_103>"),
                           (T.baichuan2, "<reserved_106>", "<reserved_107>")):
    register_template(TemplateMeta(
        template_type=_name, system_prefix="{{SYSTEM}}",
        prompt=_user + "{{QUERY}}", response_prefix=_bot,
        chat_sep="{{EOS}}", suffix="{{EOS}}", eot="{{EOS}}",
        description="Baichuan-13B-Chat / Baichuan2-Chat (user/assistant reserved tokens)"))

register_template(TemplateMeta(
    template_type=T.internlm, prefix="{{BOS}}",
    system_prefix="{{BOS}}<|System|>:{{SYSTEM}}\n",
    prompt="<|User|>:{{QUERY}}<eoh>\n", response_prefix="<|Bot|>:",
    chat_sep="<eoa>\n", suffix="<eoa>\n", eot="<eoa>",
    description="InternLM-chat (v1)"))

register_template(TemplateMeta(
    template_type=T.xverse,
    prompt="Human: {{QUERY}}\n\n", response_prefix="Assistant: ", generation_prompt="Assistant:",
    chat_sep="{{EOS}}", suffix="{{EOS}}", eot="{{EOS}}",
    description="XVERSE-chat"))
