"""Conformance matrix, generation: Sartor's inference engine answers greedily with exactly the tokens transformers'
generate(do_sample=False) gives for the same prompt ids, with prompts of different lengths batched together (longer
than the sliding windows, so the windowed caches are exercised)."""
import pytest
import torch
from arch_factory import SPECS

from sartor.infer.engine import PtEngine, RequestConfig
from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import get_template

CONVERSATIONS = [[{"role": "user", "content": q}] for q in
                 ("hello", "tell me a long story about dragons and castles, please", "2+2?")]
NEW = 8


@pytest.fixture(scope="module")
def template():
    return get_template("chatml", get_tiny_tokenizer())


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_engine_greedy_equals_transformers_generate(spec, template):
    model = spec.build().eval()
    engine = PtEngine(model, template.tokenizer, template, max_batch_size=4)
    try:
        prompts = [engine.encode(c) for c in CONVERSATIONS]
        ours = [c.token_ids for c in engine.infer(CONVERSATIONS, RequestConfig(max_new_tokens=NEW, temperature=0))]
    finally:
        engine.close()
    for prompt, answer in zip(prompts, ours):
        with torch.no_grad():
            out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                                 do_sample=False, max_new_tokens=NEW)
        theirs = out[0, len(prompt):].tolist()
        eos = set(engine.eos_token_ids)
        cut = next((i + 1 for i, t in enumerate(theirs) if t in eos), len(theirs))
        assert answer == theirs[:cut], f"prompt of {len(prompt)} tokens"
