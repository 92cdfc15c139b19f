"""`sartor deploy` end to end: a real server on a loopback port, driven by the official openai client."""
import copy
import functools
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
import torch

openai = pytest.importorskip("openai")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from sartor.arguments import DeployArguments  # noqa: E402
from sartor.infer.engine import RequestConfig  # noqa: E402

KEY = "sk-test-key"
NAME = "tiny-chat"
MSGS = [{"role": "user", "content": "who are you?"}]


@functools.lru_cache(maxsize=1)
def _base_model():
    from sartor.model.tiny import build_tiny_model

    return build_tiny_model()[0]


def make_adapter(path, seed: int) -> str:
    """A LoRA adapter with random (non-zero) weights, so it visibly changes the answers."""
    from peft import LoraConfig, get_peft_model

    model = copy.deepcopy(_base_model())
    torch.manual_seed(seed)
    config = LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"], init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(str(path))
    return str(path)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """One torch thread: on a shared 2-core machine, two threads (plus the server's) wait on each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def served(tmp_path_factory, one_torch_thread):
    """(base url, engine): the server in a thread of this process, stopped after the module."""
    from sartor.deploy import build_app
    from sartor.deploy.server import RunningServer, prepare_deploy

    root = tmp_path_factory.mktemp("deploy")
    a, b = make_adapter(root / "lora-a", 1), make_adapter(root / "lora-b", 2)
    args = DeployArguments(model="tiny", adapters=[f"a={a}", f"b={b}"], served_model_name=NAME, api_key=KEY,
                           temperature=0, max_new_tokens=12, max_batch_size=8)
    engine, models, defaults = prepare_deploy(args)
    server = RunningServer(build_app(engine, models, defaults, api_key=KEY), host="127.0.0.1", port=0)
    try:
        yield server.url, engine
    finally:
        server.stop()
        engine.close()


@pytest.fixture(scope="module")
def client(served):
    return openai.OpenAI(base_url=served[0] + "/v1", api_key=KEY, max_retries=0, timeout=120)


class Response:
    def __init__(self, status: int, headers: dict, text: str) -> None:
        self.status_code, self.headers, self.text = status, headers, text

    def json(self) -> dict:
        return json.loads(self.text)


def request(url: str, body: bytes | None = None, key: str | None = KEY, timeout: float = 60) -> Response:
    """A raw HTTP request (GET without a body, POST with one), whatever the status."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode())
    except urllib.error.HTTPError as e:
        return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode())


def post(served, path: str, content: bytes, key: str = KEY) -> Response:
    return request(served[0] + path, content, key)


def chat_body(**fields) -> bytes:
    return json.dumps({"model": NAME, "messages": [{"role": "user", "content": "x"}], **fields}).encode()


def expected(engine, messages, adapter=None, **cfg) -> str:
    config = RequestConfig(**{"max_new_tokens": 12, "temperature": 0, **cfg})
    return engine.infer([messages], config, adapter=adapter)[0].text


def test_health_needs_no_key_and_models_lists_base_and_adapters(served, client):
    r = request(served[0] + "/health", key=None)
    assert r.status_code == 200
    assert [m.id for m in client.models.list().data] == [NAME, "a", "b"]


def test_plain_chat_matches_the_engine_and_counts_tokens(served, client):
    r = client.chat.completions.create(model=NAME, messages=MSGS, max_tokens=8)
    choice = r.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == expected(served[1], MSGS, max_new_tokens=8)
    assert choice.finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens == len(served[1].encode(MSGS))
    assert 0 < r.usage.completion_tokens <= 8
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.id.startswith("chatcmpl-") and r.object == "chat.completion" and r.model == NAME


def test_streaming_chat_sends_the_same_text_and_ends_with_done(served, client):
    whole = client.chat.completions.create(model=NAME, messages=MSGS).choices[0].message.content
    chunks = list(client.chat.completions.create(model=NAME, messages=MSGS, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes in (["stop"], ["length"])
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    body = json.dumps({"model": NAME, "messages": MSGS, "stream": True, "max_tokens": 3}).encode()
    raw = post(served, "/v1/chat/completions", body)
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/event-stream")
    events = [line for line in raw.text.splitlines() if line]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"


def test_multi_turn_chat(served, client):
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "Hello! How can I help?"},
                {"role": "user", "content": "tell me a joke"}]
    r = client.chat.completions.create(model=NAME, messages=messages)
    assert r.choices[0].message.content == expected(served[1], messages)
    assert r.usage.prompt_tokens == len(served[1].encode(messages))


def test_adapters_are_chosen_by_model_name(served, client):
    answers = {m: client.chat.completions.create(model=m, messages=MSGS).choices[0].message.content
               for m in (NAME, "a", "b")}
    assert answers[NAME] == expected(served[1], MSGS)
    assert answers["a"] == expected(served[1], MSGS, adapter="a")
    assert answers["b"] == expected(served[1], MSGS, adapter="b")
    assert len(set(answers.values())) == 3


def test_concurrent_requests_for_several_models_get_their_own_answers(served, client):
    models = [NAME, "a", "b", "a", NAME, "b", NAME, "a"]
    alone = {m: client.chat.completions.create(model=m, messages=MSGS).choices[0].message.content for m in set(models)}
    got: list = [None] * len(models)

    def ask(i: int, m: str) -> None:
        stream = client.chat.completions.create(model=m, messages=MSGS, stream=True)
        got[i] = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    threads = [threading.Thread(target=ask, args=(i, m)) for i, m in enumerate(models)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert got == [alone[m] for m in models]


def test_a_client_that_leaves_mid_stream_frees_its_slot(served, client):
    engine = served[1]
    stream = client.chat.completions.create(model=NAME, messages=MSGS, max_tokens=1500, stream=True)
    for _ in zip(range(3), stream):
        pass
    stream.close()
    deadline = time.monotonic() + 30
    while engine.stats.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.stats.running == 0 and engine.stats.waiting == 0


def test_sampling_n_seed_and_logprobs(client):
    kw = dict(model=NAME, messages=MSGS, max_tokens=6, temperature=1.0, top_p=0.95, seed=7)
    r1 = client.chat.completions.create(n=2, **kw)
    r2 = client.chat.completions.create(n=2, **kw)
    assert len(r1.choices) == 2 and [c.index for c in r1.choices] == [0, 1]
    assert [c.message.content for c in r1.choices] == [c.message.content for c in r2.choices]
    lp = client.chat.completions.create(model=NAME, messages=MSGS, max_tokens=4, logprobs=True, top_logprobs=3)
    content = lp.choices[0].logprobs.content
    assert len(content) == lp.usage.completion_tokens
    assert all(len(t.top_logprobs) == 3 and t.logprob <= 0 for t in content)
    assert content[0].logprob == pytest.approx(content[0].top_logprobs[0].logprob)  # greedy picks the most likely


def test_stop_words_cut_the_answer(served, client):
    full = client.chat.completions.create(model=NAME, messages=MSGS).choices[0].message.content
    stop = full.strip().split()[1]
    r = client.chat.completions.create(model=NAME, messages=MSGS, stop=[stop])
    assert r.choices[0].message.content == full[:full.index(stop)]
    assert r.choices[0].finish_reason == "stop"


def test_completions(served, client):
    r = client.completions.create(model=NAME, prompt="Once upon a time", max_tokens=5, temperature=0)
    assert r.object == "text_completion" and len(r.choices) == 1
    assert 0 < r.usage.completion_tokens <= 5
    assert r.usage.prompt_tokens == len(served[1].tokenizer("Once upon a time")["input_ids"])
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model=NAME, prompt="Once upon a time", max_tokens=5, temperature=0, stream=True) if c.choices)
    assert streamed == r.choices[0].text
    many = client.completions.create(model="a", prompt=["one", "two"], max_tokens=3, temperature=0)
    assert [c.index for c in many.choices] == [0, 1]


def test_wrong_or_missing_key_is_401(served):
    for key in ("wrong", ""):
        bad = openai.OpenAI(base_url=served[0] + "/v1", api_key=key or "x", max_retries=0)
        if not key:
            r = request(served[0] + "/v1/models", key=None)
            assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
            continue
        with pytest.raises(openai.AuthenticationError) as e:
            bad.chat.completions.create(model=NAME, messages=MSGS)
        assert e.value.status_code == 401


def test_bad_requests_are_openai_errors_never_5xx(served, client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=NAME, messages=MSGS, max_tokens=-1)
    assert e.value.body["param"] == "max_tokens"
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="no-such-model", messages=MSGS)
    assert e.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=NAME, messages=[{"role": "user", "content": "word " * 3000}])
    assert e.value.body["code"] == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=NAME, messages=MSGS, max_tokens=2040)
    image = [{"type": "image_url", "image_url": {"url": "x"}}]
    bodies = [b"{not json", b"", b"[]", b"null", b'"text"', json.dumps({"model": NAME}).encode(),
              chat_body(messages="hi"), chat_body(messages=[]),
              chat_body(messages=[{"role": "wizard", "content": "x"}]),
              chat_body(temperature="hot"), chat_body(n=0), chat_body(top_p=0), chat_body(stop=5),
              chat_body(messages=[{"role": "user", "content": image}]),
              chat_body(tools=[{"type": "function", "function": {"name": "f"}}]),  # chatml has no tool format
              chat_body(top_logprobs=3)]
    for body in bodies:
        r = post(served, "/v1/chat/completions", body)
        assert r.status_code in (400, 422), (body, r.status_code, r.text)
        err = r.json()["error"]
        assert set(err) == {"message", "type", "param", "code"} and err["message"], body
    r = post(served, "/v1/chat/completions", b"[" * 100000 + b"]" * 100000)  # nested past the JSON parser's depth
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    for body in [b'{"model": "tiny-chat", "prompt": [99999999]}', b'{"model": "tiny-chat", "prompt": ""}',
                 b'{"model": "tiny-chat", "prompt": "x", "max_tokens": 0}', b'{"model": "tiny-chat", "prompt": []}',
                 b'{"model": "tiny-chat", "prompt": "\\ud800"}']:  # a lone surrogate: no tokenizer reads it
        r = post(served, "/v1/completions", body)
        assert r.status_code == 400, (body, r.text)
    r = post(served, "/v1/completions", json.dumps({"model": NAME, "prompt": "word " * 3000}).encode())
    assert r.status_code == 400 and r.json()["error"]["param"] == "prompt"
    assert request(served[0] + "/v1/nothing").status_code == 404


def test_extreme_sampling_settings_answer_and_spare_the_others(served, client):
    """A temperature or penalty so small that sampling overflows is answered as its limit (greedy), and never
    fails the other requests in the same batch."""
    greedy = client.chat.completions.create(model=NAME, messages=MSGS, max_tokens=8, temperature=0).choices[0]
    results: dict = {}

    def ask(key, **kw):
        try:
            results[key] = client.chat.completions.create(model=NAME, messages=MSGS, max_tokens=8, **kw).choices[0]
        except Exception as e:  # noqa: BLE001 - recorded for the assertion below
            results[key] = e

    threads = [threading.Thread(target=ask, args=("tiny_t",), kwargs={"temperature": 1e-300}),
               threading.Thread(target=ask, args=("penalty",), kwargs={"extra_body": {"repetition_penalty": 1e-300}}),
               threading.Thread(target=ask, args=("normal",), kwargs={"temperature": 0.7, "seed": 1})]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(not isinstance(v, Exception) for v in results.values()), results
    assert results["tiny_t"].message.content == greedy.message.content


def test_cli_serves_and_stops(tmp_path):
    """`python -m sartor deploy` on a free port: it answers, checks the key, and exits when told to."""
    env = {**os.environ, "SARTOR_LOG_LEVEL": "INFO", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sartor", "deploy", "--model", "tiny", "--port", "0",
                             "--api_key", KEY, "--max_new_tokens", "4", "--log_interval", "0.5"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=tmp_path, env=env)
    try:
        url, lines, deadline = None, [], time.monotonic() + 240
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if m := re.search(r"serving tiny at (http://127\.0\.0\.1:\d+)/v1", line):
                url = m.group(1)
        assert url, "".join(lines)[-3000:]
        deadline = time.monotonic() + 60
        while request(url + "/health", key=None).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert request(url + "/v1/models", key=None).status_code == 401
        c = openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0, timeout=60)
        assert c.chat.completions.create(model="tiny", messages=MSGS).usage.completion_tokens <= 4
        time.sleep(1.2)  # one --log_interval tick after the traffic
    finally:
        proc.terminate()
        try:
            rest = proc.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:
            proc.kill()
            rest = proc.communicate(timeout=10)[1]
    assert proc.returncode is not None
    assert "throughput:" in rest and "tok/s" in rest, rest[-2000:]
