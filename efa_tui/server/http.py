"""HTTP plumbing shared by the routes: JSON bodies with ETags, conditional GETs, cursors."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import OrderedDict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pydantic_core
from fastapi import Request
from fastapi.responses import Response

from ..domain.money import money_str
from .problems import ApiProblem


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds") + "Z"
    return value.isoformat()


def money(value: Decimal | None) -> str | None:
    return None if value is None else money_str(Decimal(value))


def dumps(payload: Any) -> bytes:
    # pydantic-core's serializer (Rust) is about 8× faster than json.dumps on catalog pages.
    return pydantic_core.to_json(payload)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    # Weak comparison, as RFC 9110 prescribes for If-None-Match.
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags


def json_response(
    request: Request | None, payload: Any, *, status: int = 200, etag: str | None = None,
    headers: dict[str, str] | None = None, body: bytes | None = None,
) -> Response:
    """JSON with an ETag; answers 304 when the client already holds this version."""
    body = dumps(payload) if body is None else body
    tag = etag or etag_of(body)
    hdrs = {"ETag": tag, **(headers or {})}
    if request is not None and status == 200 and request.method == "GET" and _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, status_code=status, media_type="application/json", headers=hdrs)


def representation_etag(payload: Any) -> str:
    """The ETag of an item as this user sees it: any change a reader could notice changes it,
    also in joined data (a provider's new name on an offering), so If-None-Match never hides
    news and If-Match catches every concurrent change."""
    return etag_of(dumps(payload))


def check_if_match(request: Request, current: str) -> None:
    header = request.headers.get("if-match")
    if not header:
        raise ApiProblem(428, "this update needs an If-Match header with the ETag you last read", type="if-match-required",
                         detail_de="Diese Änderung braucht einen If-Match-Header mit dem zuletzt gelesenen ETag")
    tags = {t.strip() for t in header.split(",")}
    if header.strip() != "*" and current not in tags:
        raise ApiProblem(
            412,
            "someone else changed this record since you read it; reload it and apply your change again",
            type="stale-etag",
            detail_de="Jemand anderes hat diesen Datensatz geändert, seit Sie ihn gelesen haben; laden Sie ihn neu "
                      "und nehmen Sie Ihre Änderung noch einmal vor",
            current_etag=current,
        )


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or not values:
        raise ApiProblem(400, "invalid cursor: pass next_cursor from the previous page unchanged", type="invalid-cursor",
                         detail_de="Ungültiger Cursor: übergeben Sie next_cursor der vorigen Seite unverändert")
    return values


class PageCache:
    """Serialized list pages, keyed by who may see what, the query, and the data's version.

    The version is read from the database on every request (a cheap index lookup), so the cache
    is never stale, also with several server processes on one database.
    """

    def __init__(self, size: int = 512):
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes) -> None:
        with self._lock:
            self._pages[key] = body
            self._pages.move_to_end(key)
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)
