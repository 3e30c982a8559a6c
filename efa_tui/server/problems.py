"""RFC 9457 problem details for every error the server answers: never a stack trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import wording

log = logging.getLogger("efa_tui.server")

PROBLEM_JSON = "application/problem+json"
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


# What the HTTP layer's own refusals (an unknown path, a wrong method) say in German.
TITLES_DE = {
    400: "Fehlerhafte Anfrage",
    401: "Nicht angemeldet",
    403: "Keine Berechtigung",
    404: "Nicht gefunden",
    405: "Diese Methode ist hier nicht erlaubt",
    406: "Diese Antwortform kann der Server nicht liefern",
    408: "Die Anfrage kam nicht rechtzeitig an",
    409: "Konflikt mit dem aktuellen Stand",
    412: "Vorbedingung nicht erfüllt",
    413: "Die Anfrage ist zu groß",
    415: "Dieses Format versteht der Server nicht",
    422: "Eingaben ungültig",
    428: "Vorbedingung erforderlich",
    429: "Zu viele Anfragen",
    500: "Fehler im Server",
    503: "Der Dienst ist gerade nicht verfügbar",
}


class ApiProblem(Exception):
    """Raise anywhere in a handler to answer with a problem+json.

    ``detail`` is English (clients and tests read it); ``detail_de`` says the same in German, for
    the client's German interface (``efa_tui.i18n.problem``): every refusal gives both
    (tests/test_problem_language.py)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        detail_de: str | None = None,
        type: str | None = None,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.detail_de = detail_de
        self.type = type or _slug(status)
        self.title = title or TITLES.get(status, "Error")
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": f"/problems/{self.type}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.detail_de:
            doc["detail_de"] = self.detail_de
        if self.errors is not None:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc

    def response(self) -> Response:
        return problem_response(self.body(), self.headers)


def _slug(status: int) -> str:
    return TITLES.get(status, "error").lower().replace(" ", "-")


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=body["status"],
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def refuse_nulls(changes: dict[str, Any], keys: Iterable[str]) -> None:
    """A PATCH may leave a field out but not clear one that must have a value (``title: null``):
    422 naming the first such field — in German by its label, never "null"."""
    for key in keys:
        if key in changes and changes[key] is None:
            raise ApiProblem(422, f"{key} cannot be null", type="validation",
                             detail_de=f"„{wording.field(key)}“ muss angegeben werden und darf nicht leer sein",
                             errors=[{"field": key, "message": "must not be null",
                                      "message_de": "muss angegeben werden", "code": "missing"}])


def field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """FastAPI's validation errors as ``{"field", "message", "code"}``; field is a dotted path
    inside the body or the name of the query/header parameter."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if err.get("type") == "json_invalid":
            # FastAPI puts the character offset into loc; the field is the body as a whole.
            out.append({"field": "body", "message": f"{err.get('msg', '')} at character {loc[-1] if loc else '?'}",
                        "message_de": f"kein gültiges JSON (bei Zeichen {loc[-1] if loc else '?'})",
                        "code": "json_invalid"})
            continue
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        item = {"field": ".".join(loc) or "body", "message": str(err.get("msg", "")), "code": str(err.get("type", ""))}
        if (german := wording.field_error(dict(err))) is not None:
            item["message_de"] = german
        out.append(item)
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _problem(_request: Request, exc: ApiProblem) -> Response:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        errors = field_errors(exc)
        names = sorted({e["field"] for e in errors})
        return ApiProblem(422, f"invalid input: {', '.join(names)}", type="validation", errors=errors,
                          detail_de=f"Ungültige Eingabe: {wording.fields(names)}").response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route on the path only; several routes
            # share a path (GET and PATCH of one offering), so Allow lists them all.
            headers["Allow"] = ", ".join(allowed_methods(request))
        # Starlette's own refusals say their status phrase ("Not Found"); a detail of its own
        # (none is raised in this server) has no German, and the German title stands for it.
        detail_de = TITLES_DE.get(exc.status_code)
        return ApiProblem(exc.status_code, detail, headers=headers, detail_de=detail_de).response()

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        # The trace goes to the log, never to the client.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return ApiProblem(500, "the server failed to answer this request; it has been logged",
                          detail_de="Der Server konnte diese Anfrage nicht beantworten; der Fehler wurde protokolliert").response()


def allowed_methods(request: Request) -> list[str]:
    """Every method the API documents on the request's path (its OpenAPI document lists every
    route with its methods; FastAPI's nested routers have no flat list to match against)."""
    import re

    patterns = getattr(request.app.state, "method_patterns", None)
    if patterns is None:
        patterns = [(re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"), {m.upper() for m in ops})
                    for path, ops in request.app.openapi().get("paths", {}).items()]
        request.app.state.method_patterns = patterns
    methods: set[str] = set()
    for pattern, ops in patterns:
        if pattern.match(request.url.path):
            methods |= ops
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
