"""--predict_with_generate answers with transformers' generate on the model in training: the same greedy answers
as the inference engine gives, batched with left padding or alone."""
import copy

import pytest
import torch
from datasets import Dataset

from sartor.infer.engine import PtEngine, RequestConfig
from sartor.model.tiny import build_tiny_model
from sartor.template import get_template
from sartor.train.generate_eval import GenerationEvaluator

QUERIES = ["who are you?", "hello", "tell me a long story about dragons and castles, please", "2+2?", "x"]


@pytest.fixture(scope="module")
def model_and_template():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared 2-core machine: two threads wait on each other
    model, tok = build_tiny_model()
    yield model, get_template("chatml", tok)
    torch.set_num_threads(before)


def rows(answers: list[str]) -> Dataset:
    return Dataset.from_list([{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
                              for q, a in zip(QUERIES, answers)])


@pytest.mark.parametrize("stop", [None, "word", "token"])
def test_answers_equal_the_inference_engine_greedy_answers(model_and_template, stop):
    """Also when a template stop word (text) or an EOS id of the model's generation config ends an answer early."""
    model, template = model_and_template
    evaluator = GenerationEvaluator(template, rows(["a reference answer"] * len(QUERIES)), max_batch_size=3)
    free = evaluator.answer(model.eval(), evaluator.prompts)
    eos = model.generation_config.eos_token_id
    if stop == "word":
        template = copy.copy(template)
        template.stop_words = [*template.stop_words, free[2].strip()[:5]]  # text that shows partway through
        evaluator.template = template
    elif stop == "token":
        last = template.tokenizer(free[-1], add_special_tokens=False)["input_ids"][-1]
        model.generation_config.eos_token_id = [*(eos if isinstance(eos, list) else [eos]), last]
    try:
        model.train()
        ours = [a for i in range(0, len(QUERIES), 3)
                for a in evaluator.answer(model.eval(), evaluator.prompts[i:i + 3])]
        engine = PtEngine(model, template.tokenizer, template, max_batch_size=8)
        try:
            cfg = RequestConfig(max_new_tokens=evaluator.max_new_tokens, temperature=0)
            theirs = [c.text for c in engine.infer(evaluator.prompts, cfg)]
        finally:
            engine.close()
    finally:
        model.generation_config.eos_token_id = eos
    assert ours == theirs
    assert any(ours)
    assert (ours == free) == (stop is None)


def test_scores_and_leaves_the_model_in_training_mode(model_and_template):
    model, template = model_and_template
    evaluator = GenerationEvaluator(template, rows(["hello there"] * len(QUERIES)), max_batch_size=4)
    model.train()
    metrics = evaluator(model)
    assert model.training
    assert set(metrics) == {"rouge-l", "bleu-4"} and all(0 <= v <= 1 for v in metrics.values())
