"""Built-in registered datasets (ms-swift 2.x/3.x names and hub ids).

``hf_dataset_id`` is None where a dataset lives on ModelScope only (no known Hugging Face
mirror); such a dataset loads from ModelScope even with ``use_hf=True``.
"""
from __future__ import annotations

import os

from . import preprocessors as pp
from .registry import DatasetMeta, register_dataset

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


class DatasetName:
    """Names of the built-in datasets (string constants for ``--dataset``)."""

    # general
    alpaca_en = "alpaca-en"
    alpaca_zh = "alpaca-zh"
    alpaca_gpt4_data_en = "alpaca-gpt4-data-en"
    alpaca_gpt4_data_zh = "alpaca-gpt4-data-zh"
    alpaca_cleaned = "alpaca-cleaned"
    multi_alpaca = "multi-alpaca"
    instinwild_en = "instinwild-en"
    instinwild_zh = "instinwild-zh"
    cot_en = "cot-en"
    cot_zh = "cot-zh"
    firefly_zh = "firefly-zh"
    firefly_all_zh = "firefly-all-zh"
    instruct_en = "instruct-en"
    gpt4all_en = "gpt4all-en"
    sharegpt_en = "sharegpt-en"
    sharegpt_zh = "sharegpt-zh"
    ruozhiba = "ruozhiba"
    coig_cqia = "coig-cqia"
    lmsys_chat_1m = "lmsys-chat-1m"
    # agent
    damo_agent_zh = "damo-agent-zh"
    damo_agent_mini_zh = "damo-agent-mini-zh"
    # coding
    code_alpaca_en = "code-alpaca-en"
    code_python_zh = "code-python-zh"
    leetcode_python_en = "leetcode-python-en"
    codefuse_python_en = "codefuse-python-en"
    codefuse_evol_instruction_zh = "codefuse-evol-instruction-zh"
    # medical / law
    medical_en = "medical-en"
    medical_zh = "medical-zh"
    lawyer_llama_zh = "lawyer-llama-zh"
    tigerbot_law_zh = "tigerbot-law-zh"
    # math / sql
    blossom_math_zh = "blossom-math-zh"
    school_math_zh = "school-math-zh"
    text2sql_en = "text2sql-en"
    sql_create_context_en = "sql-create-context-en"
    # text generation / classification
    advertise_gen_zh = "advertise-gen-zh"
    dureader_robust_zh = "dureader-robust-zh"
    cmnli_zh = "cmnli-zh"
    jd_sentiment_zh = "jd-sentiment-zh"
    finance_en = "finance-en"
    poetry_zh = "poetry-zh"
    cls_fudan_news_zh = "cls-fudan-news-zh"
    ner_jave_zh = "ner-jave-zh"
    # multi-modal
    coco_en = "coco-en"
    # preference
    hh_rlhf = "hh-rlhf"
    stack_exchange_paired = "stack-exchange-paired"
    shareai_llama3_dpo_zh_en_emoji = "shareai-llama3-dpo-zh-en-emoji"
    orpo_dpo_mix_40k = "orpo-dpo-mix-40k"
    ultrafeedback_kto = "ultrafeedback-kto"
    # self-cognition (shipped in the package)
    self_cognition = "self-cognition"


def _r(name: str, ms: str | None, hf: str | None, tags: list[str], **kwargs) -> None:
    register_dataset(DatasetMeta(name=name, ms_dataset_id=ms, hf_dataset_id=hf, tags=tags, **kwargs))


N = DatasetName
QR_PROMPT = {"prompt": "query", "answer": "response"}

_r(N.alpaca_en, "AI-ModelScope/alpaca-gpt4-data-en", "vicgalle/alpaca-gpt4", ["chat", "general"])
_r(N.alpaca_zh, "AI-ModelScope/alpaca-gpt4-data-zh", "llm-wizard/alpaca-gpt4-data-zh", ["chat", "general"],
   preprocess_func=pp.alpaca_zh)
_r(N.alpaca_gpt4_data_en, "AI-ModelScope/alpaca-gpt4-data-en", "vicgalle/alpaca-gpt4", ["chat", "general"])
_r(N.alpaca_gpt4_data_zh, "AI-ModelScope/alpaca-gpt4-data-zh", "llm-wizard/alpaca-gpt4-data-zh",
   ["chat", "general"], preprocess_func=pp.alpaca_zh)
_r(N.alpaca_cleaned, "AI-ModelScope/alpaca-cleaned", "yahma/alpaca-cleaned", ["chat", "general"])
_r(N.multi_alpaca, "damo/nlp_polylm_multialpaca_sft", "DAMO-NLP-MT/multialpaca", ["chat", "multilingual"],
   subsets=["ar", "de", "es", "fr", "id", "ja", "ko", "pt", "ru", "th", "vi"])
_r(N.instinwild_zh, "wyj123456/instinwild", None, ["chat", "general"], subsets=["default"])
_r(N.instinwild_en, "wyj123456/instinwild", None, ["chat", "general"], subsets=["subset"])
_r(N.cot_en, "YorickHe/CoT", None, ["chat", "general"])
_r(N.cot_zh, "YorickHe/CoT_zh", None, ["chat", "general"])
_r(N.firefly_zh, "AI-ModelScope/firefly-train-1.1M", "YeungNLP/firefly-train-1.1M", ["chat", "general"],
   columns={"input": "query", "target": "response"})
_r(N.firefly_all_zh, "AI-ModelScope/firefly-train-1.1M", "YeungNLP/firefly-train-1.1M", ["chat", "general"],
   columns={"input": "query", "target": "response"})
_r(N.instruct_en, "wyj123456/instruct", "swype/instruct", ["chat", "general"],
   columns={"prompt": "query", "completion": "response"})
_r(N.gpt4all_en, "wyj123456/GPT4all", "nomic-ai/gpt4all-j-prompt-generations", ["chat", "general"],
   columns={"prompt": "query"})
_r(N.sharegpt_en, "swift/sharegpt", None, ["chat", "multi-round"], subsets=["common-en", "computer-en"],
   preprocess_func=pp.sharegpt_swift)
_r(N.sharegpt_zh, "swift/sharegpt", None, ["chat", "multi-round"],
   subsets=["common-zh", "computer-zh", "unknow-zh"], preprocess_func=pp.sharegpt_swift)
_r(N.ruozhiba, "AI-ModelScope/ruozhiba", None, ["pretrain"], subsets=["post-annual", "title-good", "title-norm"],
   preprocess_func=pp.ruozhiba)
_r(N.coig_cqia, "AI-ModelScope/COIG-CQIA", None, ["general"],
   subsets=["chinese_traditional", "coig_pc", "exam", "finance", "douban", "human_value", "logi_qa",
            "ruozhiba", "segmentfault", "wiki", "wikihow", "xhs", "zhihu"])
_r(N.lmsys_chat_1m, "AI-ModelScope/lmsys-chat-1m", "lmsys/lmsys-chat-1m", ["chat", "em"])
_r(N.damo_agent_zh, "damo/MSAgent-Bench", None, ["chat", "agent", "multi-round"], split=["train", "validation"],
   preprocess_func=pp.damo_agent)
_r(N.damo_agent_mini_zh, "damo/MSAgent-Bench", None, ["chat", "agent", "multi-round"], split=["validation"],
   preprocess_func=pp.damo_agent)
_r(N.code_alpaca_en, "wyj123456/code_alpaca_en", "sahil2801/CodeAlpaca-20k", ["chat", "coding"])
_r(N.code_python_zh, "codefuse-ai/CodeExercise-Python-27k", "codefuse-ai/CodeExercise-Python-27k",
   ["chat", "coding"])
_r(N.codefuse_python_en, "codefuse-ai/CodeExercise-Python-27k", "codefuse-ai/CodeExercise-Python-27k",
   ["chat", "coding"])
_r(N.codefuse_evol_instruction_zh, "codefuse-ai/Evol-instruction-66k", "codefuse-ai/Evol-instruction-66k",
   ["chat", "coding"], columns={"instruction": "query", "output": "response"})
_r(N.leetcode_python_en, "AI-ModelScope/leetcode-solutions-python", None, ["chat", "coding"],
   preprocess_func=pp.leetcode_python)
_r(N.medical_en, "huangjintao/medical_zh", None, ["chat", "medical"], subsets=["en"],
   split=["train", "val", "test"], columns={"input": "query", "output": "response"})
_r(N.medical_zh, "huangjintao/medical_zh", None, ["chat", "medical"], subsets=["zh"],
   split=["train", "val", "test"], columns={"instruction": "query", "output": "response"})
_r(N.lawyer_llama_zh, "AI-ModelScope/lawyer_llama_data", "Skepsun/lawyer_llama_data", ["chat", "law"],
   columns={"instruction": "query", "output": "response", "history": "-"})
_r(N.tigerbot_law_zh, "AI-ModelScope/tigerbot-law-plugin", "TigerResearch/tigerbot-law-plugin",
   ["text-generation", "law", "pretrain"], preprocess_func=pp.tigerbot_law)
_r(N.blossom_math_zh, "AI-ModelScope/blossom-math-v2", "Azure99/blossom-math-v2", ["chat", "math"],
   preprocess_func=pp.blossom_math)
_r(N.school_math_zh, "AI-ModelScope/school_math_0.25M", "BelleGroup/school_math_0.25M", ["chat", "math"])
_r(N.text2sql_en, "AI-ModelScope/texttosqlv2_25000_v2", "Clinton/texttosqlv2_25000_v2", ["chat", "sql"])
_r(N.sql_create_context_en, "AI-ModelScope/sql-create-context", "b-mc2/sql-create-context", ["chat", "sql"],
   columns={"question": "instruction", "context": "input", "answer": "output"})
_r(N.advertise_gen_zh, "lvjianjin/AdvertiseGen", "shibing624/AdvertiseGen", ["text-generation"],
   split=["train", "validation"], preprocess_func=pp.advertise_gen)
_r(N.dureader_robust_zh, "modelscope/DuReader_robust-QG", None, ["text-generation"],
   split=["train", "validation", "test"], preprocess_func=pp.dureader_robust)
_r(N.cmnli_zh, "modelscope/clue", "clue", ["text-generation", "classification"], subsets=["cmnli"],
   split=["train", "validation"],
   preprocess_func=pp.make_cls(["neutral", "entailment", "contradiction"], "Natural Language Inference", True))
_r(N.jd_sentiment_zh, "DAMO_NLP/jd", None, ["text-generation", "classification"], split=["train", "validation"],
   preprocess_func=pp.make_cls(["negative", "positive"], "Sentiment Classification", False))
_r(N.finance_en, "wyj123456/finance_en", "ssbuild/alpaca_finance_en", ["chat", "financial"])
_r(N.poetry_zh, "modelscope/chinese-poetry-collection", None, ["text-generation", "poetry"], split=["test"],
   columns={"text1": "response"})
_r(N.cls_fudan_news_zh, "damo/zh_cls_fudan-news", None, ["chat", "classification"], columns=QR_PROMPT)
_r(N.ner_jave_zh, "damo/zh_ner-JAVE", None, ["chat", "ner"], columns=QR_PROMPT)
_r(N.coco_en, "modelscope/coco_2014_caption", None, ["chat", "multi-modal", "vision"],
   subsets=["coco_2014_caption"], split=["train", "validation"], preprocess_func=pp.coco_caption)
_r(N.hh_rlhf, "AI-ModelScope/hh-rlhf", "Anthropic/hh-rlhf", ["rlhf", "dpo"],
   subsets=["harmless-base", "helpful-base", "helpful-online", "helpful-rejection-sampled"],
   preprocess_func=pp.hh_rlhf)
_r(N.stack_exchange_paired, "AI-ModelScope/stack-exchange-paired", "lvwerra/stack-exchange-paired",
   ["rlhf", "dpo"], columns={"question": "query", "response_j": "response", "response_k": "rejected_response"})
_r(N.shareai_llama3_dpo_zh_en_emoji, "hjh0119/shareAI-Llama3-DPO-zh-en-emoji", "shareAI/DPO-zh-en-emoji",
   ["rlhf", "dpo"], columns={"question": "query", "answer_zh": "response", "answer_en": "rejected_response"})
_r(N.orpo_dpo_mix_40k, "AI-ModelScope/orpo-dpo-mix-40k", "mlabonne/orpo-dpo-mix-40k", ["dpo", "orpo"])
_r(N.ultrafeedback_kto, "AI-ModelScope/ultrafeedback-binarized-preferences-cleaned-kto",
   "argilla/ultrafeedback-binarized-preferences-cleaned-kto", ["rlhf", "kto"],
   columns={"prompt": "query", "completion": "response"})
_r(N.self_cognition, "swift/self-cognition", None, ["chat", "self-cognition"],
   dataset_path=[os.path.join(DATA_DIR, "self_cognition.jsonl")])
