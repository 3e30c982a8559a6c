"""Authorization matrix: every endpoint × every role × own/foreign record → the exact status.

The rules (DESIGN.md, "Who uses it" and "API contract"):
- no token or an unknown token → 401 with ``WWW-Authenticate: Bearer …``;
- a role that may never do a thing → 403, problem type ``/problems/forbidden-role``
  (support reads everything and changes nothing; only providers manage offerings and report
  usage; only customers order and review invoices; only the operator bills, marks paid, cancels
  invoices and manages organisations);
- a record the user may not see → 404 (``/problems/not-found``), never 403: customers see their
  organisation's orders and invoices, providers their offerings (drafts included) and the orders
  on them but no invoices, support and operator see everything;
- a permitted write with a valid body → its real success status.

"own" and "foreign" are seen from the acting role: demo-customer's own order is one of München,
its foreign one is Hamburg's (demo-customer-2) and vice versa; demo-provider's own offering is
AKDB's and its own order one on an AKDB offering, its foreign ones Dataport's (demo-provider-2),
and vice versa. Orders are picked in state "ordered", where both sides may "cancel". Roles that own no such record
(support, operator, no token, an unknown token) take demo-customer's / demo-provider's record as
"own" and demo-customer-2's / demo-provider-2's as "foreign". For organisations "own" is the
actor's organisation. The records are looked up in the seeded demo data as the respective users;
drafts are created per row. Every row that expects success gets a fresh database, so its write
does not leak; the rows that expect a refusal share one (a refusal changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import databases
import pytest
from fastapi.testclient import TestClient
from support import auth

from efa_tui.server.app import Settings, create_app

C, C2, P, P2, S, O, NONE, BAD = (
    "customer", "customer2", "provider", "provider2", "support", "operator", "none", "unknown",
)
ROLES = (C, C2, P, P2, S, O, NONE, BAD)
X = 401  # no token / unknown token: always 401, whatever the endpoint

# fmt: off
# method  path template                          target           customer cust2 provider prov2 support operator none unknown
MATRIX: list[tuple[str, str, str, int, int, int, int, int, int, int, int]] = [
    # --- who am I, the organisation directory (readable by all; managed by the operator)
    ("GET",    "/me",                             "-",              200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/organizations",                  "-",              200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/organizations/{org}",            "own",            200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/organizations/{org}",            "foreign",        200, 200, 200, 200, 200, 200, X, X),
    ("POST",   "/organizations",                  "-",              403, 403, 403, 403, 403, 201, X, X),
    ("PATCH",  "/organizations/{org}",            "own",            403, 403, 403, 403, 403, 200, X, X),
    ("PATCH",  "/organizations/{org}",            "foreign",        403, 403, 403, 403, 403, 200, X, X),
    # the operator's own organisation is the operator: not suspended (it would lock itself out)
    ("POST",   "/organizations/{org}/accreditation", "own",         403, 403, 403, 403, 403, 409, X, X),
    ("POST",   "/organizations/{org}/accreditation", "foreign",     403, 403, 403, 403, 403, 200, X, X),
    # --- administration: members see their organisation's users, its admin (every demo user
    # is one) manages them, the operator all; support reads and changes nothing
    ("GET",    "/organizations/{org}/users",      "own",            200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/organizations/{org}/users",      "foreign",        404, 404, 404, 404, 200, 200, X, X),
    ("POST",   "/organizations/{org}/users",      "own",            201, 201, 201, 201, 403, 201, X, X),
    ("POST",   "/organizations/{org}/users",      "foreign",        404, 404, 404, 404, 403, 201, X, X),
    ("GET",    "/users/{user}",                   "own",            200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/users/{user}",                   "foreign",        404, 404, 404, 404, 200, 200, X, X),
    ("PATCH",  "/users/{user}",                   "own",            200, 200, 200, 200, 403, 200, X, X),
    ("PATCH",  "/users/{user}",                   "foreign",        404, 404, 404, 404, 403, 200, X, X),
    ("GET",    "/users/{user}/tokens",            "own",            200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/users/{user}/tokens",            "foreign",        404, 404, 404, 404, 200, 200, X, X),
    ("POST",   "/users/{user}/tokens",            "own",            201, 201, 201, 201, 403, 201, X, X),
    ("POST",   "/users/{user}/tokens",            "foreign",        404, 404, 404, 404, 403, 201, X, X),
    ("DELETE", "/tokens/{token}",                 "own",            204, 204, 204, 204, 403, 204, X, X),
    ("DELETE", "/tokens/{token}",                 "foreign",        404, 404, 404, 404, 403, 204, X, X),
    ("GET",    "/audit",                          "-",              403, 403, 403, 403, 200, 200, X, X),
    # --- the catalog: published offerings for all, drafts for their provider and staff
    ("GET",    "/offerings",                      "-",              200, 200, 200, 200, 200, 200, X, X),
    ("POST",   "/offerings",                      "-",              403, 403, 201, 201, 403, 403, X, X),
    ("GET",    "/offerings/{offering}",           "own",            200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/offerings/{offering}",           "foreign",        200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/offerings/{offering}",           "own-draft",      404, 404, 200, 200, 200, 200, X, X),
    ("GET",    "/offerings/{offering}",           "foreign-draft",  404, 404, 404, 404, 200, 200, X, X),
    ("PATCH",  "/offerings/{offering}",           "own",            403, 403, 200, 200, 403, 403, X, X),
    ("PATCH",  "/offerings/{offering}",           "foreign",        403, 403, 404, 404, 403, 403, X, X),
    ("DELETE", "/offerings/{offering}",           "own-draft",      403, 403, 204, 204, 403, 403, X, X),
    ("DELETE", "/offerings/{offering}",           "foreign-draft",  403, 403, 404, 404, 403, 403, X, X),
    ("POST",   "/offerings/{offering}/publish",   "own-draft",      403, 403, 200, 200, 403, 403, X, X),
    ("POST",   "/offerings/{offering}/publish",   "foreign-draft",  403, 403, 404, 404, 403, 403, X, X),
    ("POST",   "/offerings/{offering}/retire",    "own",            403, 403, 200, 200, 403, 403, X, X),
    ("POST",   "/offerings/{offering}/retire",    "foreign",        403, 403, 404, 404, 403, 403, X, X),
    # --- orders: customers their organisation's, providers those on their offerings
    ("GET",    "/orders",                         "-",              200, 200, 200, 200, 200, 200, X, X),
    ("POST",   "/orders",                         "-",              201, 201, 403, 403, 403, 403, X, X),
    ("GET",    "/orders/{order}",                 "own",            200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/orders/{order}",                 "foreign",        404, 404, 404, 404, 200, 200, X, X),
    ("POST",   "/orders/{order}/transitions",     "own",            200, 200, 200, 200, 403, 403, X, X),
    ("POST",   "/orders/{order}/transitions",     "foreign",        404, 404, 404, 404, 403, 403, X, X),
    ("GET",    "/orders/{order}/events",          "own",            200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/orders/{order}/events",          "foreign",        404, 404, 404, 404, 200, 200, X, X),
    # --- usage: providers report cases on their per-case contracts (the order is in the body)
    ("GET",    "/usage",                          "-",              200, 200, 200, 200, 200, 200, X, X),
    ("POST",   "/usage",                          "own",            403, 403, 201, 201, 403, 403, X, X),
    ("POST",   "/usage",                          "foreign",        403, 403, 404, 404, 403, 403, X, X),
    # --- billing: the operator runs it, support watches
    ("GET",    "/billing/runs",                   "-",              403, 403, 403, 403, 200, 200, X, X),
    ("POST",   "/billing/runs",                   "-",              403, 403, 403, 403, 403, 201, X, X),
    ("GET",    "/billing/runs/{run}",             "-",              403, 403, 403, 403, 200, 200, X, X),
    # --- invoices: customers their own, providers none, staff all
    ("GET",    "/invoices",                       "-",              200, 200, 200, 200, 200, 200, X, X),
    ("GET",    "/invoices/{invoice}",             "own",            200, 200, 404, 404, 200, 200, X, X),
    ("GET",    "/invoices/{invoice}",             "foreign",        404, 404, 404, 404, 200, 200, X, X),
    ("GET",    "/invoices/{invoice}/xrechnung",   "own",            200, 200, 404, 404, 200, 200, X, X),
    ("GET",    "/invoices/{invoice}/xrechnung",   "foreign",        404, 404, 404, 404, 200, 200, X, X),
    ("POST",   "/invoices/{invoice}/review",      "own",            200, 200, 403, 403, 403, 403, X, X),
    ("POST",   "/invoices/{invoice}/review",      "foreign",        404, 404, 403, 403, 403, 403, X, X),
    ("POST",   "/invoices/{invoice}/pay",         "own",            403, 403, 403, 403, 403, 200, X, X),
    ("POST",   "/invoices/{invoice}/pay",         "foreign",        403, 403, 403, 403, 403, 200, X, X),
    ("POST",   "/invoices/{invoice}/cancel",      "own",            403, 403, 403, 403, 403, 201, X, X),
    ("POST",   "/invoices/{invoice}/cancel",      "foreign",        403, 403, 403, 403, 403, 201, X, X),
    ("POST",   "/invoices/{invoice}/payments",    "own",            403, 403, 403, 403, 403, 201, X, X),
    ("POST",   "/invoices/{invoice}/payments",    "foreign",        403, 403, 403, 403, 403, 201, X, X),
    ("POST",   "/invoices/{invoice}/credit-notes", "own",           403, 403, 403, 403, 403, 201, X, X),
    ("POST",   "/invoices/{invoice}/credit-notes", "foreign",       403, 403, 403, 403, 403, 201, X, X),
]
# fmt: on

ROWS = [
    pytest.param(role, method, path, target, expected, id=f"{role}-{method} {path}-{target}")
    for method, path, target, *statuses in MATRIX
    for role, expected in zip(ROLES, statuses, strict=True)
]

PROBLEM_TYPES = {401: "/problems/unauthorized", 403: "/problems/forbidden-role", 404: "/problems/not-found",
                 409: "/problems/operator-suspended"}  # allowed to the role, refused by the rule

# Valid bodies, so that a permitted write answers its real success status.
ORG_BODY = {"key": "gemeinde-testhausen", "kind": "customer", "name": "Gemeinde Testhausen"}
OFFERING_BODY = {"title": "Matrix-Testangebot", "category": "Querschnittsleistungen", "annual_fee": "1200.00"}
TRANSITION_BODY = {"action": "cancel", "note": "Matrixtest"}  # customer and provider may cancel an ordered order
REVIEW_BODY = {"action": "factual_ok"}
CANCEL_BODY = {"reason": "Matrixtest"}

# Seeded ids are the same in every test's copy of the demo database: look each up once.
_seeded: dict[tuple, Any] = {}


def headers_for(role: str, **extra: str) -> dict[str, str]:
    if role == NONE:
        return dict(extra)
    if role == BAD:
        return auth("not-a-token-of-anybody", **extra)
    return auth(role, **extra)


def items(client: TestClient, who: str, path: str, **params: Any) -> list[dict]:
    r = client.get(path, headers=auth(who), params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def seeded(key: tuple, lookup) -> Any:
    if key not in _seeded:
        _seeded[key] = lookup()
    return _seeded[key]


def org_of(client: TestClient, who: str) -> int:
    return seeded(("org", who), lambda: client.get("/me", headers=auth(who)).json()["organization"]["id"])


def owners(role: str, kind: str) -> tuple[str, str]:
    """(own, foreign): the demo users whose records count as own / foreign for ``role``."""
    counterpart = {C: C2, C2: C, P: P2, P2: P}
    owning = {"order": (C, C2, P, P2), "invoice": (C, C2), "offering": (P, P2), "organization": (C, C2, P, P2)}
    if role in owning[kind]:
        return role, counterpart[role]
    return (P, P2) if kind == "offering" else (C, C2)


def pick(pair: tuple[str, str], target: str) -> str:
    return pair[0] if target.startswith("own") else pair[1]


def published_offering(client: TestClient, who: str) -> int:
    return seeded(("offering", who), lambda: items(client, who, "/offerings", provider=org_of(client, who),
                                                   status="published")[0]["id"])


def ordered_order(client: TestClient, who: str) -> int:
    def lookup() -> int:
        found = items(client, who, "/orders", state="ordered")
        assert found, f"the demo data has no ordered order visible to {who}"
        return found[0]["id"]
    return seeded(("order", who), lookup)


def per_case_contract(client: TestClient, who: str) -> int:
    def lookup() -> int:
        found = [o for o in items(client, who, "/orders", state="active") if o["fees"]["distribution_key"] == "per_case"]
        assert found, f"the demo data has no active per-case contract visible to {who}"
        return found[0]["id"]
    return seeded(("contract", who), lookup)


def issued_invoice(client: TestClient, who: str) -> int:
    def lookup() -> int:
        found = items(client, who, "/invoices", status="issued", kind="invoice")
        assert found, f"the demo data has no issued invoice of {who}"
        return found[0]["id"]
    return seeded(("invoice", who), lookup)


def first_line(client: TestClient, path: str) -> int:
    """The first line of the invoice a /credit-notes path names (read as the operator)."""
    invoice = path.split("/")[2]
    return client.get(f"/invoices/{invoice}", headers=headers_for("operator")).json()["lines"][0]["id"]


def billing_run(client: TestClient) -> int:
    return seeded(("run",), lambda: items(client, O, "/billing/runs")[0]["id"])


def new_draft(client: TestClient, provider: str) -> int:
    r = client.post("/offerings", headers=auth(provider), json={**OFFERING_BODY, "title": f"Entwurf von {provider}"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def etag(client: TestClient, path: str) -> str:
    r = client.get(path, headers=auth(S))  # support sees every record, drafts included
    assert r.status_code == 200, r.text
    return r.headers["ETag"]


def prepare(client: TestClient, role: str, method: str, template: str, target: str) -> tuple[str, dict | None, dict]:
    """The concrete path, JSON body and extra headers of one matrix row."""
    ids: dict[str, int] = {}
    body: dict | None = None
    extra: dict[str, str] = {}
    if "{org}" in template:
        if target == "own" and role in (C, C2, P, P2, S, O):
            ids["org"] = org_of(client, role)
        else:
            ids["org"] = org_of(client, pick(owners(role, "organization"), target))
    if "{offering}" in template:
        provider = pick(owners(role, "offering"), target)
        ids["offering"] = new_draft(client, provider) if target.endswith("draft") else published_offering(client, provider)
    if "{order}" in template:
        ids["order"] = ordered_order(client, pick(owners(role, "order"), target))
    if "{invoice}" in template:
        ids["invoice"] = issued_invoice(client, pick(owners(role, "invoice"), target))
    if "{run}" in template:
        ids["run"] = billing_run(client)
    if "{user}" in template or "{token}" in template:
        user = seeded(("user", pick(owners(role, "organization"), target)),
                      lambda: client.get("/me", headers=auth(pick(owners(role, "organization"), target))).json()["id"])
        ids["user"] = user
        if "{token}" in template:  # a token of that user's, made for this row (not its demo token)
            made = client.post(f"/users/{user}/tokens", headers=auth(O), json={"name": "Matrix"})
            assert made.status_code == 201, made.text
            ids["token"] = made.json()["id"]
    path = template.format(**ids)

    if method == "PATCH":
        extra["If-Match"] = etag(client, path)
        body = ({"phone": "+49 89 1234567"} if template.startswith("/organizations") else
                {"email": "matrix@example.org"} if template.startswith("/users") else {"summary": "Geändert im Matrixtest"})
    elif method == "POST":
        if template == "/organizations":
            body = ORG_BODY
        elif template == "/offerings":
            body = OFFERING_BODY
        elif template == "/orders":
            body = {"offering_id": published_offering(client, P), "message": "Interesse aus dem Matrixtest"}
        elif template.endswith("/transitions"):
            body = TRANSITION_BODY
        elif template == "/usage":
            contract = per_case_contract(client, pick(owners(role, "order"), target))
            # The running month: inside every running contract's term and not reported yet.
            body = {"order_id": contract, "year": date.today().year, "month": date.today().month, "cases": 42}
        elif template == "/billing/runs":
            # Nothing to bill then: a quick, complete run, confirmed with the preview's 0.00.
            body = {"year": date.today().year - 3, "confirm_gross_total": "0.00"}
        elif template.endswith("/review"):
            body = REVIEW_BODY
        elif template.endswith("/cancel"):
            body = CANCEL_BODY
        elif template.endswith("/payments"):
            body = {"value_date": date.today().isoformat(), "amount": "1.00", "bank_reference": "Matrixtest"}
        elif template.endswith("/credit-notes"):
            body = {"line_id": first_line(client, path), "net": "1.00", "reason": "Matrixtest"}
        elif template.endswith("/accreditation"):
            body = {"state": "suspended", "reason": "Matrixtest"}
        elif template.endswith("/users"):
            kind = client.get(path.removesuffix("/users"), headers=auth(S)).json()["kind"]
            body = {"name": "Matrix", "email": "matrix@example.org",
                    "role": {"customer": "customer", "provider": "provider", "operator": "support"}[kind]}
        elif template.endswith("/tokens"):
            body = {"name": "Matrix", "expires_in_days": 1, "scope": "read"}
    return path, body, extra


def assert_problem(r, status: int) -> dict:
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    doc = r.json()
    assert {"type", "title", "status", "detail"} <= doc.keys(), doc
    assert doc["status"] == status
    assert isinstance(doc["title"], str) and doc["title"]
    assert isinstance(doc["detail"], str) and doc["detail"]
    return doc


@pytest.fixture(scope="module")
def refusals_client(server_template: str, tmp_path_factory) -> Iterator[TestClient]:
    """One database for all rows whose request changes nothing — a refusal, or a permitted read —
    so they need no fresh copy each (a permitted write always gets one, through ``client``: on
    PostgreSQL a copy is a CREATE DATABASE of ~0.8 s, and the reads took 2 of its 3 minutes)."""
    url = databases.copy_of(server_template, tmp_path_factory.mktemp("refusals"))
    # Every row with an unknown token is a wrong token from one address: lift the rate limit of
    # failed logins (tests/test_hardening.py tests it), this matrix is about who may do what.
    app = create_app(Settings(database_url=url, allow_demo_tokens=True,
                              failed_logins_per_address="10000/minute", failed_logins_per_prefix="10000/minute"))
    with TestClient(app, base_url="http://127.0.0.1/api/v1", raise_server_exceptions=False) as c:
        yield c
    app.state.engine.dispose()
    databases.drop(url)


@pytest.mark.parametrize(("role", "method", "template", "target", "expected"), ROWS)
def test_authorization(request: pytest.FixtureRequest, role: str, method: str, template: str, target: str, expected: int) -> None:
    changes_nothing = expected >= 400 or method in ("GET", "HEAD")
    client: TestClient = request.getfixturevalue("refusals_client" if changes_nothing else "client")
    path, body, extra = prepare(client, role, method, template, target)
    r = client.request(method, path, headers=headers_for(role, **extra), json=body)
    assert r.status_code == expected, f"{role} {method} {path} ({target}): {r.status_code} {r.text[:300]}"
    if expected >= 400:
        doc = assert_problem(r, expected)
        assert doc["type"] == PROBLEM_TYPES[expected], doc
    if expected == 401:
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers


def test_matrix_covers_every_operation(client: TestClient) -> None:
    """Every operation of the OpenAPI document has a row in the matrix (and no row is stale)."""
    spec = client.get("/openapi.json").json()
    documented = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, ops in spec["paths"].items() if path not in ("/api/v1/healthz", "/api/v1/readyz")  # public, no token
        for method in ops
    }
    ids = {"org_id": "org", "offering_id": "offering", "order_id": "order", "run_id": "run", "invoice_id": "invoice",
           "user_id": "user", "token_id": "token"}
    normalised = set()
    for method, path in documented:
        for name, short in ids.items():
            path = path.replace("{" + name + "}", "{" + short + "}")
        normalised.add((method, path))
    # The event stream never ends, so it has no row here: tests/test_events.py checks who hears what.
    normalised.discard(("GET", "/events"))
    assert normalised == {(m, p) for m, p, *_ in MATRIX}


# --- lists never leak other organisations' records --------------------------------------------


def test_customer_lists_show_only_own_organisation(client: TestClient) -> None:
    org = org_of(client, C)
    orders = items(client, C, "/orders")
    assert orders and all(o["customer"]["id"] == org for o in orders)
    invoices = items(client, C, "/invoices")
    assert invoices and all(i["customer"]["id"] == org for i in invoices)
    usage = items(client, C, "/usage")
    assert usage and {u["order_id"] for u in usage} <= {o["id"] for o in orders}


def test_provider_lists_show_only_orders_on_own_offerings_and_no_invoices(client: TestClient) -> None:
    org = org_of(client, P)
    orders = items(client, P, "/orders")
    assert orders and all(o["provider"]["id"] == org for o in orders)
    assert items(client, P, "/invoices") == []
    usage = items(client, P, "/usage")
    assert usage and {u["order_id"] for u in usage} <= {o["id"] for o in orders}


def test_staff_lists_show_every_organisation(client: TestClient) -> None:
    customers = {org_of(client, C), org_of(client, C2)}
    for who in (S, O):
        assert customers <= {o["customer"]["id"] for o in items(client, who, "/orders")}
        assert customers <= {i["customer"]["id"] for i in items(client, who, "/invoices")}


def test_drafts_are_listed_only_for_their_provider_and_staff(client: TestClient) -> None:
    draft = new_draft(client, P)
    for who, sees in ((C, False), (P2, False), (P, True), (S, True), (O, True)):
        listed = {o["id"] for o in items(client, who, "/offerings")}
        assert (draft in listed) is sees, who
        # An explicit status filter does not open the door either.
        assert (draft in {o["id"] for o in items(client, who, "/offerings", status="draft")}) is sees, who


def test_customer_may_not_take_a_provider_action_on_own_order(client: TestClient) -> None:
    """Within a visible order, an action of the other side is forbidden (403), not invisible."""
    order = ordered_order(client, C)
    r = client.post(f"/orders/{order}/transitions", headers=auth(C), json={"action": "activate"})
    doc = assert_problem(r, 403)
    assert doc["type"] == "/problems/forbidden-transition"
    r = client.post(f"/orders/{ordered_order(client, P)}/transitions", headers=auth(P), json={"action": "order"})
    assert assert_problem(r, 403)["type"] == "/problems/forbidden-transition"


@pytest.mark.parametrize("header", ["Basic ZGVtbzpkZW1v", "Bearer", "Bearer    ", "demo-customer", "Token demo-customer"])
def test_malformed_authorization_header_is_401(client: TestClient, header: str) -> None:
    r = client.get("/orders", headers={"Authorization": header})
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_demo_tokens_refused_when_not_allowed(db_url: str) -> None:
    app = create_app(Settings(database_url=db_url, allow_demo_tokens=False))
    with TestClient(app, base_url="http://127.0.0.1/api/v1", raise_server_exceptions=False) as c:
        r = c.get("/me", headers=auth(C))
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
