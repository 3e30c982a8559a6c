"""Verwaltung (operators, and an organisation's admin for its users): organisations with their
accreditation and in-house relationship, their users, tokens and the audit log.

Administration reads live from the server (nothing of it is cached: it is about who may do
what now). Changes to organisations and users go through the outbox like every form; a new
token does not — its secret is shown here once and must never rest on disk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, DataTable, Static

from .. import formatting, i18n
from ..api.errors import ApiError, Unreachable
from ..api.models import AuditEntry, Me, Organization, Token, User, as_organization
from ..domain.administration import (
    ACCREDITED,
    ARS_LENGTHS,
    MAX_TOKEN_DAYS,
    MEMBER_ROLES,
    ORGANIZATION_TYPES,
    SUSPENDED,
    TYPES_BY_KIND,
    Refusal,
    accreditation_step,
    ags_refusal,
    inhouse_refusal,
    may_manage_users,
    organization_key,
    roles_refusal,
    user_email_ok,
    user_roles,
)
from ..domain.collation import sort_key
from ..domain.leitweg import check_leitweg_ids
from ..domain.merge import merge
from ..services import Conflict, Done, Queued, Refused
from ..services.administration import AdministrationService
from ..text import clean
from ..widgets.detail_text import DetailText
from ..widgets.form import FormField, lines_of
from ..widgets.lists import DetailScroll, ListTable
from .base import AppModal, AppScreen
from .confirm import Choice, ConfirmScreen
from .edit_conflict import EditConflictScreen, clash_for
from .form_screen import FormScreen, Request, refusal_detail
from .order_forms import leitweg_problem, rule


def _role_of(me: Me | None) -> str:
    return me.role if me else ""


def accreditation_text(org: Organization) -> Text:
    state = org.accreditation.state or ACCREDITED
    style = {"accredited": "green", "applied": "yellow", "suspended": "bold red"}.get(state, "")
    return Text(i18n.t(f"admin.accreditation.{state}"), style=style)


def organization_type_text(org: Organization) -> str:
    """Its Art (Kommune, Kreis …) where recorded, else what its role says (IT-Dienstleister …)."""
    if org.customer_type:
        return i18n.t(f"admin.type.{org.customer_type}")
    return i18n.t(f"admin.kind.{org.kind}")


def roles_text(org: Organization) -> str:
    """Its roles in the marketplace, e.g. "Kunde · Bereitsteller"."""
    return " · ".join(i18n.t(f"admin.role.{r}") for r in org.roles) or i18n.t(f"admin.kind.{org.kind}")


def org_user_roles(org: Organization) -> tuple[str, ...]:
    """The roles a user of ``org`` can have (the server says; an older one by its roles)."""
    return tuple(org.user_roles) or user_roles(org.roles)


def problem_text(exc: Exception) -> str:
    if isinstance(exc, Unreachable):
        return i18n.t("admin.offline")
    if isinstance(exc, ApiError):
        return i18n.problem(exc, str(exc))
    return clean(str(exc))


class AdministrationScreen(AppScreen):
    """The directory of organisations as the operator manages it (an organisation's admin sees
    its own organisation only)."""

    BINDINGS = [
        Binding("r", "refresh", "key.refresh", id="admin.refresh"),
        Binding("n", "register", "admin.key.register", id="admin.register"),
        Binding("l", "audit", "admin.key.audit", id="admin.audit"),
    ]
    DEFAULT_CSS = """
    AdministrationScreen #admin-head { padding: 0 1; height: auto; }
    AdministrationScreen DataTable { height: 1fr; }
    """

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.organizations: dict[int, Organization] = {}

    def compose(self) -> ComposeResult:
        yield Static(i18n.t("admin.loading"), id="admin-head")
        table = ListTable(id="admin-orgs", flex=("name",), opens=True, names=("name",))
        self._columns(table)
        yield table

    def _columns(self, table: DataTable) -> None:
        # The name takes what the other columns (sized by their content) leave.
        table.add_column(i18n.t("admin.col.name"), key="name")
        table.add_column(i18n.t("admin.col.kind"), key="kind")
        table.add_column(i18n.t("admin.col.accreditation"), key="accreditation")
        table.add_column(i18n.t("admin.col.inhouse"), key="inhouse")

    def first_focus(self):
        return self.query_one("#admin-orgs", DataTable)

    def on_mount(self) -> None:
        self.load()

    def _reload(self, _result: object = None) -> None:
        """Back from a screen it opened: read again."""
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
            orgs = (await self.session.services.administration.organizations()).value
        except (ApiError, Unreachable) as exc:
            head.update(Text(problem_text(exc), style="yellow"))
            return
        me = getattr(self.app, "me", None)
        if _role_of(me) not in ("operator", "support"):
            own = me.organization.id if me else None
            orgs = [o for o in orgs if o.id == own]
        self.organizations = {o.id: o for o in orgs}
        names = {o.id: o.short_name or o.name for o in orgs}
        self.query_one("#admin-orgs", ListTable).fill(
            (o.id, [Text(clean(o.name), overflow="ellipsis", no_wrap=True), organization_type_text(o),
                    accreditation_text(o),
                    Text(clean(names.get(o.inhouse_operator_id, ""))) if o.inhouse_operator_id else "–"])
            for o in sorted(orgs, key=lambda o: (o.kind != "operator", sort_key(clean(o.name)))))
        states = [o.accreditation.state for o in orgs]
        head.update(i18n.tn("admin.count", n=len(orgs), applied=states.count("applied"), suspended=states.count("suspended")))

    def action_refresh(self) -> None:
        self.load()

    @on(DataTable.RowSelected, "#admin-orgs")
    def _open(self, event: DataTable.RowSelected) -> None:
        org = self.organizations.get(int(event.row_key.value or 0))
        if org is not None:
            self.query_one("#admin-orgs", ListTable).remember(org.id)
            self.app.push_screen(OrganizationScreen(self.session, org), self._reload)

    def action_audit(self) -> None:
        self.app.push_screen(AuditScreen(self.session, None))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "register":
            return _role_of(getattr(self.app, "me", None)) == "operator"  # no key for the others
        return True

    def action_register(self) -> None:
        if _role_of(getattr(self.app, "me", None)) != "operator":
            self.notify(i18n.t("admin.operator_only"), severity="warning")
            return
        self.keys_to_next_screen()
        self.app.push_screen(OrganizationForm(self.session), self._registered)

    def _registered(self, answer: dict[str, Any] | None) -> None:
        """A new organisation: straight on to it (accredit it, its in-house relationship, its users)."""
        self.load()
        org = as_organization(answer)  # the server's answer to the registration, as JSON
        if org is not None and org.id:
            self.app.push_screen(OrganizationScreen(self.session, org), self._reload)


class OrganizationScreen(AppScreen):
    """One organisation: its data, accreditation and in-house relationship, its users."""

    AUTO_FOCUS = "#org-users"  # j/k move in the users (the facts above scroll with the mouse)

    BINDINGS = [
        Binding("a", "accredit", "admin.key.accredit", id="admin.accredit"),
        Binding("s", "suspend", "admin.key.suspend", id="admin.suspend"),
        Binding("i", "inhouse", "admin.key.inhouse", id="admin.inhouse"),
        Binding("e", "edit", "admin.key.edit", id="admin.edit"),
        Binding("n", "new_user", "admin.key.new_user", id="admin.new_user"),
        Binding("u", "edit_user", "admin.key.edit_user", id="admin.edit_user"),
        Binding("d", "toggle_user", "admin.key.toggle_user", id="admin.toggle_user"),
        Binding("t", "tokens", "admin.key.tokens", id="admin.tokens"),
        Binding("l", "audit", "admin.key.audit", id="admin.org_audit"),
        Binding("escape,q", "back", "key.back", id="admin.back"),
    ]
    DEFAULT_CSS = """
    OrganizationScreen #org-facts { padding: 0 1; height: auto; max-height: 12; }
    OrganizationScreen DataTable { height: 1fr; }
    """

    def __init__(self, session, org: Organization, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.org = org
        self.etag = ""
        self.users: dict[int, User] = {}
        self.operators: list[Organization] = []

    def compose(self) -> ComposeResult:
        yield DetailScroll(DetailText("", id="org-facts-text"), id="org-facts")
        table = ListTable(id="org-users", flex=("name", "email"), opens=True)
        table.add_column(i18n.t("admin.col.user"), key="name")
        table.add_column(i18n.t("admin.col.email"), key="email")
        table.add_column(i18n.t("admin.col.role"), key="role")
        table.add_column(i18n.t("admin.col.status"), key="status")
        yield table

    def first_focus(self):
        return self.query_one("#org-users", DataTable)

    def on_mount(self) -> None:
        self.load()

    def _reload(self, _result: object = None) -> None:
        """Back from a screen it opened: read again."""
        self.load()

    @property
    def is_operator(self) -> bool:
        return _role_of(getattr(self.app, "me", None)) == "operator"

    OPERATOR_ACTIONS = frozenset({"accredit", "suspend", "inhouse", "edit"})
    ACCREDITATION_KEYS = {"accredit": ACCREDITED, "suspend": SUSPENDED}
    USER_ACTIONS = frozenset({"new_user", "edit_user", "toggle_user", "tokens"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys only for what this user may do here (the footer shows no key the server refuses:
        support saw all of them, `s` refused with a toast, and a reason typed after it ran `u`)."""
        if action in self.OPERATOR_ACTIONS:
            if action == "inhouse" and not self.org.inhouse_operator_id and \
                    inhouse_refusal(self.org.kind, self.org.roles, "operator"):
                return False  # only a customer has one; one that exists can always be ended
            if action in self.ACCREDITATION_KEYS and accreditation_step(
                    self.org.accreditation.state or ACCREDITED, self.ACCREDITATION_KEYS[action], self.org.kind):
                # Not a step from here (the domain's rule): `a` on an accredited organisation, or
                # the marketplace's operator suspended (it would lock itself out).
                return False
            return self.is_operator
        if action in self.USER_ACTIONS:
            me = getattr(self.app, "me", None)
            return me is not None and may_manage_users(me.role, me.admin, me.organization.id, self.org.id)
        return True

    @work(exclusive=True, group="org-load", exit_on_error=False)
    async def load(self) -> None:
        try:
            self.org, self.etag = await self.session.services.administration.organization(self.org.id)
            users = (await self.session.services.administration.users(self.org.id)).value
            if not self.operators:  # for the in-house relationship's name (the directory is open to all)
                self.operators = [o for o in (await self.session.services.administration.organizations()).value if o.kind == "operator"]
        except (ApiError, Unreachable) as exc:
            self.notify(problem_text(exc), severity="warning")
            return
        self.users = {u.id: u for u in users}
        self.query_one("#org-facts-text", Static).update(self.facts())
        self.refresh_bindings()  # its keys follow its state (accredited: no `a`)
        rows = []
        for u in users:
            status = i18n.t("admin.user.disabled") if u.disabled else i18n.t("admin.user.active")
            role = i18n.t(f"admin.role.{u.role}") + (" · " + i18n.t("admin.user.admin") if u.admin else "")
            rows.append((u.id, [Text(clean(u.name), overflow="ellipsis", no_wrap=True),
                                Text(clean(u.email), overflow="ellipsis", no_wrap=True), role, status]))
        self.query_one("#org-users", ListTable).fill(rows)

    def facts(self) -> Text:
        o = self.org
        acc = o.accreditation
        text = Text(clean(o.name) + "\n", style="bold")
        if o.customer_type:
            text.append(i18n.t(f"admin.type.{o.customer_type}") + " · ")
        text.append(roles_text(o))
        if o.ags:
            text.append(f" · {'ARS' if len(o.ags) in ARS_LENGTHS else 'AGS'} {clean(o.ags)}")
        if o.population:
            text.append(" · " + i18n.t("admin.population", n=formatting.number(o.population),
                                        day=formatting.day(o.population_date) if o.population_date else "–"))
        address = o.address
        place = " ".join(p for p in (clean(address.postcode), clean(address.city)) if p)
        if address.street or place:
            text.append("\n" + ", ".join(p for p in (clean(address.street), place) if p))
        text.append("\n" + i18n.tn("admin.leitweg_ids", n=len(o.leitweg_ids),
                                     ids=", ".join(clean(v) for v in o.leitweg_ids) or "–"))
        text.append("\n" + i18n.t("admin.col.accreditation") + ": ")
        text.append_text(accreditation_text(o))
        if acc.by:
            text.append(" " + i18n.t("admin.accreditation.by", by=clean(acc.by), at=formatting.day(acc.at),
                                      reason=clean(acc.reason or "")), style="dim")
        operator = next((clean(op.name) for op in self.operators if op.id == o.inhouse_operator_id),
                        str(o.inhouse_operator_id or ""))
        if o.inhouse_operator_id:
            text.append("\n" + i18n.t("admin.inhouse.with", operator=operator, basis=clean(o.inhouse_basis or "–")))
        elif "customer" in o.roles:  # only customers order: the relationship matters for them alone
            text.append("\n" + i18n.t("admin.inhouse.none"))
        text.append("\n" + i18n.t("admin.users", n=len(self.users)), style="bold")
        return text

    def selected_user(self) -> User | None:
        table = self.query_one("#org-users", ListTable)
        user: User | None = table.selected(self.users, none="admin.no_user")
        if user is not None:
            table.remember()
        return user

    def action_back(self) -> None:
        self.dismiss(None)

    def _step(self, target: str) -> None:
        if not self.is_operator:
            self.notify(i18n.t("admin.operator_only"), severity="warning")
            return
        current = self.org.accreditation.state or ACCREDITED
        refusal = accreditation_step(current, target, self.org.kind)
        if refusal:
            self.notify(refusal.de if i18n.current_language() == "de" else refusal.en, severity="warning")
            return
        self.keys_to_next_screen()
        self.app.push_screen(AccreditationForm(self.session, self.org, target), self._reload)

    def action_accredit(self) -> None:
        self._step(ACCREDITED)

    def action_suspend(self) -> None:
        self._step(SUSPENDED)

    def action_inhouse(self) -> None:
        if not self.is_operator:
            self.notify(i18n.t("admin.operator_only"), severity="warning")
            return
        refusal = inhouse_refusal(self.org.kind, self.org.roles, "operator")
        if refusal and not self.org.inhouse_operator_id:
            self.notify(refusal.de if i18n.current_language() == "de" else refusal.en, severity="warning")
            return
        self.keys_to_next_screen()
        self.app.push_screen(InhouseForm(self.session, self.org, self.etag, self.operators), self._reload)

    def action_new_user(self) -> None:
        self.keys_to_next_screen()
        self.app.push_screen(UserForm(self.session, self.org), self._reload)

    def action_edit(self) -> None:
        if not self.is_operator:
            self.notify(i18n.t("admin.operator_only"), severity="warning")
            return
        self.keys_to_next_screen()
        self.app.push_screen(OrganizationForm(self.session, self.org, self.etag), self._reload)

    def action_edit_user(self) -> None:
        user = self.selected_user()
        if user is not None:
            self.keys_to_next_screen()
            self.edit_user(user)

    @work(group="user-edit", exclusive=True, exit_on_error=False)
    async def edit_user(self, user: User) -> None:
        try:  # the user as it is now, with its ETag: the edit sends If-Match
            current, etag = await self.session.services.administration.user(user.id)
        except (ApiError, Unreachable) as exc:
            self.notify(problem_text(exc), severity="warning")
            return
        self.app.push_screen(UserEditForm(self.session, self.org, current, etag), self._reload)

    def action_toggle_user(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        action = "enable" if user.disabled else "disable"
        name = clean(user.name)

        def answered(choice: str | None) -> None:
            if choice == action:
                self.set_disabled(user, action == "disable")

        self.app.push_screen(ConfirmScreen(lambda: i18n.t(f"admin.user.{action}_question", name=name), [
            # Not `d` again: "escape d" (leave a form, discard) and a doubled key must not disable
            # anyone (walk finding F18). The safe answer has the focus (enter).
            Choice(action, f"admin.user.{action}_key", f"admin.user.{action}"),
            Choice("stay", "escape", "admin.user.keep"),
        ], lambda: i18n.t(f"admin.user.{action}_detail")), answered)

    @work(group="user-toggle", exclusive=True, exit_on_error=False)
    async def set_disabled(self, user: User, disabled: bool) -> None:
        """Disable or enable a user: PATCH with If-Match on the version just read, through the outbox."""
        try:
            current, etag = await self.session.services.administration.user(user.id)
        except (ApiError, Unreachable) as exc:
            self.notify(problem_text(exc), severity="warning")
            return
        action = "disable" if disabled else "enable"
        name = clean(current.name)
        write = AdministrationService.patch_user(current.id, {"disabled": disabled}, etag)
        outcome = await self.session.services.writes.submit(write, label=i18n.t(f"admin.user.{action}_label", name=name),
                                                            related=f"organization:{self.org.id}")
        if isinstance(outcome, Done):
            self.notify(i18n.t(f"admin.user.{action}_done", name=name))
        elif isinstance(outcome, Queued):
            self.notify(i18n.t("form.queued"), severity="warning", timeout=8)
        elif isinstance(outcome, (Refused, Conflict)):
            await self.session.services.writes.discard(outcome.item_id)
            detail = refusal_detail(outcome) if isinstance(outcome, Refused) else i18n.t("form.conflict")
            self.notify(i18n.t("form.refused", detail=clean(detail)), severity="error", timeout=10)
        self.load()

    def action_tokens(self) -> None:
        user = self.selected_user()
        if user is not None and self.check_action("tokens", ()):
            self.app.push_screen(TokensScreen(self.session, user))

    @on(DataTable.RowSelected, "#org-users")
    def _open_user(self) -> None:
        self.action_tokens()

    def action_audit(self) -> None:
        self.app.push_screen(AuditScreen(self.session, self.org.id))


class AccreditationForm(FormScreen):
    """Accredit or suspend: the reason is recorded with who and when."""

    def __init__(self, session, org: Organization, target: str, **kwargs):
        super().__init__(session, f"admin.accreditation:{org.id}:{target}", **kwargs)
        self.org = org
        self.target = target

    @property
    def title_text(self) -> str:
        return i18n.t(f"admin.form.{self.target}", name=clean(self.org.name))

    def fields(self) -> list[FormField]:
        return [FormField("reason", "admin.field.reason", kind="area", required=True)]

    def request(self, values: dict[str, Any]) -> Request:
        return Request(AdministrationService.accreditation(self.org.id, {"state": self.target, "reason": values["reason"]}),
                       i18n.t(f"admin.form.{self.target}", name=clean(self.org.short_name or self.org.name)),
                       related=f"organization:{self.org.id}")


class InhouseForm(FormScreen):
    """The in-house relationship to an operator and what it rests on (If-Match: nothing changed
    unseen in between)."""

    NONE = "0"  # the choice that ends the relationship (walk F13: once set, it could not be removed)

    def __init__(self, session, org: Organization, etag: str, operators: list[Organization], **kwargs):
        defaults = {"inhouse_operator_id": str(org.inhouse_operator_id or ""), "inhouse_basis": org.inhouse_basis or ""}
        super().__init__(session, f"admin.inhouse:{org.id}", defaults, **kwargs)
        self.org, self.etag, self.operators = org, etag, operators

    @property
    def title_text(self) -> str:
        return i18n.t("admin.form.inhouse", name=clean(self.org.name))

    def fields(self) -> list[FormField]:
        # An organisation that may not have one (an operator, a provider only) can only end it.
        may = inhouse_refusal(self.org.kind, self.org.roles, "operator") is None
        options = [(str(op.id), clean(op.name)) for op in self.operators] if may else []
        if self.org.inhouse_operator_id:
            options.append((self.NONE, i18n.t("admin.inhouse.end_choice")))
        return [FormField("inhouse_operator_id", "admin.field.operator", kind="select", options=options, required=True),
                FormField("inhouse_basis", "admin.field.basis", hint="admin.field.basis_hint")]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        ending = values.get("inhouse_operator_id") == self.NONE
        if not ending and not str(values.get("inhouse_basis") or "").strip():
            return {"inhouse_basis": i18n.t("form.required")}  # a relationship rests on something
        return {}

    def request(self, values: dict[str, Any]) -> Request:
        if values["inhouse_operator_id"] == self.NONE:
            return Request(AdministrationService.patch_organization(self.org.id, {"inhouse_operator_id": None}, self.etag),
                           i18n.t("admin.inhouse.end_label", name=clean(self.org.name)), related=f"organization:{self.org.id}")
        changes = {"inhouse_operator_id": int(values["inhouse_operator_id"]), "inhouse_basis": values["inhouse_basis"]}
        return Request(AdministrationService.patch_organization(self.org.id, changes, self.etag),
                       i18n.t("admin.form.inhouse", name=clean(self.org.name)), related=f"organization:{self.org.id}")


def _email_check(value: str) -> str | None:
    return None if user_email_ok(value) else i18n.t("admin.field.email_bad")


def user_fields(roles: tuple[str, ...]) -> list[FormField]:
    """A user's fields, in the new-user form as in the edit form: the role among the organisation's."""
    return [FormField("name", "admin.field.name", required=True),
            FormField("email", "admin.field.email", required=True, check=_email_check),
            FormField("role", "admin.field.role", kind="select", required=True,
                      options=[(r, i18n.t(f"admin.role.{r}")) for r in roles]),
            FormField("admin", "admin.field.admin", kind="switch")]


class UserForm(FormScreen):
    """A new user of the organisation, with a role the organisation can give."""

    title_id = "admin.form.user"

    def __init__(self, session, org: Organization, **kwargs):
        roles = org_user_roles(org)
        super().__init__(session, f"admin.user:{org.id}", {"role": roles[0] if roles else ""}, **kwargs)
        self.org = org
        self.roles = roles

    def fields(self) -> list[FormField]:
        return user_fields(self.roles)

    def request(self, values: dict[str, Any]) -> Request:
        return Request(AdministrationService.create_user(self.org.id, {
                           "name": values["name"], "email": values["email"].strip(), "role": values["role"],
                           "admin": bool(values.get("admin"))}),
                       i18n.t("admin.form.user_label", name=values["name"]), related=f"organization:{self.org.id}")


class TokensScreen(AppScreen):
    """A user's tokens (never a secret); `n` issues one, `x` revokes the highlighted one."""
    PLACE = "admin.key.tokens"

    BINDINGS = [
        Binding("n", "new", "admin.key.new_token", id="admin.new_token"),
        Binding("x", "revoke", "admin.key.revoke", id="admin.revoke"),
        Binding("escape,q", "back", "key.back", id="admin.tokens_back"),
    ]
    DEFAULT_CSS = """
    TokensScreen #tokens-head { padding: 0 1; height: auto; }
    TokensScreen DataTable { height: 1fr; }
    """

    def __init__(self, session, user: User, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.user = user
        self.tokens: dict[int, Token] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text(i18n.t("admin.tokens.head", name=clean(self.user.name))), id="tokens-head")
        table = ListTable(id="user-tokens", flex=("name",))
        # The state beside the name: last, it was off screen at 80 columns ("widerru" after →×10),
        # and a revoked token's row read as before. Below 100 columns without the day it was
        # made (the last column was cut: "zuletzt genutzt  er"), the name takes what is left.
        for key in self._columns():
            table.add_column(i18n.t(f"admin.tokens.col.{key}"), key=key)
        yield table

    def _columns(self) -> tuple[str, ...]:
        keys = ("name", "state", "scope", "expires", "used", "created")
        return keys if self.app.size.width >= 100 else keys[:-1]

    def first_focus(self):
        return self.query_one("#user-tokens", DataTable)

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="tokens-load", exit_on_error=False)
    async def load(self) -> None:
        try:
            tokens = (await self.session.services.administration.tokens(self.user.id)).value
        except (ApiError, Unreachable) as exc:
            self.notify(problem_text(exc), severity="warning")
            return
        self.tokens = {t.id: t for t in tokens}
        rows = []
        for t in tokens:
            state = (i18n.t("admin.tokens.revoked") if t.revoked_at else
                     i18n.t("admin.tokens.expired") if t.expires_at and t.expires_at.date() < date.today()
                     else i18n.t("admin.tokens.valid"))
            cells = [Text(clean(t.name)), state, i18n.t(f"admin.scope.{t.scope}"),
                     formatting.day(t.expires_at) if t.expires_at else "–",
                     formatting.day(t.last_used_at) if t.last_used_at else "–", formatting.day(t.created_at)]
            rows.append((t.id, cells[:len(self._columns())]))
        self.query_one("#user-tokens", ListTable).fill(rows)
        head = Text(i18n.t("admin.tokens.head", name=clean(self.user.name)))
        if not tokens:  # an empty table under its headers said nothing
            head.append("\n" + i18n.t("admin.tokens.none"), style="italic")
        self.query_one("#tokens-head", Static).update(head)
        self.refresh_bindings()  # x only with a token to revoke

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "revoke":  # a token still valid to revoke (it offered x over an empty list)
            return any(not t.revoked_at for t in self.tokens.values())
        return super().check_action(action, parameters)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_new(self) -> None:
        self.keys_to_next_screen()
        self.app.push_screen(TokenForm(self.session, self.user), self._issued)

    def _issued(self, token: dict[str, Any] | None) -> None:
        if token and token.get("token"):
            # The list reloads once the secret is closed: filled while covered, its columns kept
            # the headers' widths ("Arbeitsplat", "04.12.20" — seen under load in the tests).
            self.app.push_screen(TokenShownScreen(token, self.session.services.administration.server_url()),
                                 self._reload)
        else:
            self.load()

    def _reload(self, _closed: None = None) -> None:
        self.load()

    def action_revoke(self) -> None:
        token: Token | None = self.query_one("#user-tokens", ListTable).selected(self.tokens)
        if token is None or token.revoked_at:
            return
        name = clean(token.name)

        def answered(choice: str | None) -> None:
            if choice == "revoke":
                self.revoke(token)

        # Irreversible (the person needs a new token handed over): asked first, and not on `x`
        # again, so a doubled key revokes nothing (walk finding F9).
        self.app.push_screen(ConfirmScreen(lambda: i18n.t("admin.tokens.revoke_question", name=name), [
            # Its own key, not "j" (ja): j moves down every list, and a user scrolling on after a
            # stray `x` revoked the token (helper walk). English "y" is no list key.
            Choice("revoke", "admin.tokens.revoke_key", "admin.tokens.revoke_choice"),
            Choice("stay", "escape", "admin.user.keep"),
        ], lambda: i18n.t("admin.tokens.revoke_detail")), answered)

    @work(group="tokens-revoke", exit_on_error=False)
    async def revoke(self, token: Token) -> None:
        try:
            await self.session.services.administration.revoke_token(token.id)
        except (ApiError, Unreachable) as exc:
            self.notify(problem_text(exc), severity="error")
            return
        self.notify(i18n.t("admin.tokens.revoked_note", name=clean(token.name)))
        self.load()


class TokenForm(FormScreen):
    """Name, validity and scope of a new token. Sent at once (not through the outbox: the answer
    holds the secret); offline it cannot be issued."""

    title_id = "admin.form.token"

    def __init__(self, session, user: User, **kwargs):
        super().__init__(session, f"admin.token:{user.id}", {"days": "90", "scope": "write"}, **kwargs)
        self.user = user

    def fields(self) -> list[FormField]:
        return [FormField("name", "admin.field.token_name", required=True, hint="admin.field.token_name_hint"),
                FormField("days", "admin.field.days", required=True, check=_days_check, retype=True),
                FormField("scope", "admin.field.scope", kind="select", required=True,
                          options=[("write", i18n.t("admin.scope.write")), ("read", i18n.t("admin.scope.read"))])]

    @work(group="submit", exit_on_error=False)
    async def send(self, values: dict[str, Any]) -> None:
        try:
            token = await self.session.services.administration.issue_token(self.user.id, values["name"],
                                           int(values["days"]), values["scope"])
        except (ApiError, Unreachable) as exc:
            self.notify(problem_text(exc), severity="error", timeout=10)
            if isinstance(exc, ApiError):
                self.form.show_errors(exc.field_errors())
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
    TokenShownScreen #token-login { margin-top: 1; }
    """

    def __init__(self, token: dict[str, Any], server_url: str = "", **kwargs):
        super().__init__(**kwargs)
        self.token = token
        self.server_url = server_url or "URL"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(i18n.t("admin.token.shown", name=clean(self.token.get("name")),
                                     expires=formatting.day(self.token.get("expires_at")))))
            yield Static(Text("efa-tui login --server " + clean(self.server_url)), id="token-login")
            yield Static(Text(str(self.token.get("token") or "")), id="token-secret")
            yield Static(Text(i18n.t("admin.token.once"), style="dim"))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(str(self.token.get("token") or ""))
        self.notify(i18n.t("admin.token.copied"))

    def action_close(self) -> None:
        self.dismiss(None)


class AuditScreen(AppScreen):
    """The audit log of administrative changes (operator, support): who, when, what, before → after."""
    PLACE = "admin.key.audit"

    BINDINGS = [Binding("escape,q", "back", "key.back", id="admin.audit_back")]
    DEFAULT_CSS = "AuditScreen #audit { height: 1fr; padding: 0 1; }"

    def __init__(self, session, organization_id: int | None, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.organization_id = organization_id

    def compose(self) -> ComposeResult:
        yield DetailScroll(DetailText(i18n.t("admin.loading"), id="audit-text"), id="audit")

    def first_focus(self):
        return self.query_one("#audit", DetailScroll)

    def on_mount(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="audit-load", exit_on_error=False)
    async def load(self) -> None:
        try:
            entries = (await self.session.services.administration.audit(self.organization_id)).value
        except (ApiError, Unreachable) as exc:
            self.query_one("#audit-text", Static).update(Text(problem_text(exc), style="yellow"))
            return
        self.query_one("#audit-text", Static).update(audit_text(entries))


def _target_name(entry: AuditEntry, before: dict[str, Any], after: dict[str, Any]) -> str:
    """Which user, token or organisation an entry is about: its name as the record said then
    (a list of "Benutzer geändert" lines named nobody), else its kind and number."""
    name = after.get("name") or before.get("name")
    if isinstance(name, str) and clean(name):
        return clean(name)
    kind = i18n.t(f"admin.audit.kind.{entry.target.kind}")
    return i18n.t("admin.audit.numbered", kind=kind, id=entry.target.id if entry.target.id is not None else "–")


def audit_text(entries: list[AuditEntry]) -> Text:
    text = Text()
    if not entries:
        return Text(i18n.t("admin.audit.empty"), style="dim")
    for e in entries:
        text.append(f"{formatting.day(e.at)} {e.at.strftime('%H:%M') if e.at else ''}  ", style="dim")  # the server's time (UTC)
        action = f"admin.audit.{e.action}"
        label = i18n.t(action)
        text.append(clean(e.action) if label == action else label, style="bold")
        before, after = e.before or {}, e.after or {}
        text.append(": " + _target_name(e, before, after), style="bold")
        text.append("  " + i18n.t("admin.audit.by", name=clean(e.actor.name)) + "\n")
        for key in sorted(set(before) | set(after)):
            if key in AUDIT_UNSHOWN or before.get(key) == after.get(key):
                continue
            text.append(f"    {_field_label(key)}: ", style="dim")
            text.append(clean(_short(key, before.get(key))) + " → " + clean(_short(key, after.get(key))) + "\n")
    return text


# The record's fields in the audit log by the forms' own labels (it showed "revoked_at: – →
# 2026-12-04T18:31:30.211049Z", "scope: write": the wire, not what the operator had typed).
AUDIT_LABELS = {
    "name": "admin.field.name", "short_name": "admin.field.short_name", "key": "admin.field.key",
    "customer_type": "admin.field.type", "inhouse_operator_id": "admin.field.operator",
    "inhouse_basis": "admin.field.basis", "email": "admin.field.email", "role": "admin.field.role",
    "admin": "admin.field.admin", "scope": "admin.field.scope", "ags": "admin.field.ags",
    "population": "admin.field.population", "population_date": "admin.field.population_date",
    "leitweg_ids": "admin.field.leitweg_ids", "reason": "admin.field.reason", "roles": "admin.audit.f.roles",
    "address": "admin.audit.f.address", "revoked_at": "admin.audit.f.revoked_at",
    "expires_at": "admin.audit.f.expires_at", "user_id": "admin.audit.f.user", "disabled": "admin.audit.f.disabled",
    "state": "admin.audit.f.state", "prefix": "admin.audit.f.prefix",
}
# The record's bookkeeping, not what was changed: the entry's own time and number say it
# ("created_at: – → 06.12.2026", "id: – → 8" under "Token ausgegeben", helper walk).
AUDIT_UNSHOWN = frozenset({"id", "updated_at", "version", "created_at", "last_used_at"})
# Values that are codes: shown by their words.
AUDIT_WORDS = {"scope": "admin.scope.", "customer_type": "admin.type.", "role": "admin.role.", "roles": "admin.role.",
               "state": "admin.accreditation."}


def _field_label(key: str) -> str:
    label = AUDIT_LABELS.get(key)
    return i18n.t(label) if label else key


def _short(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return i18n.t("yes" if value else "no")
    words = AUDIT_WORDS.get(key)
    if words:
        values = value if isinstance(value, list) else [value]
        return ", ".join(i18n.t(words + str(v)) if words + str(v) in i18n.MESSAGES else str(v) for v in values)
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v not in (None, ""))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return formatting.moment(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return str(value)


def _refusal_text(refusal: Refusal) -> str:
    return refusal.de if i18n.current_language() == "de" else refusal.en


def _ags_check(value: str) -> str | None:
    refusal = ags_refusal(value)
    return _refusal_text(refusal) if refusal else None


def _key_check(value: str) -> str | None:
    return None if organization_key(value) == value.strip() else i18n.t("admin.field.key_bad", slug=organization_key(value))


ORGANIZATION_TEXT = ("name", "short_name", "street", "postcode", "city")
OPTIONAL = ("ags", "customer_type")  # empty: none (null on the wire)
ROLE_FIELDS = {f"role_{r}": r for r in MEMBER_ROLES}  # a tick box each


def organization_values(org: Organization) -> dict[str, Any]:
    """An organisation as the form shows it (strings as typed; roles as ticks, Leitweg-IDs one a line)."""
    address = org.address
    roles = {} if org.kind == "operator" else {name: role in org.roles for name, role in ROLE_FIELDS.items()}
    return {
        **roles, "customer_type": org.customer_type or "",
        "name": org.name, "short_name": org.short_name, "key": org.key,
        "ags": org.ags or "", "street": address.street, "postcode": address.postcode,
        "city": address.city,
        "population": "" if org.population is None else str(org.population),
        "population_date": formatting.day_input(org.population_date),
        "leitweg_ids": "\n".join(org.leitweg_ids),
    }


def organization_wire(values: dict[str, Any]) -> dict[str, Any]:
    """The form's strings as the API takes them (checked fields only: the form checked them)."""
    out: dict[str, Any] = {name: str(values.get(name) or "").strip() for name in ORGANIZATION_TEXT}
    for name in OPTIONAL:
        out[name] = str(values.get(name) or "").strip() or None
    population = str(values.get("population") or "").strip()
    out["population"] = formatting.parse_count(population) if population else None
    day = str(values.get("population_date") or "").strip()
    out["population_date"] = formatting.parse_day(day).isoformat() if day else None
    out["leitweg_ids"] = lines_of(values.get("leitweg_ids") or "")
    if any(name in values for name in ROLE_FIELDS):  # an operator organisation has no ticks: its role stays
        out["roles"] = [role for name, role in ROLE_FIELDS.items() if values.get(name)]
    return out


def _same(name: str, a: Any, b: Any) -> bool:
    """Two values of an edit form that mean the same (spaces around typed text do not count)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    return str(a if a is not None else "").strip() == str(b if b is not None else "").strip()


class _EditForm(FormScreen):
    """An edit sends what changed against ``original`` (the record as the form opened it, with
    If-Match); one that changes nothing sends nothing (no new version, no empty audit line)."""

    original: dict[str, Any]

    def changes(self, values: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def unchanged(self) -> bool:
        return self.edits_record and not self._sending and not self.form.check() \
            and not self.validate(self.form.values()) and not self.changes(self.form.values())

    @property
    def edits_record(self) -> bool:
        return True

    def action_submit(self) -> None:
        if self.unchanged():
            self.close_unchanged()
            return
        super().action_submit()

    def settle_conflict(self, now: dict[str, Any], took: Callable[[], None]) -> None:
        """412: the record changed on the server (``now``: its current values). The one rule of
        every If-Match form (domain.merge): a field only one side changed takes that side's value,
        the fields both changed go to the conflict view; then it is saved against the current
        version (``took`` has made it the form's record and ETag)."""
        form = self.form
        fields = {f.name: f for f in form.fields}
        mine = form.values()
        result = merge(self.original, mine, now, list(fields), _same)
        kept = [i18n.t(fields[n].label) for n in result.theirs_kept]

        def go_on(values: dict[str, Any]) -> None:
            took()
            self.original = now
            for name, value in values.items():
                form.set_value(name, value)
            self.action_submit()

        if not result.clashes:
            self.notify(i18n.t("conflict.merged", fields=", ".join(kept) or "–"), severity="warning", timeout=10)
            self.call_later(go_on, result.merged)
            return

        def decided(choices: dict[str, Any] | None) -> None:
            if choices is not None:  # None: back to the form as it was; the next save asks again
                go_on({**result.merged, **choices})

        clashes = [clash_for(fields[n], mine.get(n), now.get(n)) for n in result.clashes]
        self.app.push_screen(EditConflictScreen(clashes, kept=kept), decided)

    @work(group="discard", exit_on_error=False)
    async def close_unchanged(self) -> None:
        await asyncio.to_thread(self._drop_draft)
        self.notify(i18n.t("admin.form.unchanged"))
        self.dismiss(None)


class OrganizationForm(_EditForm):
    """Register an organisation (operator) or edit one: its Art, its role in the marketplace (on
    registering; it decides which roles its users can have), names, AGS/ARS, address, population
    with its reference date and Leitweg-ID. An edit sends only what changed, with If-Match."""

    def __init__(self, session, org: Organization | None = None, etag: str = "", **kwargs):
        self.org, self.etag = org, etag
        self.original = organization_values(org) if org else {}
        defaults = dict(self.original) if org else {"role_customer": True, "customer_type": "kommune"}
        types = TYPES_BY_KIND.get(org.kind, ()) if org else ()
        if org and not defaults.get("customer_type") and len(types) == 1:
            defaults["customer_type"] = types[0]  # an operator is a Betreiber: nothing to choose
        super().__init__(session, f"admin.organization:{org.id}" if org else "admin.organization:new", defaults, **kwargs)

    @property
    def title_text(self) -> str:
        if self.org is None:
            return i18n.t("admin.form.register")
        return i18n.t("admin.form.edit_org", name=clean(self.org.name))

    def intro(self) -> Text | None:
        if self.org is None:
            return None
        return Text(i18n.t("admin.form.edit_org_intro", role=roles_text(self.org),
                           slug=clean(self.org.key)), style="dim")

    def fields(self) -> list[FormField]:
        new = self.org is None
        kinds = (TYPES_BY_KIND.get(self.org.kind, ()) if self.org else ()) or tuple(t for t in ORGANIZATION_TYPES if t != "betreiber")
        fields = [FormField("name", "admin.field.org_name", required=True),
                  FormField("short_name", "admin.field.short_name", required=not new,
                            hint="admin.field.short_name_hint" if new else ""),
                  # Chosen on registering, kept once recorded; a provider without one (its list row
                  # reads "IT-Dienstleister" by its role) is not made to invent one to get a new
                  # street (the server asks for none).
                  FormField("customer_type", "admin.field.type", kind="select",
                            required=new or bool(self.org and self.org.customer_type),
                            options=[(t, i18n.t(f"admin.type.{t}")) for t in kinds])]
        if self.org is None or self.org.kind != "operator":
            # Its roles, a set: it orders, provides or both (a Land, an IT-Dienstleister).
            fields += [FormField("role_customer", "admin.field.role_customer", kind="tick", aliases=("roles", "kind")),
                       FormField("role_provider", "admin.field.role_provider", kind="tick",
                                 hint="admin.field.marketplace_role_hint")]
        if new:
            fields += [FormField("key", "admin.field.key", check=_key_check, hint="admin.field.key_hint")]
        return fields + [
            FormField("ags", "admin.field.ags", check=_ags_check, hint="admin.field.ags_hint"),
            FormField("street", "admin.field.street"),
            FormField("postcode", "admin.field.postcode"),
            FormField("city", "admin.field.city"),
            FormField("population", "admin.field.population", check=rule(formatting.parse_count), notation="count"),
            FormField("population_date", "admin.field.population_date", check=rule(formatting.parse_day), retype=True,
                      hint="admin.field.population_date_hint"),
            FormField("leitweg_ids", "admin.field.leitweg_ids", kind="lines", check=leitweg_problem,
                      hint="admin.field.leitweg_hint", aliases=("leitweg_id",)),
        ]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        has_population = bool(str(values.get("population") or "").strip())
        has_date = bool(str(values.get("population_date") or "").strip())
        # Checked when the figure or its date is typed, not on an edit of the street: a record
        # registered with a population and no date could not be saved at all until someone
        # invented a Stichtag (walk F21).
        touched = self.org is None or any(values.get(n) != self.original.get(n) for n in ("population", "population_date"))
        if touched and has_population and not has_date:
            return {"population_date": i18n.t("admin.field.population_date_needed")}
        if touched and has_date and not has_population:
            return {"population": i18n.t("admin.field.population_needed")}
        if any(name in values for name in ROLE_FIELDS) and (
                refusal := roles_refusal([r for n, r in ROLE_FIELDS.items() if values.get(n)])):
            return {"role_customer": _refusal_text(refusal)}
        # Each line checks itself as typed; a repeat only the whole list shows (the server's rule).
        bad = check_leitweg_ids(lines_of(values.get("leitweg_ids") or ""))
        if bad:
            index, check = bad[0]
            return {f"leitweg_ids.{index}": check.reason if i18n.current_language() == "de" else check.reason_en}
        return {}

    def changes(self, values: dict[str, Any]) -> dict[str, Any]:
        mine, before = organization_wire(values), organization_wire(self.original)
        return {name: value for name, value in mine.items() if value != before[name]}

    @property
    def edits_record(self) -> bool:
        return self.org is not None

    def action_submit(self) -> None:
        """A change of its marketplace roles is asked first: it changes what its users may do (a
        customer made a provider by a tick among address fields, walk F21)."""
        org = self.org
        if org is None or self._sending or "roles" not in self.changes(self.form.values()) or \
                self.form.check() or self.validate(self.form.values()):
            super().action_submit()
            return
        now = [r for n, r in ROLE_FIELDS.items() if self.form.values().get(n)]
        before, after = roles_text(org), " · ".join(i18n.t(f"admin.role.{r}") for r in now)
        name = clean(org.name)

        def answered(choice: str | None) -> None:
            if choice == "change":
                super(OrganizationForm, self).action_submit()

        self.app.push_screen(ConfirmScreen(lambda: i18n.t("admin.form.roles_question", name=name, before=before, after=after), [
            Choice("change", "key.yes", "admin.form.roles_change"),
            Choice("stay", "escape", "admin.form.roles_keep"),
        ], lambda: i18n.t("admin.form.roles_detail")), answered)

    def request(self, values: dict[str, Any]) -> Request:
        if self.org is not None:
            label = i18n.t("admin.form.edit_org", name=clean(self.org.short_name or self.org.name))
            return Request(AdministrationService.patch_organization(self.org.id, self.changes(values), self.etag),
                           label, related=f"organization:{self.org.id}")
        body = {name: value for name, value in organization_wire(values).items() if value not in (None, "", [])}
        body["key"] = str(values.get("key") or "").strip() or organization_key(body.get("short_name") or body["name"])
        return Request(AdministrationService.create_organization(body),
                       i18n.t("admin.form.register_label", name=body["name"]), related=None)

    async def conflict(self, outcome: Conflict) -> None:
        """412: someone changed the organisation since the form opened. What was typed stays, the
        rest shows the current version, and the next ctrl+s sends the changes against it."""
        await self.session.services.writes.discard(outcome.item_id)
        assert self.org is not None
        try:
            theirs, etag = await self.session.services.administration.organization(self.org.id)
        except (ApiError, Unreachable) as exc:
            self.notify(i18n.t("form.conflict") + " " + problem_text(exc), severity="error", timeout=10)
            return

        def took() -> None:
            self.org, self.etag = theirs, etag

        self.settle_conflict(organization_values(theirs), took)


class UserEditForm(_EditForm):
    """A user's name, e-mail, role and admin right (PATCH with If-Match: only what changed)."""

    title_id = "admin.form.edit_user"

    def __init__(self, session, org: Organization, user: User, etag: str, **kwargs):
        self.org, self.user, self.etag = org, user, etag
        self.roles = org_user_roles(org)
        self.original = self.values_of(user)
        super().__init__(session, f"admin.user_edit:{user.id}", dict(self.original), **kwargs)

    @staticmethod
    def values_of(user: User) -> dict[str, Any]:
        return {"name": user.name, "email": user.email, "role": user.role, "admin": user.admin}

    def fields(self) -> list[FormField]:
        return user_fields(self.roles)

    def changes(self, values: dict[str, Any]) -> dict[str, Any]:
        mine = {"name": str(values["name"]).strip(), "email": str(values["email"]).strip(), "role": values["role"],
                "admin": bool(values.get("admin"))}
        return {k: v for k, v in mine.items() if v != self.original[k]}

    def request(self, values: dict[str, Any]) -> Request:
        return Request(AdministrationService.patch_user(self.user.id, self.changes(values), self.etag),
                       i18n.t("admin.form.edit_user_label", name=clean(self.user.name)),
                       related=f"organization:{self.org.id}")

    async def conflict(self, outcome: Conflict) -> None:
        await self.session.services.writes.discard(outcome.item_id)
        try:
            theirs, etag = await self.session.services.administration.user(self.user.id)
        except (ApiError, Unreachable) as exc:
            self.notify(i18n.t("form.conflict") + " " + problem_text(exc), severity="error", timeout=10)
            return

        def took() -> None:
            self.user, self.etag = theirs, etag

        self.settle_conflict(self.values_of(theirs), took)
