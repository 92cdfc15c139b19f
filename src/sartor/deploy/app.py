"""The FastAPI app of the OpenAI-compatible server, built around an engine (`build_app`).

Routes: GET and HEAD /health, GET /v1/models, GET /v1/models/{id}, POST /v1/chat/completions,
POST /v1/completions, GET /openapi.json. Every error is OpenAI-shaped; what a client sends never causes
a 5xx. POST bodies must be JSON and at most `max_body_bytes` long (guard.py); a non-streamed answer whose
client went away is cancelled (disconnect.py)."""
import asyncio
import hmac
import json
import time
from contextlib import asynccontextmanager
from typing import Any, Optional, Union

from ..infer.engine import PtEngine
from ..utils.lazy import require
from ..utils.logging import get_logger
from ..version import __version__
from .disconnect import ClientGone, until_disconnect
from .errors import APIError, error_body, validation_error
from .guard import RequestGuard
from .serving import SamplingDefaults, ServedModels

OPEN_PATHS = ("/health",)
DEFAULT_MAX_BODY = 16 * 1024 * 1024


class _BearerAuth:
    """ASGI middleware: every path except /health needs `Authorization: Bearer <key>`."""

    def __init__(self, app: Any, api_key: str) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS and scope.get("method") != "OPTIONS":
            headers = dict(scope.get("headers") or [])
            auth = headers.get(b"authorization", b"").decode("latin-1")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.api_key.encode()):
                from starlette.responses import JSONResponse

                body = error_body("Incorrect or missing API key. Send it as the header 'Authorization: Bearer <key>'.",
                                  "invalid_request_error", None, "invalid_api_key")
                await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _log_throughput(engine: PtEngine, interval: float) -> None:
    """A log line every `interval` seconds while there is traffic (and one more when it stops)."""
    log = get_logger()
    s = engine.stats
    last = (s.prompt_tokens, s.generated_tokens, s.finished_requests)
    t0, active = time.monotonic(), False
    while True:
        await asyncio.sleep(interval)
        now, cur = time.monotonic(), (s.prompt_tokens, s.generated_tokens, s.finished_requests)
        busy = cur != last or s.running or s.waiting
        if busy or active:
            dt = max(now - t0, 1e-9)
            log.info(f"throughput: prompt {(cur[0] - last[0]) / dt:.1f} tok/s, "
                     f"generation {(cur[1] - last[1]) / dt:.1f} tok/s, {(cur[2] - last[2]) / dt:.2f} req/s | "
                     f"running {s.running}, waiting {s.waiting}, finished {cur[2]}")
        active, last, t0 = bool(busy), cur, now


def build_app(engine: PtEngine, served: Union[ServedModels, str], defaults: Optional[SamplingDefaults] = None,
              api_key: Optional[str] = None, log_interval: float = 0.0, max_body_bytes: int = DEFAULT_MAX_BODY) -> Any:
    """The FastAPI app serving `engine`. `served` is the model name clients use (or a ServedModels with
    the adapters' names); the engine's adapters are served under their names."""
    require("fastapi", "deploy")
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response, StreamingResponse
    from pydantic import ValidationError
    from starlette.exceptions import HTTPException
    from starlette.requests import ClientDisconnect

    from .chat import chat_completion
    from .completions import completion
    from .openapi import DocumentedApp
    from .protocol import ChatCompletionRequest, CompletionRequest
    from .responses import (STREAM_MODELS, ChatCompletion, ChatCompletionChunk, Completion, CompletionChunk, Health,
                            ModelCard, ModelList, error_responses, event_stream)

    if isinstance(served, str):
        served = ServedModels(served, adapters=dict(engine.adapters.paths))
    defaults = defaults or SamplingDefaults()

    @asynccontextmanager
    async def lifespan(app: Any):
        task = asyncio.create_task(_log_throughput(engine, log_interval)) if log_interval and log_interval > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    bodies = {"/v1/chat/completions": ChatCompletionRequest, "/v1/completions": CompletionRequest}
    app = DocumentedApp(title="sartor", description="OpenAI-compatible server", version=__version__,
                        lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                        request_bodies=bodies, extra_models=STREAM_MODELS, open_paths=OPEN_PATHS,
                        bearer=bool(api_key))
    app.state.engine, app.state.served = engine, served
    app.add_middleware(RequestGuard, max_body=max_body_bytes, paths=bodies)
    if api_key:
        app.add_middleware(_BearerAuth, api_key=api_key)  # added last, so it runs first: 401 before 415/413

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> Any:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Any:
        err = validation_error(exc)
        return JSONResponse(err.body(), status_code=err.status)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Any:
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404:
            message = f"Unknown route {request.method} {request.url.path}"
        code = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(exc.status_code)
        return JSONResponse(error_body(message, "invalid_request_error", None, code), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(ClientGone)
    async def _gone(request: Request, exc: ClientGone) -> Any:
        return Response(status_code=499)  # nginx's "client closed request"; nobody is there to read it

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Any:
        get_logger().error(f"{request.method} {request.url.path} failed: {type(exc).__name__}: {exc}")
        body = error_body(f"internal error: {type(exc).__name__}", "internal_server_error")
        return JSONResponse(body, status_code=500)

    async def parse(request: Request, model: Any) -> Any:
        try:
            raw = await request.body()
        except ClientDisconnect:
            raise ClientGone() from None
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            why = "nested too deeply" if isinstance(e, RecursionError) else str(e)
            raise APIError(400, f"We could not parse the JSON body of your request ({why}). The body must be a JSON "
                                "object.", None, "invalid_json") from None
        if not isinstance(data, dict):
            raise APIError(400, "The body of your request must be a JSON object.", None, "invalid_json")
        try:
            return model.model_validate(data)
        except ValidationError as e:
            raise validation_error(e) from None

    def respond(result: Any) -> Any:
        if isinstance(result, dict):
            return JSONResponse(result)
        return StreamingResponse(result, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/health", response_model=Health)
    async def health() -> dict:
        return {"status": "ok"}

    @app.head("/health", response_model=Health)  # load balancers and uptime checks probe with HEAD
    async def health_head() -> dict:
        return {"status": "ok"}

    @app.get("/v1/models", response_model=ModelList)
    async def models() -> dict:
        return {"object": "list", "data": served.cards()}

    @app.get("/v1/models/{model_id:path}", response_model=ModelCard, responses=error_responses(404))
    async def model_card(model_id: str) -> dict:
        for card in served.cards():
            if card["id"] == model_id:
                return card
        served.adapter_for(model_id)  # raises the 404
        return {}

    def answers(model: Any, chunk: Any) -> dict:
        ok = {"model": model, "content": event_stream(chunk),
              "description": f"The answer; with `stream: true`, server-sent events of {chunk.__name__}s ending with "
                             "`data: [DONE]`."}
        return {200: ok, **error_responses(400, 404, 413, 415)}

    @app.post("/v1/chat/completions", response_model=None, responses=answers(ChatCompletion, ChatCompletionChunk))
    async def chat(request: Request) -> Any:
        req = await parse(request, ChatCompletionRequest)
        return respond(await until_disconnect(request.receive, chat_completion(engine, served, defaults, req)))

    @app.post("/v1/completions", response_model=None, responses=answers(Completion, CompletionChunk))
    async def completions(request: Request) -> Any:
        req = await parse(request, CompletionRequest)
        return respond(await until_disconnect(request.receive, completion(engine, served, defaults, req)))

    return app
