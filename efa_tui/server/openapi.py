"""The OpenAPI document as the server really behaves: every route's problem answers as
``application/problem+json`` (one schema, RFC 9457), the bearer scheme, the conditional and
idempotency headers as parameters, 304 where a GET may answer it.

FastAPI generates the routes' own parts — among them each success body's schema, from the
``response_model`` the route names (``server/schemas.py``) —; what every route shares is added here
once, instead of ``responses=`` on each of them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .problems import PROBLEM_JSON, TITLES

# What any authenticated operation can answer besides its success: a malformed request or
# cursor (400), no or a wrong token (401; 429 after too many), a role or scope that may not
# (403), a record not visible (404), a method the path has not (405), a stalled body (408),
# a conflict or an Idempotency-Key in use (409), a stale If-Match (412), a body over 1 MiB
# (413), invalid input (422), a missing If-Match (428).
COMMON = (400, 401, 403, 404, 405, 408, 409, 412, 413, 422, 428, 429)
PUBLIC = (400, 405, 408, 413, 422, 429)  # health: no token needed

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `detail` in English, `detail_de` the same in German; "
                   "`errors` lists the fields of a 422 (`message`, and `message_de` in German where there is one).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["/problems/validation"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "detail_de": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"},
                           "message_de": {"type": "string"}, "code": {"type": "string"}}}},
    },
    "additionalProperties": True,
}

HEADERS: dict[str, dict[str, Any]] = {
    "get": {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "an ETag you hold: 304 when it is still current"},
    "patch": {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
              "description": "the ETag you last read; required (428 without it, 412 when stale)"},
    "post": {"name": "Idempotency-Key", "in": "header", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 255},
             "description": "repeat a creating or transition POST safely: same key and body answer the first result"},
}


def _problem(status: int) -> dict[str, Any]:
    return {"description": TITLES.get(status, "Error"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def document(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                "description": "a token of a user (efa-tui login)"}}
    for path, operations in doc.get("paths", {}).items():
        public = path.endswith(("/healthz", "/readyz"))
        for method, op in operations.items():
            if not public:
                op["security"] = [{"bearer": []}]
            responses = op.setdefault("responses", {})
            for status in PUBLIC if public else COMMON:
                responses[str(status)] = _problem(status)  # replaces FastAPI's own 422 (application/json)
            if path.endswith("/readyz"):
                responses["503"] = _problem(503)  # not ready: the database does not answer or lags behind
            if method == "get" and not public:
                responses.setdefault("304", {"description": "Not Modified: the If-None-Match ETag is current"})
            header = HEADERS.get(method)
            if header is not None and not public:
                params = op.setdefault("parameters", [])
                if all(p.get("name", "").lower() != header["name"].lower() for p in params):
                    params.append(header)
    return doc


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
