"""Administration (Verwaltung): organisations, users, tokens and the audit log, read and changed
directly on the server (a token's secret must never rest in the outbox); the paths live in
``api/administration.py``.

Nothing of it is cached (it is about who may do what now): a list read answers a ``Read`` aged
by the server's answer, and without the server it raises ``Unreachable`` — there is no offline
fallback to give."""

from __future__ import annotations

from typing import Any

from ..api import administration as wire
from ..api import routes
from ..api.models import AuditEntry, Organization, Token, User
from .outcome import Read, now
from .writes import Write


class AdministrationService:
    def __init__(self, api: Any):
        self._api = api

    def server_url(self) -> str:
        """The API's address as this client reaches it: what a new user gives ``efa-tui login --server``."""
        return str(getattr(self._api, "base_url", "") or "")

    # The reads answer typed records (converted here, once); the screens use their attributes.

    async def organizations(self) -> Read[list[Organization]]:
        return Read([Organization.model_validate(o) for o in await wire.organizations(self._api)], now())

    async def organization(self, org_id: int) -> tuple[Organization, str]:
        record, etag = await wire.organization(self._api, org_id)
        return Organization.model_validate(record), etag

    async def users(self, org_id: int) -> Read[list[User]]:
        return Read([User.model_validate(u) for u in await wire.users(self._api, org_id)], now())

    async def user(self, user_id: int) -> tuple[User, str]:
        record, etag = await wire.user(self._api, user_id)
        return User.model_validate(record), etag

    async def tokens(self, user_id: int) -> Read[list[Token]]:
        return Read([Token.model_validate(t) for t in await wire.tokens(self._api, user_id)], now())

    async def issue_token(self, user_id: int, name: str, days: int, scope: str) -> dict[str, Any]:
        """The server's answer as it came: the one-time secret (``token``) with the token's fields."""
        return await wire.issue_token(self._api, user_id, name, days, scope)

    async def revoke_token(self, token_id: int) -> None:
        await wire.revoke_token(self._api, token_id)

    async def audit(self, organization_id: int | None = None, limit: int = 200) -> Read[list[AuditEntry]]:
        return Read([AuditEntry.model_validate(e) for e in await wire.audit(self._api, organization_id, limit)], now())

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
