"""VllmEngine's plumbing on CPU, over a fake `vllm` module injected into sys.modules.

The fake AsyncLLM answers every prompt with a fixed reply, with vLLM's documented output behaviour:
cumulative RequestOutputs, stop token ids, stop strings cut out of the text (and held back while
streaming), max_tokens, logprobs as {token id: Logprob}. What is checked here is sartor's side: template
ids in, SamplingParams, LoRARequests, events, Completions, streaming, abort, close, the deploy routes."""
import asyncio
import dataclasses
import json
import sys
import time
import types
from typing import Any, Optional

import pytest

from sartor.infer.engine import RequestConfig
from sartor.infer.vllm_engine import VllmEngine
from sartor.model.tiny import get_tiny_tokenizer
from sartor.template import get_template
from sartor.utils.errors import SartorError

REPLY = "I am a fake model."
GREEDY = RequestConfig(max_new_tokens=64, temperature=0)


class SamplingParams:
    def __init__(self, **kwargs):
        if not 0 <= kwargs.get("temperature", 1.0) <= 2:
            raise ValueError("temperature must be in [0, 2]")
        self.__dict__.update(kwargs)
        self.kwargs = kwargs


@dataclasses.dataclass
class AsyncEngineArgs:
    model: str
    tokenizer: Optional[str] = None
    dtype: str = "auto"
    gpu_memory_utilization: float = 0.9
    tensor_parallel_size: int = 1
    max_model_len: Optional[int] = None
    enforce_eager: bool = False
    trust_remote_code: bool = False
    disable_log_stats: bool = False
    quantization: Optional[str] = None
    max_num_seqs: Optional[int] = None
    enable_lora: bool = False
    max_lora_rank: int = 16
    max_loras: int = 1


class LoRARequest:
    def __init__(self, lora_name: str, lora_int_id: int, lora_path: str):
        self.lora_name, self.lora_int_id, self.lora_path = lora_name, lora_int_id, lora_path


@dataclasses.dataclass
class Logprob:
    logprob: float
    rank: Optional[int] = None


@dataclasses.dataclass
class CompletionOutput:
    text: str
    token_ids: list
    finish_reason: Optional[str]
    logprobs: Any = None


@dataclasses.dataclass
class RequestOutput:
    outputs: list
    finished: bool


class AsyncLLM:
    instances: list = []
    tokenizer: Any = None
    step_s = 0.0

    def __init__(self, args: AsyncEngineArgs):
        self.args = args
        self.calls: list = []
        self.aborted: list = []
        self.shut_down = False
        self.model_config = types.SimpleNamespace(max_model_len=args.max_model_len or 2048)

    @classmethod
    def from_engine_args(cls, args):
        engine = cls(args)
        cls.instances.append(engine)
        return engine

    async def generate(self, prompt, params, request_id, lora_request=None):
        self.calls.append((prompt, params, request_id, lora_request))
        tok = self.tokenizer
        reply = REPLY + (f" [{lora_request.lora_name}]" if lora_request else "")
        tokens = tok(reply, add_special_tokens=False)["input_ids"] + [tok.convert_tokens_to_ids("<|im_end|>")]
        hold = max((len(s) for s in params.stop), default=1) - 1
        ids: list = []
        logprobs: list = []
        for t in tokens:
            await asyncio.sleep(self.step_s)
            ids.append(t)
            if params.logprobs is not None:
                logprobs.append({t: Logprob(-0.5, 1), t + 1: Logprob(-1.5, 2), t + 2: Logprob(-2.5, 3)})
            text = tok.decode(ids, skip_special_tokens=True)
            finish = "stop" if t in params.stop_token_ids else None
            for s in params.stop:
                if s in text:
                    text, finish = text[:text.index(s)], "stop"
            if finish is None and len(ids) >= params.max_tokens:
                finish = "length"
            shown = text if finish or not hold else text[:max(0, len(text) - hold)]
            output = CompletionOutput(shown, list(ids), finish, list(logprobs) or None)
            yield RequestOutput([output], finish is not None)
            if finish:
                return

    async def abort(self, request_id):
        self.aborted.append(request_id)

    def shutdown(self):
        self.shut_down = True


@pytest.fixture
def fake_vllm(monkeypatch):
    vllm = types.ModuleType("vllm")
    vllm.SamplingParams, vllm.AsyncEngineArgs, vllm.AsyncLLMEngine = SamplingParams, AsyncEngineArgs, AsyncLLM
    lora, lora_request, inputs = (types.ModuleType(n) for n in ("vllm.lora", "vllm.lora.request", "vllm.inputs"))
    lora_request.LoRARequest = LoRARequest
    inputs.TokensPrompt = lambda prompt_token_ids: {"prompt_token_ids": prompt_token_ids}
    for name, module in [("vllm", vllm), ("vllm.lora", lora), ("vllm.lora.request", lora_request),
                         ("vllm.inputs", inputs)]:
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(AsyncLLM, "instances", [])
    monkeypatch.setattr(AsyncLLM, "tokenizer", get_tiny_tokenizer())
    return vllm


@pytest.fixture
def make_engine(fake_vllm, tiny_dir):
    engines = []

    def make(**kwargs) -> VllmEngine:
        tok = get_tiny_tokenizer()
        engine = VllmEngine(tiny_dir, tok, get_template("chatml", tok), {"dtype": "float16", "not_in_vllm": 1},
                            **kwargs)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


def make_adapter(path, rank: int) -> str:
    path.mkdir()
    (path / "adapter_config.json").write_text(json.dumps({"r": rank, "lora_alpha": 16, "peft_type": "LORA"}))
    return str(path)


def conv(q: str) -> list[dict]:
    return [{"role": "user", "content": q}]


def test_infer_sends_template_ids_and_greedy_params(make_engine):
    engine = make_engine()
    out = engine.infer([conv("who are you?"), conv("hi")], GREEDY)
    assert [o.text for o in out] == [REPLY, REPLY] and {o.finish_reason for o in out} == {"stop"}
    (vllm_engine,) = AsyncLLM.instances
    prompts = sorted(call[0]["prompt_token_ids"] for call in vllm_engine.calls)
    assert prompts == sorted([engine.encode(conv("who are you?")), engine.encode(conv("hi"))])
    assert out[0].prompt_tokens == len(engine.encode(conv("who are you?")))
    assert out[0].completion_tokens == len(out[0].token_ids) and out[0].token_ids[-1] == 2  # <|im_end|>
    params = vllm_engine.calls[0][1].kwargs
    assert params["temperature"] == 0.0 and params["top_k"] == -1 and params["top_p"] == 1.0
    assert params["stop_token_ids"] == [0, 2] and params["stop"] == []  # the template's stops are special tokens
    assert params["max_tokens"] == 64 and vllm_engine.calls[0][3] is None
    stats = engine.stats
    assert stats.finished_requests == 2 and stats.generated_tokens == 2 * len(out[0].token_ids)
    assert stats.prompt_tokens == sum(o.prompt_tokens for o in out) and stats.running == stats.waiting == 0


def test_engine_arguments_reach_vllm_and_unknown_ones_are_dropped(make_engine):
    engine = make_engine(max_model_len=300)
    engine.wait_ready(30)
    (vllm_engine,) = AsyncLLM.instances
    assert vllm_engine.args.model == engine.model_dir and vllm_engine.args.dtype == "float16"
    assert vllm_engine.args.max_model_len == 300 and vllm_engine.args.enable_lora is False
    assert engine.max_model_len == 300


def test_stream_equals_infer_and_stop_strings_are_cut(make_engine):
    engine = make_engine()
    assert "".join(engine.stream(conv("hi"), GREEDY)) == REPLY
    cfg = dataclasses.replace(GREEDY, stop=["fake"])
    pieces = list(engine.stream(conv("hi"), cfg))
    assert "".join(pieces) == "I am a " and len(pieces) > 1
    out = engine.infer([conv("hi")], cfg)[0]
    assert out.text == "I am a " and out.finish_reason == "stop"
    assert AsyncLLM.instances[0].calls[-1][1].kwargs["stop"] == ["fake"]


def test_max_new_tokens_ends_with_length(make_engine):
    out = make_engine().infer([conv("hi")], dataclasses.replace(GREEDY, max_new_tokens=3))[0]
    assert out.finish_reason == "length" and out.completion_tokens == 3 == len(out.token_ids)


def test_logprobs_become_token_choices(make_engine):
    cfg = dataclasses.replace(GREEDY, logprobs=True, top_logprobs=2)
    out = make_engine().infer([conv("hi")], cfg)[0]
    assert len(out.logprobs) == len(out.token_ids)
    first = out.logprobs[0]
    t = out.token_ids[0]
    assert first.token_id == t and first.logprob == -0.5 and first.top == [(t, -0.5), (t + 1, -1.5)]


def test_lora_checkpoint_and_named_adapters(make_engine, tmp_path):
    engine = make_engine(lora_checkpoint=make_adapter(tmp_path / "ckpt-3", 8))
    engine.add_adapter("big", make_adapter(tmp_path / "big", 12))
    assert engine.adapters.paths == {"big": str(tmp_path / "big")}
    default, big = (engine.infer([conv("hi")], GREEDY, adapter=a)[0].text for a in (None, "big"))
    assert default == REPLY + " [ckpt-3]" and big == REPLY + " [big]"
    (vllm_engine,) = AsyncLLM.instances
    args = vllm_engine.args
    assert args.enable_lora is True and args.max_lora_rank == 16 and args.max_loras == 2
    loras = [call[3] for call in vllm_engine.calls]
    assert [r.lora_path for r in loras] == [str(tmp_path / "ckpt-3"), str(tmp_path / "big")]
    assert len({r.lora_int_id for r in loras}) == 2 and all(r.lora_int_id > 0 for r in loras)
    with pytest.raises(SartorError, match="no adapter named 'nope'"):
        engine.infer([conv("hi")], GREEDY, adapter="nope")
    engine.add_adapter("small", make_adapter(tmp_path / "small", 4))  # fits the running engine's slots
    assert engine.infer([conv("hi")], GREEDY, adapter="small")[0].text == REPLY + " [small]"
    with pytest.raises(SartorError, match="does not fit the running vLLM engine"):
        engine.add_adapter("huge", make_adapter(tmp_path / "huge", 64))


def test_adapters_on_a_plain_model_after_start_are_refused(make_engine, tmp_path):
    engine = make_engine()
    engine.infer([conv("hi")], GREEDY)
    with pytest.raises(SartorError, match="LoRA off"):
        engine.add_adapter("late", make_adapter(tmp_path / "late", 8))


def test_user_errors_before_anything_runs(make_engine):
    engine = make_engine()
    with pytest.raises(SartorError, match="beam search"):
        engine.infer([conv("hi")], dataclasses.replace(GREEDY, num_beams=2))
    with pytest.raises(SartorError, match="rejects these sampling settings"):
        engine.submit([1, 2], RequestConfig(temperature=5.0), lambda ev: None)
    with pytest.raises(SartorError, match="the prompt is empty"):
        engine.submit([], GREEDY, lambda ev: None)
    with pytest.raises(SartorError, match="context is"):
        engine.submit([1] * 5000, GREEDY, lambda ev: None)
    assert not engine.started


def test_leaving_a_stream_early_aborts_the_request(make_engine, monkeypatch):
    monkeypatch.setattr(AsyncLLM, "step_s", 0.01)
    engine = make_engine()
    stream = engine.generate(engine.encode(conv("hi")), GREEDY)
    next(stream)
    stream.close()
    vllm_engine = AsyncLLM.instances[0]
    deadline = time.monotonic() + 5
    while not vllm_engine.aborted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert vllm_engine.aborted == [vllm_engine.calls[0][2]]


def test_close_fails_running_requests_and_shuts_vllm_down(make_engine, monkeypatch):
    import threading

    monkeypatch.setattr(AsyncLLM, "step_s", 0.05)
    engine = make_engine()
    events, done = [], threading.Event()

    def sink(ev):
        events.append(ev)
        if ev.finished:
            done.set()

    engine.submit(engine.encode(conv("hi")), GREEDY, sink)
    engine.wait_ready(30)
    engine.close()
    assert done.wait(5) and events[-1].finish_reason == "error"
    assert AsyncLLM.instances[0].shut_down
    with pytest.raises(RuntimeError, match="closed"):
        engine.submit([1, 2], GREEDY, sink)


def test_deploy_routes_run_on_the_vllm_engine(make_engine):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from sartor.deploy import build_app

    client = TestClient(build_app(make_engine(), "tiny"))
    body = {"model": "tiny", "messages": conv("who are you?"), "temperature": 0, "max_tokens": 50}
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    choice = r.json()["choices"][0]
    assert choice["message"]["content"] == REPLY and choice["finish_reason"] == "stop"
    with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as s:
        chunks = [json.loads(line[6:]) for line in s.iter_lines() if line.startswith("data: {")]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == REPLY
    r = client.post("/v1/completions", json={"model": "tiny", "prompt": "hello", "max_tokens": 4, "temperature": 0})
    assert r.status_code == 200 and r.json()["choices"][0]["finish_reason"] == "length"
    r = client.post("/v1/chat/completions", json={**body, "max_tokens": 10**6})
    assert r.status_code == 400 and "context length" in r.json()["error"]["message"]
