"""/openapi.json: FastAPI's schema of the routes, plus what FastAPI cannot see by itself.

The POST routes parse their JSON bodies themselves (so that a bad body gets a clear OpenAI-style error),
so their request models are added here; FastAPI's 422 is dropped (a request that fails validation is
answered 400, as by OpenAI); with an API key, every route but /health declares the bearer scheme and its 401."""
from typing import Any

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"


class DocumentedApp(FastAPI):
    """A FastAPI app whose schema has the JSON request body of each path in `request_bodies`."""

    def __init__(self, *args: Any, request_bodies: dict[str, type], extra_models: tuple = (), open_paths: tuple = (),
                 bearer: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_bodies = request_bodies
        self.extra_models = extra_models  # referenced by hand-written parts (the event streams' chunks)
        self.open_paths = open_paths
        self.bearer = bearer

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = super().openapi()
            add_models(schema, self.extra_models, "serialization")
            add_request_bodies(schema, self.request_bodies)
            drop_422(schema)
            if self.bearer:
                add_bearer(schema, self.open_paths)
        return self.openapi_schema


def add_models(schema: dict, models: Any, mode: str) -> dict:
    """Puts the models (and the models they use) in the schema's components; {(model, mode): {"$ref": ...}}."""
    models = list(dict.fromkeys(models))
    if not models:
        return {}
    refs, defs = models_json_schema([(m, mode) for m in models], ref_template=REF)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in defs.get("$defs", {}).items():
        components.setdefault(name, definition)
    return refs


def add_request_bodies(schema: dict, bodies: dict[str, type]) -> None:
    refs = add_models(schema, bodies.values(), "validation")
    for path, model in bodies.items():
        schema["paths"][path]["post"]["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": refs[(model, "validation")]}}}


def drop_422(schema: dict) -> None:
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def add_bearer(schema: dict, open_paths: tuple) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {"type": "http", "scheme": "bearer"}
    unauthorized = {"description": "The API key is missing or wrong.",  # ErrorResponse: every POST route answers one
                    "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}}}
    for path, operations in schema.get("paths", {}).items():
        if path in open_paths:
            continue
        for operation in operations.values():
            operation["security"] = [{"bearer": []}]
            operation.setdefault("responses", {})["401"] = unauthorized
