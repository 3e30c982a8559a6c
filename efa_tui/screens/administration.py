"""Verwaltung (operators, and an organisation's admin for its users): organisations with their
accreditation and in-house relationship, their users, tokens and the audit log.

Administration reads live from the server (nothing of it is cached: it is about who may do
what now). Changes to organisations and users go through the outbox like every form; a new
token does not — its secret is shown here once and must never rest on disk.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, DataTable, Static

from .. import formatting, i18n
from ..api.errors import ApiError, Unreachable
from ..domain.administration import ACCREDITED, MAX_TOKEN_DAYS, ROLES_BY_KIND, SUSPENDED, accreditation_step
from ..services.administration import AdministrationService
from ..text import clean
from ..widgets.form import FormField
from ..widgets.lists import DetailScroll, ListTable
from .base import AppModal, AppScreen
from .form_screen import FormScreen, Request


def _role_of(me: dict[str, Any] | None) -> str:
    return str((me or {}).get("role") or "")


def accreditation_text(org: dict[str, Any]) -> Text:
    state = ((org.get("accreditation") or {}).get("state")) or ACCREDITED
    style = {"accredited": "green", "applied": "yellow", "suspended": "bold red"}.get(state, "")
    return Text(i18n.t(f"admin.accreditation.{state}"), style=style)


def problem_text(exc: Exception) -> str:
    if isinstance(exc, Unreachable):
        return i18n.t("admin.offline")
    if isinstance(exc, ApiError):
        return clean(exc.detail or exc.title or str(exc))
    return clean(str(exc))


class AdministrationScreen(AppScreen):
    """The directory of organisations as the operator manages it (an organisation's admin sees
    its own organisation only)."""

    BINDINGS = [
        Binding("r", "refresh", "key.refresh", id="admin.refresh"),
        Binding("l", "audit", "admin.key.audit", id="admin.audit"),
    ]
    DEFAULT_CSS = """
    AdministrationScreen #admin-head { padding: 0 1; height: auto; }
    AdministrationScreen DataTable { height: 1fr; }
    """

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.organizations: dict[int, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        yield Static(i18n.t("admin.loading"), id="admin-head")
        table = ListTable(id="admin-orgs")
        self._columns(table)
        yield table

    def _columns(self, table: DataTable) -> None:
        width = self.app.size.width
        table.add_column(i18n.t("admin.col.name"), key="name", width=max(20, width - 52))
        table.add_column(i18n.t("admin.col.kind"), key="kind")
        table.add_column(i18n.t("admin.col.accreditation"), key="accreditation")
        table.add_column(i18n.t("admin.col.inhouse"), key="inhouse")

    def first_focus(self):
        return self.query_one("#admin-orgs", DataTable)

    def on_mount(self) -> None:
        self.load()

    async def relabel(self) -> None:
        table = self.query_one("#admin-orgs", DataTable)
        table.clear(columns=True)
        self._columns(table)
        self.load()

    @work(exclusive=True, group="admin-load", exit_on_error=False)
    async def load(self) -> None:
        head = self.query_one("#admin-head", Static)
        try:
            orgs = await self.session.services.administration.organizations()
        except (ApiError, Unreachable) as exc:
            head.update(Text(problem_text(exc), style="yellow"))
            return
        me = getattr(self.app, "me", None) or {}
        if _role_of(me) not in ("operator", "support"):
            own = (me.get("organization") or {}).get("id")
            orgs = [o for o in orgs if o["id"] == own]
        self.organizations = {o["id"]: o for o in orgs}
        names = {o["id"]: o.get("short_name") or o.get("name") for o in orgs}
        self.query_one("#admin-orgs", ListTable).fill(
            (o["id"], [Text(clean(o.get("name")), overflow="ellipsis", no_wrap=True), i18n.t(f"admin.kind.{o.get('kind')}"),
                       accreditation_text(o),
                       clean(names.get(o.get("inhouse_operator_id"), "")) if o.get("inhouse_operator_id") else "–"])
            for o in sorted(orgs, key=lambda o: (o.get("kind") != "operator", clean(o.get("name")).lower())))
        states = [((o.get("accreditation") or {}).get("state")) for o in orgs]
        head.update(i18n.t("admin.count", n=len(orgs), applied=states.count("applied"), suspended=states.count("suspended")))

    def action_refresh(self) -> None:
        self.load()

    @on(DataTable.RowSelected, "#admin-orgs")
    def _open(self, event: DataTable.RowSelected) -> None:
        org = self.organizations.get(int(event.row_key.value or 0))
        if org is not None:
            self.query_one("#admin-orgs", ListTable).remember(org["id"])
            self.app.push_screen(OrganizationScreen(self.session, org), lambda _=None: self.load())

    def action_audit(self) -> None:
        self.app.push_screen(AuditScreen(self.session, None))


class OrganizationScreen(AppScreen):
    """One organisation: its data, accreditation and in-house relationship, its users."""

    AUTO_FOCUS = "#org-users"  # j/k move in the users (the facts above scroll with the mouse)

    BINDINGS = [
        Binding("a", "accredit", "admin.key.accredit", id="admin.accredit"),
        Binding("s", "suspend", "admin.key.suspend", id="admin.suspend"),
        Binding("i", "inhouse", "admin.key.inhouse", id="admin.inhouse"),
        Binding("n", "new_user", "admin.key.new_user", id="admin.new_user"),
        Binding("t", "tokens", "admin.key.tokens", id="admin.tokens"),
        Binding("l", "audit", "admin.key.audit", id="admin.org_audit"),
        Binding("escape", "back", "key.back", id="admin.back"),
    ]
    DEFAULT_CSS = """
    OrganizationScreen #org-facts { padding: 0 1; height: auto; max-height: 12; }
    OrganizationScreen DataTable { height: 1fr; }
    """

    def __init__(self, session, org: dict[str, Any], **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.org = org
        self.etag = ""
        self.users: dict[int, dict[str, Any]] = {}
        self.operators: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield DetailScroll(Static("", id="org-facts-text"), id="org-facts")
        table = ListTable(id="org-users")
        table.add_column(i18n.t("admin.col.user"), key="name", width=max(16, self.app.size.width - 56))
        table.add_column(i18n.t("admin.col.email"), key="email", width=22)
        table.add_column(i18n.t("admin.col.role"), key="role")
        table.add_column(i18n.t("admin.col.status"), key="status")
        yield table

    def first_focus(self):
        return self.query_one("#org-users", DataTable)

    def on_mount(self) -> None:
        self.load()

    @property
    def is_operator(self) -> bool:
        return _role_of(getattr(self.app, "me", None)) == "operator"

    @work(exclusive=True, group="org-load", exit_on_error=False)
    async def load(self) -> None:
        try:
            self.org, self.etag = await self.session.services.administration.organization(self.org["id"])
            users = await self.session.services.administration.users(self.org["id"])
            if self.is_operator and not self.operators:
                self.operators = [o for o in await self.session.services.administration.organizations() if o.get("kind") == "operator"]
        except (ApiError, Unreachable) as exc:
            self.notify(problem_text(exc), severity="warning")
            return
        self.users = {u["id"]: u for u in users}
        self.query_one("#org-facts-text", Static).update(self.facts())
        rows = []
        for u in users:
            status = i18n.t("admin.user.disabled") if u.get("disabled") else i18n.t("admin.user.active")
            role = i18n.t(f"admin.role.{u.get('role')}") + (" · " + i18n.t("admin.user.admin") if u.get("admin") else "")
            rows.append((u["id"], [Text(clean(u.get("name")), overflow="ellipsis", no_wrap=True),
                                   Text(clean(u.get("email")), overflow="ellipsis", no_wrap=True), role, status]))
        self.query_one("#org-users", ListTable).fill(rows)

    def facts(self) -> Text:
        o = self.org
        acc = o.get("accreditation") or {}
        text = Text(clean(o.get("name")) + "\n", style="bold")
        text.append(i18n.t(f"admin.kind.{o.get('kind')}"))
        if o.get("ags"):
            text.append(f" · AGS {clean(o['ags'])}")
        if o.get("population"):
            text.append(" · " + i18n.t("admin.population", n=formatting.number(o["population"]),
                                        day=formatting.day(o.get("population_date")) if o.get("population_date") else "–"))
        text.append("\n" + i18n.t("admin.leitweg", id=clean(o.get("leitweg_id") or "–")))
        text.append("\n" + i18n.t("admin.col.accreditation") + ": ")
        text.append_text(accreditation_text(o))
        if acc.get("by"):
            text.append(" " + i18n.t("admin.accreditation.by", by=clean(acc["by"]), at=formatting.day(acc.get("at")),
                                      reason=clean(acc.get("reason") or "")), style="dim")
        operator = next((clean(op.get("name")) for op in self.operators if op["id"] == o.get("inhouse_operator_id")),
                        str(o.get("inhouse_operator_id") or ""))
        if o.get("inhouse_operator_id"):
            text.append("\n" + i18n.t("admin.inhouse.with", operator=operator, basis=clean(o.get("inhouse_basis") or "–")))
        elif o.get("kind") == "customer":  # only customers order: the relationship matters for them alone
            text.append("\n" + i18n.t("admin.inhouse.none"))
        text.append("\n" + i18n.t("admin.users", n=len(self.users)), style="bold")
        return text

    def selected_user(self) -> dict[str, Any] | None:
        table = self.query_one("#org-users", ListTable)
        user = table.selected(self.users, none="admin.no_user")
        if user is not None:
            table.remember()
        return user

    def action_back(self) -> None:
        self.dismiss(None)

    def _step(self, target: str) -> None:
        if not self.is_operator:
            self.notify(i18n.t("admin.operator_only"), severity="warning")
            return
        current = (self.org.get("accreditation") or {}).get("state") or ACCREDITED
        refusal = accreditation_step(current, target)
        if refusal:
            self.notify(refusal.de if i18n.current_language() == "de" else refusal.en, severity="warning")
            return
        self.keys_to_next_screen()
        self.app.push_screen(AccreditationForm(self.session, self.org, target), lambda _=None: self.load())

    def action_accredit(self) -> None:
        self._step(ACCREDITED)

    def action_suspend(self) -> None:
        self._step(SUSPENDED)

    def action_inhouse(self) -> None:
        if not self.is_operator:
            self.notify(i18n.t("admin.operator_only"), severity="warning")
            return
        self.keys_to_next_screen()
        self.app.push_screen(InhouseForm(self.session, self.org, self.etag, self.operators), lambda _=None: self.load())

    def action_new_user(self) -> None:
        self.keys_to_next_screen()
        self.app.push_screen(UserForm(self.session, self.org), lambda _=None: self.load())

    def action_tokens(self) -> None:
        user = self.selected_user()
        if user is not None:
            self.app.push_screen(TokensScreen(self.session, user))

    @on(DataTable.RowSelected, "#org-users")
    def _open_user(self) -> None:
        self.action_tokens()

    def action_audit(self) -> None:
        self.app.push_screen(AuditScreen(self.session, self.org["id"]))


class AccreditationForm(FormScreen):
    """Accredit or suspend: the reason is recorded with who and when."""

    def __init__(self, session, org: dict[str, Any], target: str, **kwargs):
        super().__init__(session, f"admin.accreditation:{org['id']}:{target}", **kwargs)
        self.org = org
        self.target = target

    @property
    def title_text(self) -> str:
        return i18n.t(f"admin.form.{self.target}", name=clean(self.org.get("name")))

    def fields(self) -> list[FormField]:
        return [FormField("reason", "admin.field.reason", kind="area", required=True)]

    def request(self, values: dict[str, Any]) -> Request:
        return Request(AdministrationService.accreditation(self.org["id"], {"state": self.target, "reason": values["reason"]}),
                       i18n.t(f"admin.form.{self.target}", name=clean(self.org.get("short_name") or self.org.get("name"))),
                       related=f"organization:{self.org['id']}")


class InhouseForm(FormScreen):
    """The in-house relationship to an operator and what it rests on (If-Match: nothing changed
    unseen in between)."""

    title_id = "admin.form.inhouse"

    def __init__(self, session, org: dict[str, Any], etag: str, operators: list[dict[str, Any]], **kwargs):
        defaults = {"inhouse_operator_id": str(org.get("inhouse_operator_id") or ""), "inhouse_basis": org.get("inhouse_basis") or ""}
        super().__init__(session, f"admin.inhouse:{org['id']}", defaults, **kwargs)
        self.org, self.etag, self.operators = org, etag, operators

    def fields(self) -> list[FormField]:
        options = [(str(op["id"]), clean(op.get("name"))) for op in self.operators]
        return [FormField("inhouse_operator_id", "admin.field.operator", kind="select", options=options, required=True),
                FormField("inhouse_basis", "admin.field.basis", required=True, hint="admin.field.basis_hint")]

    def request(self, values: dict[str, Any]) -> Request:
        changes = {"inhouse_operator_id": int(values["inhouse_operator_id"]), "inhouse_basis": values["inhouse_basis"]}
        return Request(AdministrationService.patch_organization(self.org["id"], changes, self.etag),
                       i18n.t("admin.form.inhouse"), related=f"organization:{self.org['id']}")


def _email_check(value: str) -> str | None:
    return None if "@" in value.strip()[1:-1] else i18n.t("admin.field.email_bad")


class UserForm(FormScreen):
    """A new user of the organisation, with a role the organisation can give."""

    title_id = "admin.form.user"

    def __init__(self, session, org: dict[str, Any], **kwargs):
        roles = ROLES_BY_KIND.get(str(org.get("kind")), ())
        super().__init__(session, f"admin.user:{org['id']}", {"role": roles[0] if roles else ""}, **kwargs)
        self.org = org
        self.roles = roles

    def fields(self) -> list[FormField]:
        return [FormField("name", "admin.field.name", required=True),
                FormField("email", "admin.field.email", required=True, check=_email_check),
                FormField("role", "admin.field.role", kind="select", required=True,
                          options=[(r, i18n.t(f"admin.role.{r}")) for r in self.roles]),
                FormField("admin", "admin.field.admin", kind="switch")]

    def request(self, values: dict[str, Any]) -> Request:
        return Request(AdministrationService.create_user(self.org["id"], {
                           "name": values["name"], "email": values["email"].strip(), "role": values["role"],
                           "admin": bool(values.get("admin"))}),
                       i18n.t("admin.form.user_label", name=values["name"]), related=f"organization:{self.org['id']}")


class TokensScreen(AppScreen):
    """A user's tokens (never a secret); `n` issues one, `x` revokes the highlighted one."""

    BINDINGS = [
        Binding("n", "new", "admin.key.new_token", id="admin.new_token"),
        Binding("x", "revoke", "admin.key.revoke", id="admin.revoke"),
        Binding("escape", "back", "key.back", id="admin.tokens_back"),
    ]
    DEFAULT_CSS = """
    TokensScreen #tokens-head { padding: 0 1; height: auto; }
    TokensScreen DataTable { height: 1fr; }
    """

    def __init__(self, session, user: dict[str, Any], **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.user = user
        self.tokens: dict[int, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text(i18n.t("admin.tokens.head", name=clean(self.user.get("name")))), id="tokens-head")
        table = ListTable(id="user-tokens")
        for key in ("name", "scope", "created", "expires", "used", "state"):
            table.add_column(i18n.t(f"admin.tokens.col.{key}"), key=key)
        yield table

    def first_focus(self):
        return self.query_one("#user-tokens", DataTable)

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="tokens-load", exit_on_error=False)
    async def load(self) -> None:
        try:
            tokens = await self.session.services.administration.tokens(self.user["id"])
        except (ApiError, Unreachable) as exc:
            self.notify(problem_text(exc), severity="warning")
            return
        self.tokens = {t["id"]: t for t in tokens}
        rows = []
        for t in tokens:
            state = (i18n.t("admin.tokens.revoked") if t.get("revoked_at") else
                     i18n.t("admin.tokens.expired") if t.get("expires_at") and t["expires_at"][:10] < date.today().isoformat()
                     else i18n.t("admin.tokens.valid"))
            rows.append((t["id"], [Text(clean(t.get("name"))), i18n.t(f"admin.scope.{t.get('scope')}"),
                                   formatting.day(t.get("created_at")),
                                   formatting.day(t.get("expires_at")) if t.get("expires_at") else "–",
                                   formatting.day(t.get("last_used_at")) if t.get("last_used_at") else "–", state]))
        self.query_one("#user-tokens", ListTable).fill(rows)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_new(self) -> None:
        self.keys_to_next_screen()
        self.app.push_screen(TokenForm(self.session, self.user), self._issued)

    def _issued(self, token: dict[str, Any] | None) -> None:
        self.load()
        if token and token.get("token"):
            self.app.push_screen(TokenShownScreen(token))

    def action_revoke(self) -> None:
        token = self.query_one("#user-tokens", ListTable).selected(self.tokens)
        if token is not None and not token.get("revoked_at"):
            self.revoke(token)

    @work(group="tokens-revoke", exit_on_error=False)
    async def revoke(self, token: dict[str, Any]) -> None:
        try:
            await self.session.services.administration.revoke_token(token["id"])
        except (ApiError, Unreachable) as exc:
            self.notify(problem_text(exc), severity="error")
            return
        self.notify(i18n.t("admin.tokens.revoked_note", name=clean(token.get("name"))))
        self.load()


class TokenForm(FormScreen):
    """Name, validity and scope of a new token. Sent at once (not through the outbox: the answer
    holds the secret); offline it cannot be issued."""

    title_id = "admin.form.token"

    def __init__(self, session, user: dict[str, Any], **kwargs):
        super().__init__(session, f"admin.token:{user['id']}", {"days": "90", "scope": "write"}, **kwargs)
        self.user = user

    def fields(self) -> list[FormField]:
        return [FormField("name", "admin.field.token_name", required=True, hint="admin.field.token_name_hint"),
                FormField("days", "admin.field.days", required=True, check=_days_check),
                FormField("scope", "admin.field.scope", kind="select", required=True,
                          options=[("write", i18n.t("admin.scope.write")), ("read", i18n.t("admin.scope.read"))])]

    @work(group="submit", exit_on_error=False)
    async def send(self, values: dict[str, Any]) -> None:
        try:
            token = await self.session.services.administration.issue_token(self.user["id"], values["name"],
                                           int(values["days"]), values["scope"])
        except (ApiError, Unreachable) as exc:
            self.notify(problem_text(exc), severity="error", timeout=10)
            if isinstance(exc, ApiError):
                self.form.show_errors({e.get("field", ""): e.get("message", "") for e in (exc.errors or [])})
            return
        finally:
            self._sending = False
            if self.is_attached:
                self.query_one("#form-submit", Button).disabled = False
        await asyncio.to_thread(self._drop_draft)
        self.dismiss(token)


def _days_check(value: str) -> str | None:
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_TOKEN_DAYS:
        return i18n.t("admin.field.days_bad", max=MAX_TOKEN_DAYS)
    return None


class TokenShownScreen(AppModal[None]):
    """The new token's secret, this once: `c` copies it (OSC 52), escape closes — it cannot be
    shown again."""

    BINDINGS = [
        Binding("c", "copy", "admin.key.copy", id="admin.copy_token"),
        Binding("escape", "close", "key.back", id="admin.close_token"),
    ]
    DEFAULT_CSS = """
    TokenShownScreen { align: center middle; }
    TokenShownScreen > Vertical { width: 78; max-width: 100%; height: auto; padding: 1 2;
                                  border: thick $warning; background: $surface; }
    TokenShownScreen #token-secret { margin: 1 0; text-style: bold; }
    """

    def __init__(self, token: dict[str, Any], **kwargs):
        super().__init__(**kwargs)
        self.token = token

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(i18n.t("admin.token.shown", name=clean(self.token.get("name")),
                                     expires=formatting.day(self.token.get("expires_at")))))
            yield Static(Text(str(self.token.get("token") or "")), id="token-secret")
            yield Static(Text(i18n.t("admin.token.once"), style="dim"))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(str(self.token.get("token") or ""))
        self.notify(i18n.t("admin.token.copied"))

    def action_close(self) -> None:
        self.dismiss(None)


class AuditScreen(AppScreen):
    """The audit log of administrative changes (operator, support): who, when, what, before → after."""

    BINDINGS = [Binding("escape", "back", "key.back", id="admin.audit_back")]
    DEFAULT_CSS = "AuditScreen #audit { height: 1fr; padding: 0 1; }"

    def __init__(self, session, organization_id: int | None, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.organization_id = organization_id

    def compose(self) -> ComposeResult:
        yield DetailScroll(Static(i18n.t("admin.loading"), id="audit-text"), id="audit")

    def first_focus(self):
        return self.query_one("#audit", DetailScroll)

    def on_mount(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="audit-load", exit_on_error=False)
    async def load(self) -> None:
        try:
            entries = await self.session.services.administration.audit(self.organization_id)
        except (ApiError, Unreachable) as exc:
            self.query_one("#audit-text", Static).update(Text(problem_text(exc), style="yellow"))
            return
        self.query_one("#audit-text", Static).update(audit_text(entries))


def audit_text(entries: list[dict[str, Any]]) -> Text:
    text = Text()
    if not entries:
        return Text(i18n.t("admin.audit.empty"), style="dim")
    for e in entries:
        text.append(f"{formatting.day(e.get('at'))} {str(e.get('at') or '')[11:16]}  ", style="dim")
        action = f"admin.audit.{e.get('action')}"
        label = i18n.t(action)
        text.append(clean(e.get("action")) if label == action else label, style="bold")
        text.append("  " + clean((e.get("actor") or {}).get("name")) + "\n")
        before, after = e.get("before") or {}, e.get("after") or {}
        for key in sorted(set(before) | set(after)):
            if key in ("updated_at", "version") or before.get(key) == after.get(key):
                continue
            text.append(f"    {key}: ", style="dim")
            text.append(clean(_short(before.get(key))) + " → " + clean(_short(after.get(key))) + "\n")
    return text


def _short(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v is not None)
    return str(value)
