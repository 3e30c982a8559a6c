"""Property-based API fuzzing: schemathesis against the reference server's own OpenAPI document.

Every operation of ``/api/v1/openapi.json`` is run as each role (one pytest test per operation
and role), in-process over ASGI, against a fresh copy of the seeded demo database per role.
The contract: the server never answers 5xx, whatever it is sent (``not_a_server_error``), and
answers in a documented content type or, for an error, in ``application/problem+json``.
A 5xx fails with the request as a curl command and the server's own traceback.

Bounded for CI (about a minute on two cores): schema examples, the coverage phase's boundary
and negative cases, and MAX_EXAMPLES fuzzed cases per operation; derandomized with a fixed seed,
so every run sends the same requests. EFA_SCHEMATHESIS_EXAMPLES=200 digs deeper locally;
SCHEMATHESIS_STATS=1 (with -s) prints the status codes seen per operation and role.
"""

from __future__ import annotations

import collections
import logging
import os
import sys
import tempfile
import traceback

import databases
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as st_asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from support import auth

from efa_tui.server.app import Settings, create_app
from efa_tui.server.problems import PROBLEM_JSON

ROLES = ("customer", "provider", "support", "operator")
MAX_EXAMPLES = int(os.environ.get("EFA_SCHEMATHESIS_EXAMPLES", "25"))
# The demo database holds ids 1..~120 for every kind of record (organisations 1..55, invoices 1..56).
SEEDED_IDS = st.integers(min_value=1, max_value=60)


def content_type_or_problem(ctx, response, case):
    """``content_type_conformance``, except that an error answer may always be
    ``application/problem+json``: the server's one error format (RFC 9457), which FastAPI's
    generated document does not declare (it lists 422 as ``application/json``)."""
    content_type = ",".join(response.headers.get("content-type", []))
    if response.status_code >= 400 and content_type.split(";")[0].strip().lower() == PROBLEM_JSON:
        return None
    return content_type_conformance(ctx, response, case)


# The document tells the truth: every status, content type, header and body the server answers
# is documented (server/openapi.py adds what every operation shares).
CHECKS = [not_a_server_error, content_type_or_problem, status_code_conformance, response_schema_conformance,
          response_headers_conformance]

CONFIG = {
    "seed": 20240601,
    "phases": {
        "examples": {"enabled": True},
        "fuzzing": {"enabled": True},
        "coverage": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "generation": {"max-examples": MAX_EXAMPLES},
    # Demo tokens are public; a reproduction is only useful with the real values in it.
    "output": {"sanitization": {"enabled": False}},
}


class _KeepTraceback:
    """ASGI wrapper: keeps the traceback of a crash in the app instead of raising it into the client.

    Starlette answers an unhandled exception with a 500 and then re-raises it for the server to log;
    here the 500 is what the test sees (``not_a_server_error`` fails on it) and the trace is
    attached to the failure message.
    """

    def __init__(self, app):
        self.app = app
        self.last_traceback: str | None = None
        self.requests = 0
        self.statuses: collections.Counter[tuple[str, int]] = collections.Counter()

    async def __call__(self, scope, receive, send):
        started = False
        if scope["type"] == "http":
            self.requests += 1

        async def watching_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception:
            if scope["type"] != "http" or not started:
                raise
            self.last_traceback = traceback.format_exc()


def _openapi_document() -> dict:
    """The app's OpenAPI document; it does not depend on the data, so an empty database will do."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/schema.sqlite3"))
        try:
            return app.openapi()
        finally:
            app.state.engine.dispose()


# Loaded at collection time, so pytest gets one test per operation (and role).
schema = schemathesis.openapi.from_dict(_openapi_document(), config=schemathesis.Config.from_dict(CONFIG))
# /events is an endless stream (it never answers "done"): tests/test_events.py checks it over HTTP.
schema = schema.exclude(path="/api/v1/events")


@pytest.fixture(scope="module", params=ROLES)
def server(request, server_template: str, tmp_path_factory) -> tuple[str, _KeepTraceback]:
    """One app per role, each on its own fresh copy of the seeded demo database (on the
    database the server tests run on: tests/databases.py)."""
    role = request.param
    url = databases.copy_of(server_template, tmp_path_factory.mktemp(f"schemathesis-{role}"))
    app = _KeepTraceback(create_app(Settings(database_url=url, allow_demo_tokens=True)))
    # The app logs each crash with its traceback; the failure message carries it already, and
    # Hypothesis replaying a failing case would otherwise repeat it dozens of times.
    server_log = logging.getLogger("efa_tui.server")
    server_log.disabled = True
    try:
        yield role, app
    finally:
        server_log.disabled = False
        if os.environ.get("SCHEMATHESIS_STATS"):
            print(f"\nschemathesis: {app.requests} requests as {role}", file=sys.stderr)
            for (label, status), n in sorted(app.statuses.items()):
                print(f"  {label:50} {status} x{n}", file=sys.stderr)
    # Ends the app's lifespan (and so its engine) before the next role's copy is opened.
    st_asgi.shutdown_lifespans()
    databases.drop(url)


@schema.hook
def flatmap_path_parameters(_context, path_parameters):
    """Half of the cases get a seeded id for every integer path parameter, so handlers reach real
    records instead of answering 404 to a random integer every time."""
    ids = [name for name, value in (path_parameters or {}).items() if type(value) is int]
    if not ids:
        return st.just(path_parameters)
    return st.one_of(
        st.just(path_parameters),
        SEEDED_IDS.map(lambda seeded: {**path_parameters, **dict.fromkeys(ids, seeded)}),
    )


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
def test_no_server_error(case, server: tuple[str, _KeepTraceback]):
    role, app = server
    headers = auth(role)
    if case.method.upper() in ("PATCH", "PUT", "POST", "DELETE"):
        # Past the optimistic-locking gate, so the handler itself is reached.
        headers["If-Match"] = "*"
    app.last_traceback = None
    response = case.call(headers=headers, app=app)
    app.statuses[case.operation.label, response.status_code] += 1
    if response.status_code >= 500:
        pytest.fail(
            f"{response.status_code} as {role}: {case.as_curl_command(headers=headers)}\n"
            f"response: {response.text[:2000]}\n"
            f"server traceback:\n{app.last_traceback or '(none captured)'}",
            pytrace=False,
        )
    case.validate_response(response, checks=CHECKS, headers=headers)
