"""Write semantics over HTTP: Idempotency-Key replay and conflicts, If-Match 428/412, and the
order flow with its audit trail — against the real app on a fresh demo database."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import create_engine, insert, select
from support import auth

from efa_tui.server import db
from efa_tui.server.auth import token_digest
from efa_tui.server.idempotency import LEASE


def _published_offering(client, who="customer", **params):
    items = client.get("/offerings", params={"limit": 50, **params}, headers=auth(who)).json()["items"]
    return items[0]


def _akdb_offering(client):
    me = client.get("/me", headers=auth("provider")).json()
    return _published_offering(client, provider=me["organization"]["id"])


def key() -> str:
    return str(uuid.uuid4())


# --- Idempotency-Key ---------------------------------------------------------------------------


def test_same_key_same_body_replays_the_first_answer(client):
    offering = _published_offering(client)
    body = {"offering_id": offering["id"], "message": "Bitte um Angebot"}
    k = key()
    first = client.post("/orders", json=body, headers=auth("customer", **{"Idempotency-Key": k}))
    again = client.post("/orders", json=body, headers=auth("customer", **{"Idempotency-Key": k}))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    mine = client.get("/orders", params={"offering_id": offering["id"], "limit": 1000}, headers=auth("customer")).json()["items"]
    assert sum(1 for o in mine if o["message"] == "Bitte um Angebot") == 1


def test_same_key_other_body_is_refused_with_422(client):
    offering = _published_offering(client)
    k = key()
    client.post("/orders", json={"offering_id": offering["id"], "message": "a"}, headers=auth("customer", **{"Idempotency-Key": k}))
    other = client.post("/orders", json={"offering_id": offering["id"], "message": "b"}, headers=auth("customer", **{"Idempotency-Key": k}))
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"


def test_keys_belong_to_one_user(client):
    """Two users may pick the same key without seeing each other's answers."""
    offering = _published_offering(client)
    k = key()
    a = client.post("/orders", json={"offering_id": offering["id"]}, headers=auth("customer", **{"Idempotency-Key": k}))
    b = client.post("/orders", json={"offering_id": offering["id"]}, headers=auth("customer2", **{"Idempotency-Key": k}))
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_a_refusal_is_replayed_too(client):
    k = key()
    body = {"offering_id": 99999999}
    first = client.post("/orders", json=body, headers=auth("customer", **{"Idempotency-Key": k}))
    again = client.post("/orders", json=body, headers=auth("customer", **{"Idempotency-Key": k}))
    assert first.status_code == again.status_code == 422
    assert again.headers.get("Idempotent-Replayed") == "true"


def _plant_running_key(db_url: str, token: str, k: str, age: timedelta, request_body: dict, client, path="/api/v1/orders"):
    """Leave a key in state 'running' as a request in flight (or a crashed worker) would."""
    from starlette.requests import Request

    from efa_tui.server.idempotency import fingerprint

    engine = create_engine(db_url)
    with engine.begin() as conn:
        user_id = conn.execute(select(db.api_tokens.c.user_id).where(db.api_tokens.c.token_sha256 == token_digest(token))).scalar_one()
        scope = {"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b""}
        conn.execute(insert(db.idempotency_keys).values(
            user_id=user_id, key=k, request_hash=fingerprint(Request(scope), request_body), state="running",
            created_at=db.utcnow() - age))
    engine.dispose()


def test_same_key_while_running_is_409_with_retry_after(client, db_url):
    offering = _published_offering(client)
    body = {"offering_id": offering["id"], "message": "", "desired_start": None, "contact_name": "", "leitweg_id": None,
            "cost_centre": "", "target_group_size": None}
    k = key()
    _plant_running_key(db_url, "demo-customer", k, timedelta(seconds=1), body, client)
    resp = client.post("/orders", json={"offering_id": offering["id"]}, headers=auth("customer", **{"Idempotency-Key": k}))
    assert resp.status_code == 409
    assert resp.json()["type"] == "/problems/idempotency-in-progress"
    assert resp.headers["Retry-After"] == "1"


def test_a_key_abandoned_by_a_crashed_worker_is_taken_over(client, db_url):
    offering = _published_offering(client)
    body = {"offering_id": offering["id"], "message": "", "desired_start": None, "contact_name": "", "leitweg_id": None,
            "cost_centre": "", "target_group_size": None}
    k = key()
    _plant_running_key(db_url, "demo-customer", k, LEASE + timedelta(seconds=5), body, client)
    resp = client.post("/orders", json={"offering_id": offering["id"]}, headers=auth("customer", **{"Idempotency-Key": k}))
    assert resp.status_code == 201


# --- If-Match ----------------------------------------------------------------------------------


def test_patch_needs_if_match_and_refuses_a_stale_one(client):
    offering = _akdb_offering(client)
    url = f"/offerings/{offering['id']}"
    etag = client.get(url, headers=auth("provider")).headers["ETag"]
    missing = client.patch(url, json={"summary": "neu"}, headers=auth("provider"))
    assert missing.status_code == 428 and missing.json()["type"] == "/problems/if-match-required"
    ok = client.patch(url, json={"summary": "neu"}, headers=auth("provider", **{"If-Match": etag}))
    assert ok.status_code == 200 and ok.json()["summary"] == "neu"
    assert ok.headers["ETag"] != etag
    stale = client.patch(url, json={"summary": "verloren"}, headers=auth("provider", **{"If-Match": etag}))
    assert stale.status_code == 412 and stale.json()["type"] == "/problems/stale-etag"
    assert client.get(url, headers=auth("provider")).json()["summary"] == "neu"  # no lost update


def test_patch_validates_unit_price_against_the_key(client):
    offering = _akdb_offering(client)
    url = f"/offerings/{offering['id']}"
    etag = client.get(url, headers=auth("provider")).headers["ETag"]
    resp = client.patch(url, json={"distribution_key": "per_case", "unit_price": None},
                        headers=auth("provider", **{"If-Match": etag}))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "unit_price"


# --- the order flow ----------------------------------------------------------------------------


def _move(client, order_id, who, action, **extra):
    return client.post(f"/orders/{order_id}/transitions", json={"action": action, **extra},
                       headers=auth(who, **{"Idempotency-Key": key()}))


def test_interest_proposal_binding_order_activation_with_audit_trail(client):
    offering = _akdb_offering(client)
    created = client.post("/orders", json={"offering_id": offering["id"], "message": "Interesse", "desired_start": "2027-01-01"},
                          headers=auth("customer", **{"Idempotency-Key": key()}))
    assert created.status_code == 201
    order = created.json()
    assert order["state"] == "interest" and order["allowed_actions"] == ["withdraw"]
    assert order["leitweg_id"]  # preset from the organisation

    # The customer cannot skip the proposal; the provider cannot order for the customer.
    assert _move(client, order["id"], "customer", "order").status_code == 409
    assert _move(client, order["id"], "provider", "order").status_code == 403

    proposed = _move(client, order["id"], "provider", "propose", note="Wie besprochen",
                     fees={"annual_fee": "999.99", "one_time_fee": "100.00"})
    assert proposed.status_code == 200
    fees = proposed.json()["fees"]
    assert fees["annual_fee"] == "999.99" and fees["one_time_fee"] == "100.00"
    assert fees["distribution_key"] == offering["fees"]["distribution_key"]

    bound = _move(client, order["id"], "customer", "order", note="verbindlich")
    assert bound.status_code == 200
    assert bound.json()["state"] == "ordered" and bound.json()["ordered_by"] and bound.json()["ordered_at"]

    # Frozen: the provider can no longer change the fees.
    assert _move(client, order["id"], "provider", "propose", fees={"annual_fee": "1.00"}).status_code == 409
    active = _move(client, order["id"], "provider", "activate")
    assert active.json()["state"] == "active" and active.json()["start_date"] == "2027-01-01"
    assert active.json()["fees"]["annual_fee"] == "999.99"

    events = client.get(f"/orders/{order['id']}/events", headers=auth("customer")).json()["items"]
    assert [(e["action"], e["to_state"]) for e in events] == [
        ("create", "interest"), ("propose", "proposed"), ("order", "ordered"), ("activate", "active")]
    assert events[1]["note"] == "Wie besprochen" and events[1]["actor"]["role"] == "provider"
    assert events[2]["data"]["annual_fee"] == "999.99"  # what was agreed, on the record
    # Support reads the trail but cannot act.
    assert client.get(f"/orders/{order['id']}/events", headers=auth("support")).status_code == 200
    assert _move(client, order["id"], "support", "terminate").status_code == 403


def test_rejection_needs_a_reason_and_final_states_stay_final(client):
    offering = _akdb_offering(client)
    order = client.post("/orders", json={"offering_id": offering["id"]}, headers=auth("customer")).json()
    no_reason = _move(client, order["id"], "provider", "reject")
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "note"
    assert _move(client, order["id"], "provider", "reject", note="nicht verfügbar").json()["state"] == "rejected"
    again = _move(client, order["id"], "customer", "withdraw")
    assert again.status_code == 409 and again.json()["allowed_actions"] == []


def test_fees_only_with_propose(client):
    offering = _akdb_offering(client)
    order = client.post("/orders", json={"offering_id": offering["id"]}, headers=auth("customer")).json()
    resp = _move(client, order["id"], "customer", "withdraw", fees={"annual_fee": "1.00"})
    assert resp.status_code == 422


def test_order_transition_with_stale_if_match_is_refused(client):
    """A customer accepting a proposal sends the ETag of the version they read: a proposal revised
    meanwhile is not bound by accident."""
    offering = _akdb_offering(client)
    order = client.post("/orders", json={"offering_id": offering["id"]}, headers=auth("customer")).json()
    _move(client, order["id"], "provider", "propose")
    seen = client.get(f"/orders/{order['id']}", headers=auth("customer")).headers["ETag"]
    _move(client, order["id"], "provider", "propose", fees={"annual_fee": "5000.00"})
    resp = client.post(f"/orders/{order['id']}/transitions", json={"action": "order"},
                       headers=auth("customer", **{"If-Match": seen, "Idempotency-Key": key()}))
    assert resp.status_code == 412
    assert client.get(f"/orders/{order['id']}", headers=auth("customer")).json()["state"] == "proposed"


def test_patch_retried_with_its_idempotency_key_after_a_lost_reply_is_not_a_conflict(client):
    """The client's retry of a PATCH whose reply got lost carries the same key and If-Match:
    it gets the first answer back, not a 412 caused by its own change."""
    offering = _akdb_offering(client)
    url = f"/offerings/{offering['id']}"
    etag = client.get(url, headers=auth("provider")).headers["ETag"]
    headers = auth("provider", **{"If-Match": etag, "Idempotency-Key": key()})
    first = client.patch(url, json={"summary": "einmal"}, headers=headers)
    retry = client.patch(url, json={"summary": "einmal"}, headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.headers.get("Idempotent-Replayed") == "true"
    other = client.patch(url, json={"summary": "einmal"}, headers=auth("provider", **{"If-Match": etag, "Idempotency-Key": key()}))
    assert other.status_code == 412  # a new request with the old ETag is still refused
