"""Verwaltung: organisations' accreditation and in-house relationship, users, tokens and the
audit log — read live from the server (who may do what now is never taken from a cache).

Changes to organisations and users are ``Write``s like every form's (the outbox, one outcome);
a new token is not: its answer holds the secret, which must never rest on disk.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..api import administration as wire
from .writes import Write


class AdministrationService:
    def __init__(self, api: Any):
        self._api = api

    async def _ready(self) -> Any:
        await asyncio.to_thread(self._api.get)
        return self._api.get()

    async def organizations(self) -> list[dict[str, Any]]:
        return await wire.organizations(await self._ready())

    async def organization(self, org_id: int) -> tuple[dict[str, Any], str]:
        """The organisation and its ETag (for an If-Match edit)."""
        return await wire.organization(await self._ready(), org_id)

    async def users(self, org_id: int) -> list[dict[str, Any]]:
        return await wire.users(await self._ready(), org_id)

    async def tokens(self, user_id: int) -> list[dict[str, Any]]:
        return await wire.tokens(await self._ready(), user_id)

    async def issue_token(self, user_id: int, name: str, days: int, scope: str) -> dict[str, Any]:
        return await wire.issue_token(await self._ready(), user_id, name, days, scope)

    async def revoke_token(self, token_id: int) -> None:
        await wire.revoke_token(await self._ready(), token_id)

    async def audit(self, organization_id: int | None = None) -> list[dict[str, Any]]:
        return await wire.audit(await self._ready(), organization_id)

    @staticmethod
    def accreditation(org_id: int, state: str, reason: str) -> Write:
        return Write("organization.accreditation", "POST", wire.accreditation_path(org_id),
                     {"state": state, "reason": reason})

    @staticmethod
    def inhouse(org_id: int, operator_id: int, basis: str, etag: str) -> Write:
        return Write("organization.patch", "PATCH", wire.organization_path(org_id),
                     {"inhouse_operator_id": operator_id, "inhouse_basis": basis}, if_match=etag)

    @staticmethod
    def new_user(org_id: int, name: str, email: str, role: str, admin: bool) -> Write:
        return Write("user.create", "POST", wire.users_path(org_id),
                     {"name": name, "email": email, "role": role, "admin": admin})
