"""`sartor deploy` against hostile or careless clients: non-JSON bodies, huge bodies and prompts, clients that
leave early, a server exposed with no key. A real server on a loopback port (helpers in deploy_server.py)."""
import json
import threading
import time

import pytest
import torch

httpx = pytest.importorskip("httpx")
openai = pytest.importorskip("openai")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from deploy_server import NAME, CliServer, connect, json_post, read_response, request_head, tiny_engine  # noqa: E402

CHAT = {"model": NAME, "messages": [{"role": "user", "content": "who are you?"}], "max_tokens": 4}


@pytest.fixture(scope="module")
def tiny():
    """(engine, served models, defaults), on one torch thread (a shared 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tiny_engine(max_new_tokens=8) as t:
            yield t
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def url(tiny):
    from sartor.deploy import build_app
    from sartor.deploy.server import RunningServer

    with RunningServer(build_app(*tiny)) as server:
        yield server.url


def wait_until(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_post_bodies_that_are_not_json_are_415_and_generate_nothing(url, tiny):
    """A web page can make a browser POST text/plain or a form to 127.0.0.1 without a CORS preflight."""
    engine = tiny[0]
    before = engine.stats.prompt_tokens
    body = json.dumps(CHAT).encode()
    for path in ("/v1/chat/completions", "/v1/completions"):
        for content_type in ("text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                             "multipart/form-data; boundary=x", None):
            headers = {"Content-Type": content_type} if content_type else {}
            r = httpx.post(url + path, content=body, headers=headers, timeout=60)
            assert r.status_code == 415, (path, content_type, r.text)
            err = r.json()["error"]
            assert err["code"] == "unsupported_media_type" and "application/json" in err["message"]
    assert engine.stats.prompt_tokens == before  # nothing reached the model
    r = httpx.post(url + "/v1/chat/completions", content=body, timeout=60,
                   headers={"Content-Type": "Application/JSON; charset=utf-8"})
    assert r.status_code == 200, r.text
    client = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=60)
    assert client.chat.completions.create(**CHAT).usage.completion_tokens <= 4


def test_a_body_longer_than_the_limit_is_413_before_it_is_read(url):
    """The default limit is 16 MiB; a Content-Length past it is answered at once, from the headers."""
    with connect(url) as sock:
        sock.sendall(request_head("/v1/completions", {"Content-Type": "application/json",
                                                      "Content-Length": str(64 * 1024 * 1024)}) + b'{"model": ')
        status, body = read_response(sock)  # the other 64 MiB were never sent
    assert status == 413 and body["error"]["code"] == "request_too_large", body
    assert "16777216 bytes" in body["error"]["message"]


def test_a_chunked_body_is_cut_off_at_the_limit(tiny):
    """Without a Content-Length the server counts the bytes as they come, and stops past --max_request_body_mb."""
    from sartor.deploy import build_app
    from sartor.deploy.server import RunningServer

    limit = 64 * 1024
    with RunningServer(build_app(*tiny, max_body_bytes=limit)) as server:
        chunk = b'{"model": "' + b"x" * limit
        with connect(server.url) as sock:  # one chunk just past the limit, and the body never ends
            sock.sendall(request_head("/v1/completions", {"Content-Type": "application/json",
                                                          "Transfer-Encoding": "chunked"})
                         + f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            status, body = read_response(sock)
        assert status == 413 and body["error"]["code"] == "request_too_large", body
        padded = json.dumps({**CHAT, "user": " " * (limit - 200)}).encode()  # under the limit: served
        assert len(padded) < limit
        r = httpx.post(server.url + "/v1/chat/completions", content=padded, timeout=60,
                       headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text


def test_a_huge_prompt_does_not_stall_other_requests(url):
    """Tokenising a 4 MB prompt takes seconds; /health keeps answering meanwhile (the prompt is tokenised off
    the event loop). Relative, not absolute: no gap between /health answers may take half the big request."""
    prompt = "word " * 800_000
    done: dict = {}

    def big() -> None:
        t0 = time.monotonic()
        r = httpx.post(url + "/v1/completions", json={"model": NAME, "prompt": prompt, "max_tokens": 1},
                       timeout=600)
        done.update(status=r.status_code, body=r.json(), seconds=time.monotonic() - t0)

    thread = threading.Thread(target=big)
    answers = [time.monotonic()]
    thread.start()
    with httpx.Client(base_url=url, timeout=600) as client:
        while thread.is_alive():
            assert client.get("/health").status_code == 200
            answers.append(time.monotonic())
            time.sleep(0.01)
    thread.join()
    assert done["status"] == 400 and done["body"]["error"]["code"] == "context_length_exceeded", done["body"]
    longest_gap = max(b - a for a, b in zip(answers, answers[1:]))
    print(f"/health: {len(answers) - 1} answers, the longest gap {longest_gap:.3f} s; "
          f"the prompt {done['seconds']:.2f} s")
    assert longest_gap < done["seconds"] / 2, (longest_gap, done["seconds"])


@pytest.mark.parametrize("path,body", [
    ("/v1/completions", {"model": NAME, "prompt": "Once upon a time", "max_tokens": 1500}),
    ("/v1/chat/completions", {**CHAT, "max_tokens": 1500}),
])
def test_a_client_that_leaves_a_non_streamed_request_frees_its_slot(url, tiny, path, body):
    """Generating 1500 tokens takes the tiny model seconds; once the client has gone, it stops within a few."""
    stats = tiny[0].stats
    assert wait_until(lambda: stats.running == 0 and stats.waiting == 0)
    before = stats.generated_tokens
    with connect(url) as sock:
        sock.sendall(json_post(path, body))
        assert wait_until(lambda: stats.generated_tokens >= before + 20), "the generation did not start"
    assert wait_until(lambda: stats.running == 0 and stats.waiting == 0)
    generated = stats.generated_tokens - before
    assert generated < 1000, f"{generated} tokens generated for a client that had left"


def test_cli_warns_when_exposed_without_a_key_and_logs_no_traceback_for_clients_that_leave(tmp_path):
    """--host 0.0.0.0 without --api_key is allowed but warned about. HEAD /health answers. Clients that leave
    mid-body or mid-generation are no server error: the log has no ERROR and no traceback."""
    server = CliServer("--host", "0.0.0.0", "--max_new_tokens", "4", "--log_interval", "0", cwd=str(tmp_path))
    problems = []  # every check runs, so a failure shows all that is wrong
    try:
        if "no --api_key" not in server.log or "--host 0.0.0.0" not in server.log:
            problems.append("no warning that the server is exposed without a key")
        r = httpx.head(server.url + "/health", timeout=60)
        if r.status_code != 200 or r.content:
            problems.append(f"HEAD /health: {r.status_code} {r.content!r}")
        with connect(server.url) as sock:  # announces 1000 bytes, sends 12, leaves
            sock.sendall(request_head("/v1/chat/completions", {"Content-Type": "application/json",
                                                               "Content-Length": "1000"}) + b'{"model": "t')
        with connect(server.url) as sock:  # leaves while its answer is generated
            sock.sendall(json_post("/v1/completions", {"model": "tiny", "prompt": "Once", "max_tokens": 1500}))
            time.sleep(1.0)
        with connect(server.url) as sock:  # and the server still serves
            sock.sendall(json_post("/v1/chat/completions", {**CHAT, "model": "tiny"}))
            status, body = read_response(sock)
        if status != 200 or body["usage"]["completion_tokens"] > 4:
            problems.append(f"chat after the clients left: {status} {body}")
        time.sleep(0.5)
    finally:
        log = server.stop()
    if "Traceback" in log or "ERROR" in log:
        problems.append("errors in the log:\n" + log[-4000:])
    assert not problems, "\n".join(problems)
