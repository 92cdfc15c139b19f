"""Shared test helpers: a small byte-level BPE tokenizer with every model's special tokens,
the official fixtures, and a reference renderer (transformers' own jinja rendering)."""
import json
from functools import lru_cache
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
FIXTURES = SHARED / "fixtures" / "chat_templates"
DATA = Path(__file__).resolve().parent / "data"

SPECIAL_TOKENS = [
    "<s>", "</s>", "<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_sep|>",
    "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<|start_header_id|>",
    "<|end_header_id|>", "<|python_tag|>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>",
    "<|user|>", "<|assistant|>", "<|system|>", "<|end|>", "<|tool|>", "<|end_of_turn|>", "<BOS_TOKEN>",
    "<|START_OF_TURN_TOKEN|>", "<|END_OF_TURN_TOKEN|>", "<|USER_TOKEN|>", "<|CHATBOT_TOKEN|>",
    "<|SYSTEM_TOKEN|>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>",
    "<|EOT|>", "<reserved_102>", "<reserved_103>", "<reserved_106>", "<reserved_107>", "<eoh>", "<eoa>",
    "[gMASK]", "<sop>", "<|observation|>",
]

# (bos, eos) per template, as the models' tokenizers have them
MODEL_TOKENS = {
    "chatml": (None, "<|im_end|>"), "qwen": (None, "<|im_end|>"), "qwen2": (None, "<|im_end|>"),
    "qwen2.5": (None, "<|im_end|>"), "qwen3": (None, "<|im_end|>"), "qwen-vl": (None, "<|im_end|>"),
    "qwen2-vl": (None, "<|im_end|>"), "yi": ("<|startoftext|>", "<|im_end|>"), "internlm2": ("<s>", "</s>"),
    "phi4": ("<|endoftext|>", "<|im_end|>"),
    "llama2": ("<s>", "</s>"), "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama3.1": ("<|begin_of_text|>", "<|eot_id|>"), "llama3.2": ("<|begin_of_text|>", "<|eot_id|>"),
    "mistral": ("<s>", "</s>"), "mixtral": ("<s>", "</s>"), "gemma": ("<bos>", "<eos>"),
    "gemma3": ("<bos>", "<eos>"), "phi3": ("<s>", "<|endoftext|>"), "zephyr": ("<s>", "</s>"),
    "vicuna": ("<s>", "</s>"), "openbuddy": ("<s>", "</s>"), "default": ("<s>", "</s>"),
    "default-generation": ("<s>", "</s>"), "alpaca": ("<s>", "</s>"),
    "deepseek": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "deepseek-v2": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "deepseek-r1": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "deepseek-coder": ("<｜begin▁of▁sentence｜>", "<|EOT|>"),
    "falcon": (None, "<|endoftext|>"), "command-r": ("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"),
    "openchat": ("<s>", "</s>"), "starcoder2": ("<|endoftext|>", "<|endoftext|>"), "solar": ("<s>", "</s>"),
    "granite": (None, "<|endoftext|>"), "chatqa": ("<|begin_of_text|>", "<|end_of_text|>"),
    "polylm": (None, "</s>"), "seqgpt": (None, "</s>"), "glm4": (None, "<|endoftext|>"),
    "chatglm2": (None, "</s>"), "chatglm3": (None, "</s>"), "baichuan": ("<s>", "</s>"),
    "baichuan2": ("<s>", "</s>"), "internlm": ("<s>", "</s>"), "xverse": (None, "<|endoftext|>"),
}

_CORPUS = [
    "Hello, who are you? I am a helpful assistant trained to answer questions.",
    "The quick brown fox jumps over the lazy dog. What is the weather like today in Paris?",
    "def add(a, b):\n    return a + b\n", '{"name": "get_weather", "arguments": {"city": "Paris"}}',
    "你好，世界！很好，谢谢。请问今天天气怎么样？", "Ça va? Très bien, merci! 😀🌍",
    "System: User: Assistant: ### Instruction: ### Response: Question: Answer: Human:",
]


@lru_cache(maxsize=1)
def _base_tokenizer_json() -> str:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS * 20, trainer)
    return tok.to_str()


def make_tokenizer(bos: str | None = None, eos: str | None = "</s>", chat_template: str | None = None):
    """A fast byte-level BPE tokenizer with every special token; bos/eos as given."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(_base_tokenizer_json()),
                                  bos_token=bos, eos_token=eos, clean_up_tokenization_spaces=False)
    if chat_template is not None:
        tok.chat_template = chat_template
    return tok


def tokenizer_for(template_type: str, chat_template: str | None = None):
    bos, eos = MODEL_TOKENS.get(template_type, ("<s>", "</s>"))
    return make_tokenizer(bos, eos, chat_template)


@lru_cache(maxsize=1)
def hf_fixtures() -> dict[int, str]:
    return {t["index"]: t["template"] for t in json.loads((FIXTURES / "hf_chat_templates.json").read_text())}


def official_template(source) -> str:
    """A fixture by index, a file name in fixtures/jinja/, or a file name in the test data."""
    if isinstance(source, int):
        return hf_fixtures()[source]
    path = FIXTURES / "jinja" / source
    return path.read_text() if path.exists() else (DATA / source).read_text()


def reference_render(chat_template: str, messages, tools=None, add_generation_prompt=False, **kwargs) -> str:
    """The rendering transformers' apply_chat_template produces (its own jinja code)."""
    from transformers.utils.chat_template_utils import render_jinja_template

    rendered, _ = render_jinja_template(conversations=[messages], tools=tools, chat_template=chat_template,
                                        add_generation_prompt=add_generation_prompt, **kwargs)
    return rendered[0]


def label_text(tokenizer, encoded: dict) -> str:
    return tokenizer.decode([t for t in encoded["labels"] if t != -100], skip_special_tokens=False)
