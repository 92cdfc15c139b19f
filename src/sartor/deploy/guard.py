"""ASGI middleware that checks a POST before any of its body is parsed: JSON only, and a size limit.

Only `Content-Type: application/json` bodies are read (415 otherwise), so a web page cannot make a local
browser start a generation with a "simple" cross-origin request (text/plain or a form). A body past the
limit is a 413: at once when its Content-Length says so, else as soon as the bytes read pass the limit
(a chunked body is never held whole in memory)."""
from typing import Any, Iterable

from .errors import APIError, error_body

JSON_TYPE = "application/json"


def media_type(content_type: str) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return content_type.split(";", 1)[0].strip().lower()


def too_large(limit: int) -> APIError:
    return APIError(413, f"The request body is larger than this server accepts ({limit} bytes; "
                         "see --max_request_body_mb).", None, "request_too_large")


def not_json(content_type: str) -> APIError:
    given = f"'{content_type}'" if content_type else "none"
    return APIError(415, f"The request body must be JSON, sent with the header 'Content-Type: {JSON_TYPE}' "
                         f"(got {given}).", None, "unsupported_media_type")


class RequestGuard:
    """Checks every POST to `paths` (the routes that read a body): JSON content type, at most `max_body` bytes."""

    def __init__(self, app: Any, max_body: int, paths: Iterable[str]) -> None:
        self.app = app
        self.max_body = max_body
        self.paths = frozenset(paths)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        content_type = headers.get("content-type", "")
        if media_type(content_type) != JSON_TYPE:
            await _reply(not_json(content_type), scope, receive, send)
            return
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_body:
            await _reply(too_large(self.max_body), scope, receive, send)
            return
        await self.app(scope, self._limited(receive), send)

    def _limited(self, receive: Any) -> Any:
        """`receive` that raises the 413 (an APIError, answered by the app's handler) past the limit."""
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise too_large(self.max_body)
            return message

        return limited


async def _reply(err: APIError, scope: dict, receive: Any, send: Any) -> None:
    from starlette.responses import JSONResponse

    await JSONResponse(error_body(err.message, err.type, err.param, err.code), status_code=err.status)(
        scope, receive, send)
