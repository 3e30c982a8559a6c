"""Errors of the wire: RFC 9457 problem documents as exceptions, and an unreachable server.

Two families, deliberately unrelated: ``ApiError`` means the server answered and said no (the
caller shows the detail, marks a form field, offers a reload); ``Unreachable`` means no answer
came (the caller goes offline and keeps the write in the outbox).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

import email.utils
import json
import time
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0  # never sleep longer on a server's say-so
# 409s after which the same request will go through: the first request with this key is still
# running, or a concurrent write won a race and the server forgot our key (it says Retry-After).
# Here and not in client.py: the outbox needs it at the app's start, the HTTP client (httpx,
# stamina, the API models: a third of the start's imports) only when a request is sent.
RETRYABLE_CONFLICTS = frozenset({"/problems/idempotency-in-progress"})


def is_retryable_status(status: int) -> bool:
    """Statuses after which the same request may succeed a little later."""
    return status in RETRYABLE_STATUSES


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds to wait (delta-seconds or an HTTP date), capped at 30 s."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


@dataclass(frozen=True)
class FieldError:
    """One invalid field of a 422: ``field`` is a dotted path in the body, or a query parameter."""

    field: str
    message: str
    code: str = ""


@dataclass(eq=False)
class ApiError(Exception):
    """The server answered with a status ≥ 400 (a problem document, or something else)."""

    status: int
    title: str = ""
    detail: str = ""
    type: str = "about:blank"
    errors: list[FieldError] = field(default_factory=list)
    retry_after: float | None = None
    body: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        Exception.__init__(self, str(self))

    def __str__(self) -> str:
        head = f"{self.status} {self.title}".strip()
        return f"{head}: {self.detail}" if self.detail else head

    def __reduce__(self) -> tuple[Any, ...]:  # picklable despite the dataclass __init__
        return (_rebuild, (type(self), self.status, self.title, self.detail, self.type, self.errors,
                           self.retry_after, self.body))

    @property
    def problem(self) -> str:
        """The last segment of the problem type: ``"stale-etag"`` for ``/problems/stale-etag``."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]

    def field_errors(self) -> dict[str, str]:
        """``{field: message}`` for a form (the first message per field)."""
        out: dict[str, str] = {}
        for err in self.errors:
            out.setdefault(err.field, err.message)
        return out

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """The matching subclass for the response's status; never fails on an odd body
        (HTML from a proxy, an empty 502, invalid JSON)."""
        import httpx  # only needed once there is a response: keeps this module light

        status = response.status_code
        body: dict[str, Any] = {}
        try:
            content = response.content
        except httpx.ResponseNotRead:
            content = b""
        if content:
            try:
                parsed = json.loads(content)
            except (ValueError, UnicodeDecodeError):
                parsed = None
            if isinstance(parsed, dict):
                body = parsed
        reason = response.reason_phrase or ""
        title = _text(body.get("title")) or reason or "Error"
        detail = _text(body.get("detail"))
        if not detail and not body and content and "text/plain" in response.headers.get("content-type", ""):
            detail = content[:200].decode("utf-8", "replace").strip()
        errors = []
        raw_errors = body.get("errors")
        if isinstance(raw_errors, list):
            for e in raw_errors:
                if isinstance(e, dict):
                    errors.append(FieldError(_text(e.get("field")), _text(e.get("message")), _text(e.get("code"))))
        kind = error_class(status)
        return kind(
            status=status, title=title, detail=detail, type=_text(body.get("type")) or "about:blank", errors=errors,
            retry_after=parse_retry_after(response.headers.get("retry-after")), body=body,
        )


def _rebuild(kind: type[ApiError], *args: Any) -> ApiError:
    return kind(*args)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


class BadRequest(ApiError):
    """400: e.g. an invalid cursor or Idempotency-Key."""


class Unauthorized(ApiError):
    """401: missing, unknown or (for demo tokens) refused token."""


class Forbidden(ApiError):
    """403: the role may not do this (the detail says why)."""


class NotFound(ApiError):
    """404: does not exist, or belongs to another organisation."""


class Conflict(ApiError):
    """409: wrong state for this action, or a request with this Idempotency-Key still running."""


class PreconditionFailed(ApiError):
    """412: the If-Match ETag is stale; ``body["current_etag"]`` may tell the current one."""


class ValidationFailed(ApiError):
    """422: invalid input; ``errors`` names the fields."""


class PreconditionRequired(ApiError):
    """428: this update needs If-Match."""


class RateLimited(ApiError):
    """429: too many requests; ``retry_after`` says when to come back."""


class ServerError(ApiError):
    """5xx: the server (or a proxy before it) failed."""

    kind = "server"  # for the status line: the server answers, but fails


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 412: PreconditionFailed,
    422: ValidationFailed, 428: PreconditionRequired, 429: RateLimited,
}


def error_class(status: int) -> type[ApiError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)


class Unreachable(Exception):
    """No answer from the server: connection refused, timeout, reset, broken protocol.

    The transport exception is the ``__cause__``; ``reason`` is short and safe to show (it never
    carries headers, so no token).
    """

    def __init__(self, reason: str, *, retryable: bool = True, kind: str = "network"):
        super().__init__(reason)
        self.reason = reason
        # False for failures a retry cannot fix (a URL scheme httpx cannot speak).
        self.retryable = retryable
        # What failed, for the status line: refused | timeout | broken | scheme | network | not_api.
        self.kind = kind

    def __str__(self) -> str:
        return self.reason

    @classmethod
    def from_transport(cls, exc: httpx.TransportError) -> Unreachable:
        import httpx
        message = str(exc).strip()
        if isinstance(exc, httpx.ConnectTimeout):
            reason, kind = "connect timed out", "timeout"
        elif isinstance(exc, httpx.ConnectError):
            reason, kind = "cannot connect", "refused"
        elif isinstance(exc, httpx.TimeoutException):
            reason, kind = "no answer in time", "timeout"
        elif isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError)):
            reason, kind = "connection broken", "broken"
        elif isinstance(exc, httpx.UnsupportedProtocol):
            reason, kind = "unsupported URL scheme", "scheme"
        else:
            reason, kind = "network error", "network"
        if message:
            reason = f"{reason} ({message[:160]})"
        retryable = not isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError))
        return cls(reason, retryable=retryable, kind=kind)


class NotTheApi(Unreachable):
    """Something answered, but not the marketplace API: another web server at that address, a
    proxy's error page, a login portal. For the caller the marketplace is as unreachable as when
    nothing answers (writes wait in the outbox, reads come from the cache); not retried (the same
    page would come again), the offline probe asks again later. ``status``: the HTTP status."""

    def __init__(self, reason: str, *, status: int = 0):
        super().__init__(reason, retryable=False, kind="not_api")
        self.status = status

    @classmethod
    def from_response(cls, response: httpx.Response) -> NotTheApi:
        ctype = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
        head = f"{response.status_code} {response.reason_phrase or ''}".strip()
        return cls(f"no marketplace API answers here ({head}, {ctype})", status=response.status_code)


def is_api_answer(response: httpx.Response, accept: str = "application/json") -> bool:
    """Whether an answer comes from a marketplace API (the contract: JSON, a refusal as an RFC 9457
    problem document, or what the request asked for, e.g. XML) — not from some other web server or
    a proxy before it. 5xx answers are the server's failure whatever their body (``ServerError``)."""
    status = response.status_code
    if status in (204, 304):
        return True
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if status >= 400:
        return status >= 500 or ctype == "application/problem+json"
    if 300 <= status < 400:
        return False  # a redirect (http → https, a login page): the API never redirects
    accepted = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return ctype == "application/json" or ctype.endswith("+json") or ctype in accepted


def answer_error(response: httpx.Response, accept: str = "application/json") -> Exception | None:
    """The exception an answer means — ``NotTheApi``, an ``ApiError`` (a refusal, a 5xx) — or None
    for an answer of the API that is no error."""
    if not is_api_answer(response, accept):
        return NotTheApi.from_response(response)
    if response.status_code >= 400:
        return ApiError.from_response(response)
    return None


def connection_failure(exc: BaseException) -> bool:
    """Whether an exception means the connection to the marketplace fails (no answer, not the API,
    the server failing) rather than a refusal the server decided (4xx: the connection is fine)."""
    return isinstance(exc, (Unreachable, ServerError))
