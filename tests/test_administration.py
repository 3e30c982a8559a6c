"""Administration over HTTP: an operator accredits a new municipality with its in-house
relationship, adds its first user and hands over a token; tokens by scope, expiry and
revocation; an organisation's admin manages its own users only; every change in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from support import auth

from efa_tui.domain.administration import user_email_ok
from efa_tui.server import db

NEW_TOWN = {"key": "neustadt", "kind": "customer", "name": "Stadt Neustadt an der Weinstraße",
            "short_name": "Neustadt", "ags": "07316000", "population": 53_000, "bundesland": "RP",
            "leitweg_id": "992-90009-96"}


def _org_id(client, key: str) -> int:
    return next(o["id"] for o in client.get("/organizations", params={"limit": 1000}, headers=auth("operator")).json()["items"]
                if o["key"] == key)


def _etag(client, path: str, who: str = "operator") -> str:
    return client.get(path, headers=auth(who)).headers["etag"]


def _bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _register_with_user(client) -> tuple[int, int, str]:
    org = client.post("/organizations", json=NEW_TOWN, headers=auth("operator"))
    assert org.status_code == 201, org.text
    org_id = org.json()["id"]
    user = client.post(f"/organizations/{org_id}/users", headers=auth("operator"),
                       json={"name": "Erika Mustermann", "email": "erika@neustadt.example", "role": "customer", "admin": True})
    assert user.status_code == 201, user.text
    token = client.post(f"/users/{user.json()['id']}/tokens", headers=auth("operator"),
                        json={"name": "Arbeitsplatz", "expires_in_days": 30, "scope": "write"})
    assert token.status_code == 201, token.text
    return org_id, user.json()["id"], token.json()["token"]


def test_accredit_a_new_municipality_add_its_user_and_hand_over_a_token(client) -> None:
    org_id, user_id, secret = _register_with_user(client)
    org = client.get(f"/organizations/{org_id}", headers=auth("operator")).json()
    assert org["accreditation"]["state"] == "applied"

    me = client.get("/me", headers=_bearer(secret)).json()
    assert me["name"] == "Erika Mustermann" and me["organization"]["id"] == org_id and me["admin"] is True
    assert me["can_order"] is False and "not accredited" in me["can_order_reason"]
    offering = client.get("/offerings", params={"limit": 1}, headers=_bearer(secret)).json()["items"][0]
    refused = client.post("/orders", json={"offering_id": offering["id"], "message": "Interesse"}, headers=_bearer(secret))
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/not-accredited"

    accredited = client.post(f"/organizations/{org_id}/accreditation", headers=auth("operator"),
                             json={"state": "accredited", "reason": "Satzung und Trägerschaft geprüft"})
    assert accredited.status_code == 200, accredited.text
    assert accredited.json()["accreditation"]["by"] and accredited.json()["accreditation"]["at"]
    govdigital = _org_id(client, "govdigital")
    inhouse = client.patch(f"/organizations/{org_id}", headers=auth("operator", **{"If-Match": _etag(client, f"/organizations/{org_id}")}),
                           json={"inhouse_operator_id": govdigital, "inhouse_basis": "Mitglied der govdigital eG"})
    assert inhouse.status_code == 200, inhouse.text

    # Takes effect at once for ordering.
    me = client.get("/me", headers=_bearer(secret)).json()
    assert me["can_order"] is True
    ordered = client.post("/orders", json={"offering_id": offering["id"], "message": "Interesse"}, headers=_bearer(secret))
    assert ordered.status_code == 201, ordered.text

    # The audit log has every step, with before → after.
    log = client.get("/audit", params={"organization_id": org_id}, headers=auth("operator")).json()["items"]
    actions = [e["action"] for e in reversed(log)]
    assert actions == ["organization.created", "user.created", "token.created", "organization.accreditation",
                       "organization.changed"]
    change = log[0]
    assert change["before"]["inhouse_operator_id"] is None and change["after"]["inhouse_operator_id"] == govdigital
    assert change["actor"]["name"]
    assert client.get("/audit", headers=auth("support")).status_code == 200
    assert client.get("/audit", headers=auth("customer")).status_code == 403


def test_a_token_secret_is_shown_once_and_never_listed(client) -> None:
    _org_id_, user_id, secret = _register_with_user(client)
    listed = client.get(f"/users/{user_id}/tokens", headers=auth("operator")).json()["items"]
    assert len(listed) == 1 and "token" not in listed[0] and "token_sha256" not in listed[0]
    assert listed[0]["prefix"] == secret[:12] and listed[0]["last_used_at"] is None
    client.get("/me", headers=_bearer(secret))
    assert client.get(f"/users/{user_id}/tokens", headers=auth("operator")).json()["items"][0]["last_used_at"]
    # A replay of the same request (same Idempotency-Key) answers the record, not the secret again.
    body = {"name": "Zweitgerät", "expires_in_days": 7, "scope": "read"}
    first = client.post(f"/users/{user_id}/tokens", json=body, headers=auth("operator", **{"Idempotency-Key": "t-1"}))
    again = client.post(f"/users/{user_id}/tokens", json=body, headers=auth("operator", **{"Idempotency-Key": "t-1"}))
    assert first.json()["token"].startswith("efa_")
    assert again.headers.get("idempotent-replayed") == "true" and again.json()["token"] is None
    assert again.json()["id"] == first.json()["id"]


def test_revoked_expired_read_only_and_disabled(client) -> None:
    org_id, user_id, secret = _register_with_user(client)
    reader = client.post(f"/users/{user_id}/tokens", headers=auth("operator"),
                         json={"name": "Auswertung", "expires_in_days": 1, "scope": "read"}).json()
    assert client.get("/orders", headers=_bearer(reader["token"])).status_code == 200
    write = client.post("/orders", json={"offering_id": 1, "message": "x"}, headers=_bearer(reader["token"]))
    assert write.status_code == 403 and write.json()["type"] == "/problems/token-read-only"

    with db.writing(client.app.state.engine) as conn:
        conn.execute(update(db.api_tokens).where(db.api_tokens.c.id == reader["id"])
                     .values(expires_at=db.utcnow() - timedelta(minutes=1)))
    expired = client.get("/me", headers=_bearer(reader["token"]))
    assert expired.status_code == 401 and expired.json()["type"] == "/problems/token-expired"
    assert "expired" in expired.json()["detail"]

    token_id = client.get(f"/users/{user_id}/tokens", headers=auth("operator")).json()["items"][0]["id"]
    assert client.delete(f"/tokens/{token_id}", headers=auth("operator")).status_code == 204
    revoked = client.get("/me", headers=_bearer(secret))
    assert revoked.status_code == 401 and revoked.json()["type"] == "/problems/token-revoked"

    fresh = client.post(f"/users/{user_id}/tokens", headers=auth("operator"), json={"name": "neu"}).json()["token"]
    assert client.get("/me", headers=_bearer(fresh)).status_code == 200
    disabled = client.patch(f"/users/{user_id}", json={"disabled": True},
                            headers=auth("operator", **{"If-Match": _etag(client, f"/users/{user_id}")}))
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert client.get("/me", headers=_bearer(fresh)).json()["type"] == "/problems/user-disabled"


def test_an_organisations_admin_manages_its_own_users_only(client) -> None:
    muenchen, hamburg = _org_id(client, "muenchen"), _org_id(client, "hamburg")
    own = client.post(f"/organizations/{muenchen}/users", headers=auth("customer"),
                      json={"name": "Max Huber", "email": "max.huber@muenchen.example", "role": "customer"})
    assert own.status_code == 201, own.text
    assert client.get(f"/organizations/{muenchen}/users", headers=auth("customer")).status_code == 200
    # Another organisation's users: not even visible.
    assert client.get(f"/organizations/{hamburg}/users", headers=auth("customer")).status_code == 404
    assert client.post(f"/organizations/{hamburg}/users", headers=auth("customer"),
                       json={"name": "X", "email": "x@y.example", "role": "customer"}).status_code == 404
    # A user who is not admin may not add users.
    token = client.post(f"/users/{own.json()['id']}/tokens", headers=auth("customer"), json={"name": "t"}).json()["token"]
    refused = client.post(f"/organizations/{muenchen}/users", headers=_bearer(token),
                          json={"name": "Y", "email": "y@muenchen.example", "role": "customer"})
    assert refused.status_code == 403
    # Support reads, writes nothing.
    assert client.get(f"/organizations/{hamburg}/users", headers=auth("support")).status_code == 200
    assert client.post(f"/organizations/{hamburg}/users", headers=auth("support"),
                       json={"name": "Z", "email": "z@h.example", "role": "customer"}).status_code == 403


def test_roles_must_fit_the_organisation_and_types_are_strict(client) -> None:
    muenchen = _org_id(client, "muenchen")
    wrong = client.post(f"/organizations/{muenchen}/users", headers=auth("operator"),
                        json={"name": "Anna", "email": "anna@muenchen.example", "role": "provider"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "role"
    for body in ({"name": "A", "email": "a@b.example", "role": "customer", "admin": "true"},
                 {"name": "A", "email": "a@b.example", "role": "customer", "admin": 1}):
        assert client.post(f"/organizations/{muenchen}/users", headers=auth("operator"), json=body).status_code == 422
    user_id = client.get(f"/organizations/{muenchen}/users", headers=auth("operator")).json()["items"][0]["id"]
    for days in (True, "30", 0, 10_000):
        r = client.post(f"/users/{user_id}/tokens", headers=auth("operator"), json={"name": "t", "expires_in_days": days})
        assert r.status_code == 422, days


def test_nobody_locks_themselves_out_and_stale_edits_are_refused(client) -> None:
    me = client.get("/me", headers=auth("customer")).json()
    path = f"/users/{me['id']}"
    lockout = client.patch(path, json={"disabled": True}, headers=auth("customer", **{"If-Match": _etag(client, path, "customer")}))
    assert lockout.status_code == 409
    stale = _etag(client, path, "customer")
    assert client.patch(path, json={"name": "Neuer Name"}, headers=auth("customer", **{"If-Match": stale})).status_code == 200
    assert client.patch(path, json={"name": "Noch einer"}, headers=auth("customer", **{"If-Match": stale})).status_code == 412


def test_an_organisations_art_and_ags_or_ars_are_checked_at_their_fields(client) -> None:
    def field_of(resp) -> list[str]:
        assert resp.status_code == 422, resp.text
        return [e["field"] for e in resp.json()["errors"]]

    op = auth("operator")
    assert field_of(client.post("/organizations", json={**NEW_TOWN, "ags": "17316000"}, headers=op)) == ["ags"]
    assert field_of(client.post("/organizations", json={**NEW_TOWN, "ags": "073160"}, headers=op)) == ["ags"]
    assert field_of(client.post("/organizations", json={**NEW_TOWN, "customer_type": "betreiber"}, headers=op)) == ["customer_type"]
    made = client.post("/organizations", json={**NEW_TOWN, "ags": "073165000000", "customer_type": "kommune"}, headers=op)
    assert made.status_code == 201, made.text
    assert (made.json()["ags"], made.json()["customer_type"]) == ("073165000000", "kommune")  # an ARS
    path = f"/organizations/{made.json()['id']}"
    changed = client.patch(path, json={"ags": "07316000", "customer_type": "kreis", "population_date": "2025-12-31"},
                           headers=auth("operator", **{"If-Match": _etag(client, path)}))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["ags"], changed.json()["customer_type"]) == ("07316000", "kreis")
    refused = client.patch(path, json={"customer_type": "betreiber"}, headers=auth("operator", **{"If-Match": _etag(client, path)}))
    assert field_of(refused) == ["customer_type"] and refused.json()["errors"][0]["message_de"]


@pytest.mark.parametrize(("email", "ok"), [("erika@neustadt.example", True), ("a@b", True), (" a@b ", True),
                                           ("a b@c", False), ("a@@b", False), ("@b", False), ("a@", False), ("", False)])
def test_a_users_email_is_one_rule_for_the_form_and_the_server(client, email, ok):
    """The form's check (user_email_ok) and the server's pattern are one rule (domain.administration)."""
    assert user_email_ok(email) is ok
    org = client.get("/me", headers=auth("customer")).json()["organization"]["id"]
    r = client.post(f"/organizations/{org}/users", headers=auth("customer"),
                    json={"name": "Probe", "email": email.strip(), "role": "customer"})
    assert (r.status_code == 201) is ok, r.text


def test_an_inhouse_relationship_binds_a_customer_to_an_operator_and_can_end(client) -> None:
    """Walk F13: it could be set but not ended, an operator could be made in-house with another,
    and the operator could suspend its own organisation."""
    operators = [o for o in client.get("/organizations", params={"limit": 1000}, headers=auth("operator")).json()["items"]
                 if o["kind"] == "operator"]
    fitko, govdigital = (next(o["id"] for o in operators if o["key"] == k) for k in ("fitko", "govdigital"))

    def patch(org_id: int, body: dict):
        path = f"/organizations/{org_id}"
        return client.patch(path, json=body, headers=auth("operator", **{"If-Match": _etag(client, path)}))

    refused = patch(fitko, {"inhouse_operator_id": govdigital, "inhouse_basis": "selbst"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "inhouse_operator_id"
    kreis = _org_id(client, "kreis-lippe")
    assert patch(kreis, {"inhouse_operator_id": govdigital, "inhouse_basis": "Mitglied"}).status_code == 200
    ended = patch(kreis, {"inhouse_operator_id": None})
    assert ended.status_code == 200, ended.text
    assert ended.json()["inhouse_operator_id"] is None and not ended.json()["inhouse"] and not ended.json().get("inhouse_basis")

    # Without the customer role the relationship ends with it (a new organisation: no users in the role).
    both = client.post("/organizations", headers=auth("operator"), json={
        "key": "itdz-test", "roles": ["customer", "provider"], "name": "IT-Dienstleistungszentrum Test"})
    assert both.status_code == 201, both.text
    assert patch(both.json()["id"], {"inhouse_operator_id": govdigital, "inhouse_basis": "Mitglied"}).status_code == 200
    provider_only = patch(both.json()["id"], {"roles": ["provider"]})
    assert provider_only.status_code == 200, provider_only.text
    assert provider_only.json()["inhouse_operator_id"] is None and not provider_only.json().get("inhouse_basis")

    suspend = client.post(f"/organizations/{govdigital}/accreditation", json={"state": "suspended", "reason": "Selbsttest"},
                          headers=auth("operator"))
    assert suspend.status_code == 409 and suspend.json()["type"].endswith("operator-suspended"), suspend.text


def test_the_audit_log_names_fields_and_values_as_the_forms_do():
    """It read "revoked_at: – → 2026-12-04T18:31:30.211049Z", "scope: – → write" (helper walk):
    the wire's names and an ISO time in the German UI of an audit."""
    from datetime import UTC, datetime

    from efa_tui import i18n
    from efa_tui.api.models import AuditEntry
    from efa_tui.screens.administration import audit_text

    entry = AuditEntry.model_validate({
        "id": 1, "at": datetime(2026, 12, 4, 18, 31, tzinfo=UTC), "action": "token.revoked",
        "actor": {"name": "Katharina Lorenz"}, "target": {"kind": "token", "id": 7},
        "before": {}, "after": {"revoked_at": "2026-12-04T18:31:30.211049Z", "scope": "write", "user_id": 23,
                                "roles": ["customer", "provider"], "disabled": True}})
    i18n.set_language("de")
    text = audit_text([entry]).plain
    for wire in ("revoked_at", "scope", "user_id", "2026-12-04T", "write", "customer", "True"):
        assert wire not in text, (wire, text)
    assert "widerrufen am: – → 04.12.2026" in text and "lesen und schreiben" in text and "Kunde, Bereitsteller" in text
    assert "gesperrt: – → ja" in text


def test_each_audit_entry_names_the_record_it_is_about():
    """"Benutzer geändert  Katharina Lorenz" named who changed it, never which user: the entry
    names its record as it was called (after the change, or before it), else its kind and number."""
    from efa_tui import i18n
    from efa_tui.api.models import AuditEntry
    from efa_tui.screens.administration import audit_text

    entries = [AuditEntry.model_validate(e) for e in (
        {"id": 1, "action": "user.changed", "actor": {"name": "Katharina Lorenz"}, "target": {"kind": "user", "id": 23},
         "before": {"name": "Erika Muster", "disabled": False}, "after": {"name": "Erika Musterfrau", "disabled": False}},
        {"id": 2, "action": "token.revoked", "actor": {"name": "Katharina Lorenz"}, "target": {"kind": "token", "id": 7},
         "before": {"name": "CI-Export"}, "after": {}},
        {"id": 3, "action": "organization.accreditation", "actor": {"name": "K. L."},
         "target": {"kind": "organization", "id": 5}, "before": None, "after": {"state": "accredited"}})]
    i18n.set_language("de")
    lines = [line for line in audit_text(entries).plain.splitlines() if not line.startswith(" ")]
    assert "Benutzer geändert: Erika Musterfrau  von Katharina Lorenz" in lines[0]
    assert "Token widerrufen: CI-Export" in lines[1]
    assert "Akkreditierung geändert: Organisation Nr. 5  von K. L." in lines[2]
    i18n.set_language("en")
    try:
        assert "Organisation no. 5  by K. L." in audit_text(entries).plain
    finally:
        i18n.set_language("de")


def test_a_token_entry_shows_what_was_issued_not_its_bookkeeping():
    """Under "Token ausgegeben" stood "created_at: – → 06.12.2026, 22:26", "id: – → 8" and
    "prefix: – → efa_YZX…" — the wire's names in the German UI (helper walk)."""
    from efa_tui import i18n
    from efa_tui.api.models import AuditEntry
    from efa_tui.screens.administration import audit_text

    entry = AuditEntry.model_validate({
        "id": 3, "action": "token.created", "actor": {"name": "Katharina Lorenz"}, "target": {"kind": "token", "id": 8},
        "before": None, "after": {"id": 8, "user_id": 51, "name": "Arbeitsplatz Test", "scope": "write",
                                  "prefix": "efa_YZXrLbrQ", "created_at": "2026-12-06T22:26:00Z", "last_used_at": None}})
    i18n.set_language("de")
    text = audit_text([entry]).plain
    for wire in ("created_at", "id:", "prefix", "last_used_at"):
        assert wire not in text, (wire, text)
    assert "Kennung (Anfang des Tokens): – → efa_YZXrLbrQ" in text and "Token ausgegeben: Arbeitsplatz Test" in text
