"""The batching engine: answers do not depend on what else runs in the batch, or when it joined."""
import threading

import pytest
import torch

from sartor.infer.engine import PtEngine, RequestConfig
from sartor.model.tiny import build_tiny_model
from sartor.template import get_template

QUERIES = ["who are you?", "hello", "tell me a long story about dragons and castles, please", "2+2?",
           "Write a haiku about the sea.", "x"]
# Greedy with a presence penalty: the tiny random model then writes varied tokens instead of one repeated.
GREEDY = RequestConfig(max_new_tokens=12, temperature=0, presence_penalty=2.0)


@pytest.fixture(scope="module")
def engine():
    model, tok = build_tiny_model()
    model.eval()
    eng = PtEngine(model, tok, get_template("chatml", tok), max_batch_size=8)
    yield eng
    eng.close()


def conv(q: str) -> list[dict]:
    return [{"role": "user", "content": q}]


def test_greedy_batched_equals_alone_equals_transformers_generate(engine):
    alone = [engine.infer([conv(q)], GREEDY)[0] for q in QUERIES]
    batched = engine.infer([conv(q) for q in QUERIES], GREEDY)
    assert [a.token_ids for a in alone] == [b.token_ids for b in batched]
    assert [a.text for a in alone] == [b.text for b in batched]
    assert len({tuple(a.token_ids) for a in alone}) > 1 and len(set(alone[2].token_ids)) > 3
    hf_cfg = RequestConfig(max_new_tokens=8, temperature=0, repetition_penalty=1.5)
    ours = engine.infer([conv(q) for q in QUERIES[:3]], hf_cfg)
    for q, a in zip(QUERIES[:3], ours):
        prompt = engine.encode(conv(q))
        ids = torch.tensor([prompt])
        ref = engine.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8,
                                    do_sample=False, repetition_penalty=1.5)[0, len(prompt):].tolist()
        assert ref == a.token_ids
        assert a.prompt_tokens == len(prompt) and a.completion_tokens == len(a.token_ids) == 8


def test_seeded_sampling_is_the_same_batched_or_alone(engine):
    cfg = RequestConfig(max_new_tokens=10, temperature=1.0, top_k=50, top_p=0.9, seed=1234)
    alone = [engine.infer([conv(q)], cfg)[0].token_ids for q in QUERIES[:4]]
    batched = [c.token_ids for c in engine.infer([conv(q) for q in QUERIES[:4]], cfg)]
    assert alone == batched
    other = engine.infer([conv(QUERIES[0])], RequestConfig(max_new_tokens=10, temperature=1.0, top_k=50, top_p=0.9,
                                                           seed=99))[0].token_ids
    assert other != alone[0]


def test_requests_that_join_a_running_batch_get_the_same_answers(engine):
    """A long request runs; others join after a few steps, a short one leaves early."""
    long_cfg = RequestConfig(max_new_tokens=24, temperature=0, presence_penalty=2.0)
    short_cfg = RequestConfig(max_new_tokens=3, temperature=0, presence_penalty=2.0)
    jobs = [(QUERIES[2], long_cfg), (QUERIES[0], short_cfg), (QUERIES[4], GREEDY), (QUERIES[5], long_cfg)]
    expected = [engine.infer([conv(q)], c)[0].token_ids for q, c in jobs]

    got: dict[int, list[int]] = {i: [] for i in range(len(jobs))}
    done = [threading.Event() for _ in jobs]
    third_token = threading.Event()

    def sink(i):
        def receive(ev):
            got[i].extend(ev.token_ids)
            if i == 0 and len(got[0]) >= 3:
                third_token.set()
            if ev.finished:
                done[i].set()
        return receive

    engine.submit(engine.encode(conv(jobs[0][0])), jobs[0][1], sink(0))
    assert third_token.wait(60)
    for i in (1, 2):
        engine.submit(engine.encode(conv(jobs[i][0])), jobs[i][1], sink(i))
    assert done[1].wait(60)
    engine.submit(engine.encode(conv(jobs[3][0])), jobs[3][1], sink(3))
    for d in done:
        assert d.wait(60)
    assert [got[i] for i in range(len(jobs))] == expected


def test_stream_deltas_add_up_to_the_answer_and_stop_strings_cut_it(engine):
    full = engine.infer([conv(QUERIES[2])], GREEDY)[0]
    assert "".join(engine.stream(conv(QUERIES[2]), GREEDY)) == full.text
    stop = full.text[len(full.text) // 2:len(full.text) // 2 + 3]
    assert stop.strip()
    cut = full.text[:full.text.index(stop)]
    cfg = RequestConfig(max_new_tokens=12, temperature=0, presence_penalty=2.0, stop=[stop])
    res = engine.infer([conv(QUERIES[2])], cfg)[0]
    assert res.text == cut and res.finish_reason == "stop"
    assert "".join(engine.stream(conv(QUERIES[2]), cfg)) == cut
    assert full.finish_reason == "length"


def test_stop_tokens_end_the_answer_without_showing(engine):
    prompt = engine.encode(conv("hi"))
    with torch.no_grad():
        first = int(engine.model(torch.tensor([prompt])).logits[0, -1].argmax())
    word = engine.tokenizer.decode([first])
    res = engine.infer([conv("hi")], RequestConfig(max_new_tokens=5, temperature=0, stop=[word]))[0]
    assert res.text == "" and res.finish_reason == "stop"
    assert engine.tokenizer.convert_tokens_to_ids("<|im_end|>") in engine.eos_token_ids


def test_closing_a_stream_early_frees_its_row(engine):
    gen = engine.stream(conv(QUERIES[2]), RequestConfig(max_new_tokens=200, temperature=0))
    next(gen)
    gen.close()
    # the worker drops the aborted row at its next step; a new request still runs fine
    assert engine.infer([conv("hi")], RequestConfig(max_new_tokens=2, temperature=0))[0].completion_tokens == 2
    assert engine.stats.running == 0


def test_logprobs_are_the_models(engine):
    prompt = engine.encode(conv("hello"))
    cfg = RequestConfig(max_new_tokens=2, temperature=0, logprobs=True, top_logprobs=3)
    res = engine.infer([conv("hello")], cfg)[0]
    with torch.no_grad():
        ref = engine.model(torch.tensor([prompt])).logits[0, -1].float().log_softmax(-1)
    first = res.logprobs[0]
    assert first.token_id == int(ref.argmax())
    assert first.logprob == pytest.approx(float(ref.max()), abs=1e-4)
    assert [t for t, _ in first.top] == ref.topk(3).indices.tolist()


def test_prompt_longer_than_the_context_gives_an_empty_cut_answer(engine):
    long = engine.infer([conv("word " * 3000)], GREEDY)[0]
    assert long.text == "" and long.finish_reason == "length"
    with pytest.raises(Exception, match="context"):
        engine.submit(engine.encode(conv("word " * 3000)), GREEDY, lambda ev: None)


def test_beam_search_still_works(engine):
    res = engine.infer([conv("hello")], RequestConfig(max_new_tokens=5, num_beams=2, temperature=0))[0]
    assert res.completion_tokens <= 5 and res.finish_reason in ("stop", "length")


def test_an_idle_worker_ends_and_a_new_request_starts_another(engine):
    import time

    engine.scheduler.idle_exit_s = 0.05
    try:
        engine.infer([conv("hi")], RequestConfig(max_new_tokens=1, temperature=0))
        deadline = time.monotonic() + 10
        while engine.scheduler._thread is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert engine.scheduler._thread is None
        assert engine.infer([conv("hi")], RequestConfig(max_new_tokens=2, temperature=0))[0].completion_tokens == 2
    finally:
        engine.scheduler.idle_exit_s = 30.0


def test_a_request_that_cannot_be_sampled_fails_alone(engine, monkeypatch):
    """When choosing one request's token raises, that request ends with an error and the batch goes on."""
    from sartor.infer import scheduler

    real = scheduler.choose_tokens

    def fragile(logits, params, *rest):
        if any(p.seed == 666 for p in params):
            raise RuntimeError("probability tensor contains inf")
        return real(logits, params, *rest)

    monkeypatch.setattr(scheduler, "choose_tokens", fragile)
    bad = RequestConfig(max_new_tokens=6, temperature=1.0, seed=666)
    results = {}

    def run(key, cfg, q):
        try:
            results[key] = engine.infer([conv(q)], cfg)[0]
        except RuntimeError as e:  # infer raises the request's error
            results[key] = e

    threads = [threading.Thread(target=run, args=(k, c, q))
               for k, c, q in [("a", GREEDY, QUERIES[0]), ("bad", bad, QUERIES[1]), ("b", GREEDY, QUERIES[2])]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert isinstance(results["bad"], RuntimeError) and "inf" in str(results["bad"])
    monkeypatch.setattr(scheduler, "choose_tokens", real)
    assert results["a"].token_ids == engine.infer([conv(QUERIES[0])], GREEDY)[0].token_ids
    assert results["b"].token_ids == engine.infer([conv(QUERIES[2])], GREEDY)[0].token_ids
