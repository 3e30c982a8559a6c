"""The administration endpoints on the wire: organisations' accreditation and in-house
relationship, users, tokens and the audit log. Every path of them lives here."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from .routes import ORGANIZATIONS

if TYPE_CHECKING:  # an annotation only: the offline banner reaches this module at the first status
    from .client import ApiClient


def organization_path(org_id: int) -> str:
    return f"/organizations/{int(org_id)}"


def users_path(org_id: int) -> str:
    return f"/organizations/{int(org_id)}/users"


def user_path(user_id: int) -> str:
    return f"/users/{int(user_id)}"


def accreditation_path(org_id: int) -> str:
    return f"/organizations/{int(org_id)}/accreditation"


async def organizations(api: ApiClient) -> list[dict[str, Any]]:
    return [item async for item in api.iter_items(ORGANIZATIONS)]


async def organization(api: ApiClient, org_id: int) -> tuple[dict[str, Any], str]:
    """The organisation and its ETag (for an If-Match edit)."""
    resp = await api.request("GET", organization_path(org_id))
    return resp.data, resp.headers.get("etag", "")


async def users(api: ApiClient, org_id: int) -> list[dict[str, Any]]:
    return [item async for item in api.iter_items(users_path(org_id))]


async def user(api: ApiClient, user_id: int) -> tuple[dict[str, Any], str]:
    """The user and its ETag (for an If-Match edit)."""
    resp = await api.request("GET", user_path(user_id))
    return resp.data, resp.headers.get("etag", "")


async def tokens(api: ApiClient, user_id: int) -> list[dict[str, Any]]:
    resp = await api.request("GET", f"{user_path(user_id)}/tokens")
    return list(resp.data.get("items") or [])


async def issue_token(api: ApiClient, user_id: int, name: str, days: int, scope: str) -> dict[str, Any]:
    """A new token; the answer holds its secret (``token``) this once. Sent directly, never
    through the outbox: the secret must not rest on disk."""
    resp = await api.request("POST", f"{user_path(user_id)}/tokens",
                             json={"name": name, "expires_in_days": days, "scope": scope},
                             headers={"Idempotency-Key": str(uuid.uuid4())})
    token: dict[str, Any] = resp.data
    return token


async def revoke_token(api: ApiClient, token_id: int) -> None:
    await api.request("DELETE", f"/tokens/{int(token_id)}")


async def audit(api: ApiClient, organization_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": limit}
    if organization_id is not None:
        params["organization_id"] = organization_id
    resp = await api.request("GET", "/audit", params=params)
    return list(resp.data.get("items") or [])
