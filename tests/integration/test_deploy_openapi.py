"""/openapi.json describes the server: schemathesis generates requests from it (valid and invalid ones) against a
real tiny-model server, and every answer must be documented there, and never a 5xx."""
import zlib

import pytest
import torch

schemathesis = pytest.importorskip("schemathesis")
httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from hypothesis import HealthCheck, settings  # noqa: E402

from deploy_server import NAME, tiny_engine  # noqa: E402

KEY = "sk-schema"
AUTH = {"Authorization": f"Bearer {KEY}"}
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_schema_conformance]


@pytest.fixture(scope="module")
def server_url():
    from sartor.deploy import build_app
    from sartor.deploy.server import RunningServer

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with tiny_engine(max_new_tokens=2) as tiny, RunningServer(build_app(*tiny, api_key=KEY)) as server:
            yield server.url
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def api_schema(server_url):
    return schemathesis.openapi.from_url(server_url + "/openapi.json", headers=AUTH)


def test_the_schema_names_every_route_and_its_bodies(server_url):
    assert httpx.get(server_url + "/openapi.json").status_code == 401  # behind the key, as every route but /health
    spec = httpx.get(server_url + "/openapi.json", headers=AUTH).json()
    assert {(p, m) for p, ops in spec["paths"].items() for m in ops} == {
        ("/health", "get"), ("/health", "head"), ("/v1/models", "get"), ("/v1/models/{model_id}", "get"),
        ("/v1/chat/completions", "post"), ("/v1/completions", "post")}
    chat = spec["paths"]["/v1/chat/completions"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ChatCompletionRequest"}
    assert set(chat["responses"]) == {"200", "400", "401", "404", "413", "415"}
    assert set(chat["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    schemas = spec["components"]["schemas"]
    chat_fields = set(schemas["ChatCompletionRequest"]["properties"])
    assert {"messages", "model", "max_tokens", "temperature", "stream"} <= chat_fields
    assert set(schemas["ChatCompletionRequest"]["required"]) == {"model", "messages"}
    assert set(schemas["CompletionRequest"]["required"]) == {"model", "prompt"}
    assert "HTTPValidationError" not in schemas  # validation errors are 400s with an ErrorResponse
    assert "security" not in spec["paths"]["/health"]["get"] and chat["security"] == [{"bearer": []}]


def keep_it_small(case) -> None:
    """Few tokens and few choices, so that every generated request answers in a moment on a CPU; and a
    served model name half the time, so that requests get past the model lookup."""
    body = case.body
    if not isinstance(body, dict):
        return
    for field in ("max_tokens", "max_completion_tokens"):
        if isinstance(body.get(field), int) and body[field] > 3:
            body[field] = 3
    if isinstance(body.get("n"), int) and body["n"] > 2:
        body["n"] = 2
    if isinstance(body.get("prompt"), list) and len(body["prompt"]) > 2:
        body["prompt"] = body["prompt"][:2]
    if "model" in body and zlib.crc32(repr(body).encode()) % 2:  # deterministic: hypothesis replays cases
        body["model"] = NAME


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented_and_none_is_a_server_error(case, server_url):
    keep_it_small(case)
    case.call_and_validate(base_url=server_url, headers=AUTH, checks=CHECKS, timeout=120)
