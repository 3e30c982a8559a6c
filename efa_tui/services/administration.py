"""Administration (Verwaltung): organisations, users, tokens and the audit log, read and changed
directly on the server (a token's secret must never rest in the outbox); the paths live in
``api/administration.py``."""

from __future__ import annotations

from typing import Any

from ..api import administration as wire
from ..api import routes
from .writes import Write


class AdministrationService:
    def __init__(self, api: Any):
        self._api = api

    def server_url(self) -> str:
        """The API's address as this client reaches it: what a new user gives ``efa-tui login --server``."""
        return str(getattr(self._api, "base_url", "") or "")

    async def organizations(self) -> list[dict[str, Any]]:
        return await wire.organizations(self._api)

    async def organization(self, org_id: int) -> tuple[dict[str, Any], str]:
        return await wire.organization(self._api, org_id)

    async def users(self, org_id: int) -> list[dict[str, Any]]:
        return await wire.users(self._api, org_id)

    async def user(self, user_id: int) -> tuple[dict[str, Any], str]:
        return await wire.user(self._api, user_id)

    async def tokens(self, user_id: int) -> list[dict[str, Any]]:
        return await wire.tokens(self._api, user_id)

    async def issue_token(self, user_id: int, name: str, days: int, scope: str) -> dict[str, Any]:
        return await wire.issue_token(self._api, user_id, name, days, scope)

    async def revoke_token(self, token_id: int) -> None:
        await wire.revoke_token(self._api, token_id)

    async def audit(self, organization_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
        return await wire.audit(self._api, organization_id, limit)

    # --- writes through the outbox --------------------------------------------------------------

    @staticmethod
    def accreditation(org_id: int, body: dict[str, Any]) -> Write:
        return Write("organization.accreditation", "POST", wire.accreditation_path(org_id), body)

    @staticmethod
    def create_organization(body: dict[str, Any]) -> Write:
        return Write("organization.create", "POST", routes.ORGANIZATIONS, body)

    @staticmethod
    def patch_organization(org_id: int, changes: dict[str, Any], if_match: str | None) -> Write:
        return Write("organization.patch", "PATCH", wire.organization_path(org_id), changes, if_match)

    @staticmethod
    def create_user(org_id: int, body: dict[str, Any]) -> Write:
        return Write("user.create", "POST", wire.users_path(org_id), body)

    @staticmethod
    def patch_user(user_id: int, changes: dict[str, Any], if_match: str | None) -> Write:
        return Write("user.patch", "PATCH", wire.user_path(user_id), changes, if_match)
