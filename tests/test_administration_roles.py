"""An organisation's roles are a set and its Leitweg-IDs a list, over HTTP against the real
server: a Land that both orders and publishes, its users each acting in their own role; each
Leitweg-ID checked (MOD 97-10) with the 422 naming the item; the order's BT-10 defaults to the
organisation's first and may be any other."""

from __future__ import annotations

from support import auth

from efa_tui.domain.leitweg import make_leitweg_id

FIRST = make_leitweg_id("06", "HMDI")
SECOND = make_leitweg_id("06", "HMDIRECHNUNG")
LAND = {"key": "land-test", "roles": ["customer", "provider"], "name": "Land Testhessen", "short_name": "Testhessen",
        "ags": "06", "population": 6_300_000, "bundesland": "HE", "customer_type": "land",
        "leitweg_ids": [FIRST, SECOND]}
OFFERING = {"title": "Landesportal-Baustein", "category": "Querschnittsleistungen", "annual_fee": "1200.00"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _user_with_token(client, org_id: int, role: str) -> tuple[int, str]:
    user = client.post(f"/organizations/{org_id}/users", headers=auth("operator"),
                       json={"name": f"Sachbearbeitung {role}", "email": f"{role}@land.example", "role": role, "admin": False})
    assert user.status_code == 201, user.text
    token = client.post(f"/users/{user.json()['id']}/tokens", headers=auth("operator"),
                        json={"name": "Arbeitsplatz", "expires_in_days": 30, "scope": "write"})
    assert token.status_code == 201, token.text
    return user.json()["id"], token.json()["token"]


def _register_land(client) -> int:
    made = client.post("/organizations", json=LAND, headers=auth("operator"))
    assert made.status_code == 201, made.text
    org = made.json()
    assert org["roles"] == ["customer", "provider"] and org["user_roles"] == ["customer", "provider"]
    assert org["leitweg_ids"] == [FIRST, SECOND] and org["leitweg_id"] == FIRST
    operator = next(o["id"] for o in client.get("/organizations", params={"kind": "operator"}, headers=auth("operator")).json()["items"])
    etag = client.get(f"/organizations/{org['id']}", headers=auth("operator")).headers["etag"]
    assert client.patch(f"/organizations/{org['id']}", headers=auth("operator", **{"If-Match": etag}),
                        json={"inhouse_operator_id": operator, "inhouse_basis": "Träger"}).status_code == 200
    assert client.post(f"/organizations/{org['id']}/accreditation", headers=auth("operator"),
                       json={"state": "accredited", "reason": "geprüft"}).status_code == 200
    return org["id"]


def test_an_organisation_with_both_roles_publishes_and_orders_each_user_in_its_own_role(client) -> None:
    org_id = _register_land(client)
    _, provider = _user_with_token(client, org_id, "provider")
    _, customer = _user_with_token(client, org_id, "customer")
    # Neither operator nor support: those are an operator organisation's.
    refused = client.post(f"/organizations/{org_id}/users", headers=auth("operator"),
                          json={"name": "X", "email": "x@land.example", "role": "support", "admin": False})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "role"

    draft = client.post("/offerings", json=OFFERING, headers=_bearer(provider))
    assert draft.status_code == 201, draft.text
    published = client.post(f"/offerings/{draft.json()['id']}/publish", headers=_bearer(provider))
    assert published.status_code == 200, published.text
    # The provider user publishes but does not order; the customer user orders, not publishes.
    assert not client.get("/me", headers=_bearer(provider)).json()["can_order"]
    assert client.get("/me", headers=_bearer(customer)).json()["can_order"]
    other = next(o for o in client.get("/offerings", params={"status": "published", "limit": 50},
                                       headers=_bearer(customer)).json()["items"] if o["provider"]["id"] != org_id)
    assert client.post("/orders", json={"offering_id": other["id"]}, headers=_bearer(provider)).status_code == 403
    # Its customer user cannot order the organisation's own offering: a contract needs two parties.
    own = client.post("/orders", json={"offering_id": draft.json()["id"]}, headers=_bearer(customer))
    assert own.status_code == 422 and own.json()["errors"][0]["code"] == "own_offering", own.text
    assert client.post("/offerings", json=OFFERING, headers=_bearer(customer)).status_code == 403
    order = client.post("/orders", json={"offering_id": other["id"]}, headers=_bearer(customer))
    assert order.status_code == 201, order.text
    assert order.json()["leitweg_id"] == FIRST  # the organisation's default
    second = client.post("/orders", json={"offering_id": other["id"], "leitweg_id": SECOND}, headers=_bearer(customer))
    assert second.status_code == 201 and second.json()["leitweg_id"] == SECOND
    # The directory lists it among providers and among customers.
    for kind in ("provider", "customer"):
        keys = {o["key"] for o in client.get("/organizations", params={"kind": kind, "limit": 1000},
                                             headers=auth("operator")).json()["items"]}
        assert "land-test" in keys, kind


def test_each_leitweg_id_is_checked_and_the_problem_names_its_item(client) -> None:
    bad = client.post("/organizations", headers=auth("operator"),
                      json={**LAND, "leitweg_ids": [FIRST, "06-HMDI-00", FIRST]})
    assert bad.status_code == 422
    errors = bad.json()["errors"]
    assert [e["field"] for e in errors] == ["leitweg_ids.1", "leitweg_ids.2"]
    assert "MOD 97-10" in errors[0]["message"] and "Prüfziffern" in errors[0]["message_de"]
    assert "already" in errors[1]["message"]

    org_id = _register_land(client)
    path = f"/organizations/{org_id}"
    etag = client.get(path, headers=auth("operator")).headers["etag"]
    stale = client.patch(path, headers=auth("operator", **{"If-Match": etag}), json={"leitweg_ids": [SECOND, "x"]})
    assert stale.status_code == 422 and stale.json()["errors"][0]["field"] == "leitweg_ids.1"
    changed = client.patch(path, headers=auth("operator", **{"If-Match": etag}), json={"leitweg_ids": [SECOND]})
    assert changed.status_code == 200 and changed.json()["leitweg_ids"] == [SECOND]
    assert client.get(path, headers=auth("operator")).json()["leitweg_id"] == SECOND
    # Without If-Match, as every PATCH: 428.
    assert client.patch(path, headers=auth("operator"), json={"leitweg_ids": []}).status_code == 428


def test_an_organisation_keeps_a_role_while_users_have_it(client) -> None:
    org_id = _register_land(client)
    user_id, _ = _user_with_token(client, org_id, "provider")
    path = f"/organizations/{org_id}"
    etag = client.get(path, headers=auth("operator")).headers["etag"]
    refused = client.patch(path, headers=auth("operator", **{"If-Match": etag}), json={"roles": ["customer"]})
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/role-in-use"
    user_etag = client.get(f"/users/{user_id}", headers=auth("operator")).headers["etag"]
    assert client.patch(f"/users/{user_id}", headers=auth("operator", **{"If-Match": user_etag}),
                        json={"role": "customer"}).status_code == 200
    done = client.patch(path, headers=auth("operator", **{"If-Match": etag}), json={"roles": ["customer"]})
    assert done.status_code == 200 and done.json()["roles"] == ["customer"] and done.json()["kind"] == "customer"
    bad = client.patch(path, headers=auth("operator", **{"If-Match": done.headers["etag"]}), json={"roles": ["customer", "customer"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "roles"
    # An operator organisation keeps its one role.
    operator = next(o for o in client.get("/organizations", params={"kind": "operator"}, headers=auth("operator")).json()["items"])
    etag = client.get(f"/organizations/{operator['id']}", headers=auth("operator")).headers["etag"]
    assert operator["roles"] == ["operator"] and operator["user_roles"] == ["operator", "support"]
    assert client.patch(f"/organizations/{operator['id']}", headers=auth("operator", **{"If-Match": etag}),
                        json={"roles": ["provider"]}).status_code == 422


def test_the_demo_has_an_organisation_that_orders_and_provides_and_one_with_two_leitweg_ids(client) -> None:
    orgs = {o["key"]: o for o in client.get("/organizations", params={"limit": 1000}, headers=auth("operator")).json()["items"]}
    assert orgs["hamburg"]["roles"] == ["customer", "provider"]
    assert len(orgs["muenchen"]["leitweg_ids"]) == 2
    users = client.get(f"/organizations/{orgs['hamburg']['id']}/users", headers=auth("operator")).json()["items"]
    assert {u["role"] for u in users} == {"customer", "provider"}
