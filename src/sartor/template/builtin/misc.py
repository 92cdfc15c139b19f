"""Plain-text and other templates: default, generation, alpaca, DeepSeek, Falcon, Command-R, ..."""
from ..meta import TemplateMeta
from ..registry import register_template
from ..template_type import TemplateType as T

register_template(TemplateMeta(
    template_type=T.default, auto_bos=True,
    system_prefix="{{SYSTEM}}\n\n",
    prompt="### Human:\n{{QUERY}}\n\n", response_prefix="### Assistant:\n",
    chat_sep="{{EOS}}\n\n", suffix="{{EOS}}", eot="{{EOS}}", stop_words=["\n\n### Human:"],
    description="A plain Human/Assistant format for models without a chat format"))

register_template(TemplateMeta(
    template_type=T.default_generation, auto_bos=True,
    prompt="{{QUERY}}", suffix="{{EOS}}", eot="{{EOS}}",
    description="Base models and pre-training: query then response then EOS"))

register_template(TemplateMeta(
    template_type=T.alpaca,
    system_prefix="{{SYSTEM}}\n\n",
    default_system="Below is an instruction that describes a task. Write a response that appropriately completes the request.",
    prompt="### Instruction:\n{{QUERY}}\n\n", response_prefix="### Response:\n",
    chat_sep="{{EOS}}\n\n", suffix="{{EOS}}", eot="{{EOS}}", stop_words=["\n\n### Instruction:"],
    description="Stanford Alpaca"))

for _name in (T.deepseek, T.deepseek_v2):
    register_template(TemplateMeta(
        template_type=_name, prefix="{{BOS}}",
        system_prefix="{{BOS}}{{SYSTEM}}\n\n",
        prompt="User: {{QUERY}}\n\n", response_prefix="Assistant: ", generation_prompt="Assistant:",
        chat_sep="{{EOS}}", suffix="{{EOS}}", eot="{{EOS}}",
        description="DeepSeek-LLM-chat / DeepSeek-V2-chat"))

register_template(TemplateMeta(
    template_type=T.deepseek_coder,
    system_prefix="{{BOS}}{{SYSTEM}}",
    default_system=(
        "You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, "
        "and you only answer questions related to computer science. For politically sensitive questions, "
        "security and privacy issues, and other non-computer science questions, you will refuse to answer\n"),
    prompt="### Instruction:\n{{QUERY}}\n", response_prefix="### Response:\n",
    chat_sep="\n<|EOT|>\n", suffix="\n<|EOT|>\n", eot="<|EOT|>",
    description="DeepSeek-Coder-instruct"))

register_template(TemplateMeta(
    template_type=T.deepseek_r1, prefix="{{BOS}}",
    system_prefix="{{BOS}}{{SYSTEM}}",
    prompt="<｜User｜>{{QUERY}}", response_prefix="<｜Assistant｜>",
    generation_prompt="<｜Assistant｜><think>\n",
    chat_sep="{{EOS}}", suffix="{{EOS}}", eot="{{EOS}}", drop_history_thinking=True,
    description="DeepSeek-R1 (reasoning of earlier turns dropped, kept in the last)"))

register_template(TemplateMeta(
    template_type=T.falcon,
    system_prefix="System: {{SYSTEM}}\n",
    prompt="User: {{QUERY}}", response_prefix="\nFalcon: ", generation_prompt="\nFalcon:",
    chat_sep="\n", stop_words=["\nUser:"], train_eos=True,
    description="Falcon-instruct/chat"))

register_template(TemplateMeta(
    template_type=T.command_r, prefix="{{BOS}}",
    system_prefix="{{BOS}}<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>{{SYSTEM}}<|END_OF_TURN_TOKEN|>",
    prompt="<|START_OF_TURN_TOKEN|><|USER_TOKEN|>{{QUERY}}<|END_OF_TURN_TOKEN|>",
    response_prefix="<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",
    chat_sep="<|END_OF_TURN_TOKEN|>", suffix="<|END_OF_TURN_TOKEN|>", eot="<|END_OF_TURN_TOKEN|>",
    strip_content=True, alternate=True, description="Command-R"))

register_template(TemplateMeta(
    template_type=T.openchat, prefix="{{BOS}}",
    system_prefix="{{BOS}}GPT4 Correct System: {{SYSTEM}}<|end_of_turn|>",
    prompt="GPT4 Correct User: {{QUERY}}<|end_of_turn|>",
    tool_prompt="GPT4 Correct Tool: {{QUERY}}<|end_of_turn|>",
    response_prefix="GPT4 Correct Assistant: ", generation_prompt="GPT4 Correct Assistant:",
    chat_sep="<|end_of_turn|>", suffix="<|end_of_turn|>", eot="<|end_of_turn|>",
    description="OpenChat-3.5"))

register_template(TemplateMeta(
    template_type=T.starcoder2,
    prefix=("{{BOS}}You are an exceptionally intelligent coding assistant that consistently delivers accurate "
            "and reliable responses to user instructions.\n\n"),
    prompt="### Instruction\n{{QUERY}}\n\n", response_prefix="### Response\n",
    chat_sep="{{EOS}}\n\n", suffix="{{EOS}}\n\n", eot="{{EOS}}", end="### Response\n",
    description="StarCoder2-instruct (always ends with the response header)"))

register_template(TemplateMeta(
    template_type=T.solar,
    system_prefix="### System:\n{{SYSTEM}}\n\n", skip_empty_system=True,
    prompt="### User:\n{{QUERY}}\n\n", response_prefix="### Assistant:\n",
    stop_words=["### User:"], train_eos=True, description="SOLAR-instruct"))

register_template(TemplateMeta(
    template_type=T.granite,
    system_prefix="System:\n{{SYSTEM}}\n\n",
    prompt="Question:\n{{QUERY}}\n\n", response_prefix="Answer:\n",
    chat_sep="\n\n", suffix="\n\n", stop_words=["\n\nQuestion:"], train_eos=True,
    description="Granite-instruct (Question/Answer)"))

register_template(TemplateMeta(
    template_type=T.chatqa,
    system_prefix="{{BOS}}System: {{SYSTEM}}\n\n",
    default_system=(
        "This is a chat between a user and an artificial intelligence assistant. The assistant gives helpful, "
        "detailed, and polite answers to the user's questions based on the context. The assistant should also "
        "indicate when the answer cannot be found in the context."),
    prompt="User: {{QUERY}}\n\n", response_prefix="Assistant: ", generation_prompt="Assistant:",
    chat_sep="\n\n", suffix="\n\n", always_generation_prompt=True, strip_content=True,
    stop_words=["\n\nUser:"], train_eos=True, description="Llama3-ChatQA-1.5"))

register_template(TemplateMeta(
    template_type=T.polylm,
    prompt="<|user|>\n{{QUERY}}<|end|>\n", response_prefix="<|assistant|>\n",
    chat_sep="<|end|>\n", suffix="{{EOS}}", eot="<|end|>",
    description="PolyLM-chat"))

register_template(TemplateMeta(
    template_type=T.seqgpt,
    prompt="{{QUERY}}\n输出:", response_prefix=" ", generation_prompt="", chat_sep="\n\n", suffix="{{EOS}}", eot="{{EOS}}",
    description="SeqGPT"))
