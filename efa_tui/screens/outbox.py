"""Ausstehende Änderungen: the writes not (yet) accepted by the server — waiting to be sent, or
refused after they were queued (e.g. an interest written offline that the server later found
invalid). Nothing here is ever dropped silently: a refused write is sent again, edited in its
form (the input comes back as a draft), or discarded by the user's decision (and kept on record).

Each write says whose it is: another identity's writes are listed too, and wait — they are sent
only with that identity's sign-in; one saved before identities existed is sent again only by
the user's decision (then as the identity signed in now).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from .. import formatting, i18n
from ..services.orders import interest_draft_key
from ..services.writes import CONFLICT, LEGACY, NEEDS_ATTENTION, PENDING, OutboxItem
from ..text import clean
from ..widgets.virtual_table import Column, VirtualTable
from .base import AppScreen
from .form_screen import field_errors

REFUSED = (NEEDS_ATTENTION, CONFLICT)


def waiting_text(items: list[OutboxItem]) -> Text:
    """A record's writes not at the server yet, for its detail (an order's, an invoice's): what
    waits to be sent, what was refused and why. Empty without any."""
    text = Text()
    if items:
        text.append(i18n.t("order.outbox") + "\n", style="bold underline")
    for item in items:
        if item.state == PENDING:
            text.append("  " + i18n.t("order.outbox_pending", label=clean(item.label)) + "\n")
        else:
            detail = clean((item.problem or {}).get("detail") or item.last_error or "")
            text.append("  " + i18n.t("order.outbox_failed", label=clean(item.label), detail=detail) + "\n", style="bold")
    return text


@dataclass(frozen=True)
class OutboxRows:
    items: tuple[OutboxItem, ...]
    owners: dict[str, str]  # owner key → whose, for people

    def count(self) -> int:
        return len(self.items)

    def fetch(self, offset: int, limit: int) -> list[tuple[Any, list[str]]]:
        return [(i.id, [formatting.moment(i.created_at), clean(i.label) or clean(i.kind), self.owners.get(i.owner, ""),
                        i18n.t("outbox.state." + i.state), str(i.attempts)]) for i in self.items[offset:offset + limit]]


def owner_labels(session, owners: set[str]) -> dict[str, str]:
    """Whose items are: an identity's organisation and role, this sign-in, or unknown (in a thread)."""
    labels: dict[str, str] = {}
    for owner in owners:
        identity = session.identities.get(owner) if session.identities is not None else None
        if identity is not None:
            labels[owner] = clean(identity.label())
        elif owner.startswith(LEGACY):
            labels[owner] = i18n.t("outbox.owner.legacy")
        else:
            labels[owner] = i18n.t("outbox.owner.this")
    return labels


def problem_text(item: OutboxItem) -> Text:
    text = Text()
    text.append(clean(item.label) or clean(item.kind), style="bold")
    text.append(f"\n{item.method} {clean(item.path)} · {i18n.t('outbox.state.' + item.state)}")
    problem = item.problem or {}
    if problem:
        text.append("\n" + i18n.problem(problem), style="bold red")
        for err in problem.get("errors") or []:
            message = err.get("message_de") if i18n.current_language() == "de" and err.get("message_de") else err.get("message")
            text.append(f"\n  {clean(err.get('field'))}: {clean(message)}")
    elif item.last_error:
        text.append("\n" + clean(item.last_error), style="dim")
    return text


class OutboxScreen(AppScreen):
    DATA_KINDS = frozenset(("outbox",))  # An item delivered (or refused) by a flush in the background leaves (or changes) its row.
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "key.back", id="outbox.back"),
        Binding("s", "resend", "key.resend", id="outbox.resend"),
        Binding("e", "edit", "key.edit", id="outbox.edit"),
        Binding("d", "discard", "key.discard", id="outbox.discard"),
    ]
    DEFAULT_CSS = """
    OutboxScreen #outbox-intro { padding: 0 1; color: $text-muted; }
    OutboxScreen VirtualTable { height: 1fr; }
    OutboxScreen #outbox-detail { height: auto; max-height: 10; padding: 0 1; border-top: solid $primary; }
    """

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.items: dict[int, OutboxItem] = {}
        self.labels: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text(i18n.t("outbox.intro")), id="outbox-intro")
        yield VirtualTable([Column("at", i18n.t("outbox.col.at"), width=18), Column("what", i18n.t("outbox.col.what")),
                            Column("owner", i18n.t("outbox.col.owner"), width=16), Column("state", i18n.t("col.state"), width=16),
                            Column("attempts", i18n.t("outbox.col.attempts"),
                                                                                    width=8, align="right")],
                           id="outbox-table", empty_text=i18n.t("outbox.empty"))
        yield Static(id="outbox-detail")

    def data_synced(self) -> None:
        self.load()

    def on_mount(self) -> None:
        self.load()
        self.query_one(VirtualTable).focus()

    @work(thread=True, exclusive=True, group="outbox-load", exit_on_error=False)
    def load(self) -> None:
        outbox = self.session.services.outbox
        items = outbox.open_items(PENDING, NEEDS_ATTENTION, CONFLICT)
        # Another identity's writes wait for its own sign-in, and what they are is its business
        # (Dataport saw the title of AKDB's unpublished offering): counted, not listed. Those
        # from before identities existed are listed: nobody knows whose they are.
        waiting = outbox.others(PENDING, NEEDS_ATTENTION, CONFLICT)
        others = [i for i in waiting if i.owner.startswith(LEGACY)]
        labels = owner_labels(self.session, {i.owner for i in items + others} | {outbox.owner})
        self.app.call_from_thread(self._show, items, others, labels, len(waiting) - len(others))

    def _show(self, items: list[OutboxItem], others: list[OutboxItem] | None = None,
              labels: dict[str, str] | None = None, hidden: int = 0) -> None:
        others = others or []
        self.labels = labels or {}
        intro = Text(i18n.t("outbox.intro"))
        if hidden:
            intro.append("\n" + i18n.tn("outbox.others_waiting", hidden), style="italic")
        self.query_one("#outbox-intro", Static).update(intro)
        self.items = {i.id: i for i in items + others}
        rows = sorted(items + others, key=lambda i: i.id, reverse=True)
        self.query_one(VirtualTable).set_source(OutboxRows(tuple(rows), self.labels), keep_cursor=True)
        self._detail()

    def mine(self, item: OutboxItem) -> bool:
        """Mine to send or discard: this identity's, or one from before identities (by decision)."""
        return item.owner == self.session.services.outbox.owner or item.owner.startswith(LEGACY)

    @on(VirtualTable.RowHighlighted)
    def _detail(self) -> None:
        item = self.current()
        text = problem_text(item) if item else Text("")
        if item is not None and item.owner.startswith(LEGACY):  # (another identity's are not listed)
            note = i18n.t("outbox.legacy", me=self.labels.get(self.session.services.outbox.owner, ""))
            text.append("\n" + note, style="italic")
        self.query_one("#outbox-detail", Static).update(text)
        self.refresh_bindings()

    def current(self) -> OutboxItem | None:
        key = self.query_one(VirtualTable).cursor_key
        return self.items.get(key) if key is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        item = self.current() if self.is_mounted else None
        if item is not None and action in ("resend", "discard", "edit") and not self.mine(item):
            return False  # another identity's: it waits for them
        legacy = item is not None and item.owner.startswith(LEGACY)
        if action in ("resend", "discard"):
            return item is not None and (item.state in REFUSED or legacy)
        if action == "edit":
            return item is not None and ((item.state in REFUSED and item.kind == "order.create")
                                         or (item.state == CONFLICT and item.kind == "offering.patch"))
        return True

    # --- the user's decisions -----------------------------------------------------------------

    @work(group="outbox-act", exit_on_error=False)
    async def action_resend(self) -> None:
        """Send it again as it is (e.g. after the operator set up the in-house relationship)."""
        item = self.current()
        if item is None or not self.mine(item) or (item.state not in REFUSED and not item.owner.startswith(LEGACY)):
            return
        await self.session.services.outbox.send_again(item.id)
        self.load()

    @work(group="outbox-act", exit_on_error=False)
    async def action_discard(self) -> None:
        item = self.current()
        if item is None or not self.mine(item) or (item.state not in REFUSED and not item.owner.startswith(LEGACY)):
            return
        await self.session.services.outbox.discard(item.id)
        self.notify(i18n.t("outbox.discarded", label=clean(item.label)))
        self.load()

    @work(group="outbox-act", exit_on_error=False)
    async def action_edit(self) -> None:
        """An interest refused after it was queued: its input goes back into the form as a draft."""
        from .order_forms import InterestForm, interest_values

        item = self.current()
        if item is not None and item.kind == "offering.patch" and item.state == CONFLICT:
            await self._edit_offering(item)
            return
        if item is None or item.kind != "order.create":
            return
        body = item.body or {}
        offering = await asyncio.to_thread(self.session.services.orders.offering, body.get("offering_id"))
        if offering is None:
            self.notify(i18n.t("detail.not_cached"), severity="warning")
            return
        await asyncio.to_thread(self.session.services.drafts.save, interest_draft_key(offering.id), interest_values(body))
        await self.session.services.outbox.discard(item.id)  # the draft holds the input now
        self.app.push_screen(InterestForm(self.session, offering, getattr(self.app, "me", None), errors=field_errors(item.problem)), self._edited)

    async def _edit_offering(self, item: OutboxItem) -> None:
        """An offering edit refused with 412 (someone saved first while it waited): the fields it
        changed that now differ from the server's version are settled one by one in the conflict
        view (both versions in full); then the offering's form opens on the server's version with
        the result, to be saved from there. Nothing is lost: cancelled, the item stays."""
        from .. import offering_text
        from .edit_conflict import EditConflictScreen, clash_for
        from .offering_form import draft_key, offering_fields, save_base, version_to_edit

        offering_id = int(str(item.related or "").removeprefix("offering:") or 0)
        current = await version_to_edit(self, offering_id)
        if current is None:
            return
        theirs, etag = current
        their_values = offering_text.form_values(theirs)
        mine, clashes = offering_text.queued_edit(item.body or {}, their_values)
        fields = {f.name: f for f in offering_fields()}
        drafts = self.session.services.drafts

        async def into_form(values: dict[str, Any]) -> None:
            await asyncio.to_thread(save_base, drafts, theirs, etag)
            await asyncio.to_thread(drafts.save, draft_key(offering_id), values)
            await self.session.services.outbox.discard(item.id)  # the form's draft holds it now
            self.open_offering_form(theirs, etag)

        def decided(choices: dict[str, Any] | None) -> None:
            if choices is not None:
                self.run_worker(into_form({**mine, **choices}), group="outbox-act")

        if clashes:
            self.app.push_screen(EditConflictScreen([clash_for(fields[n], mine[n], their_values.get(n, "")) for n in clashes]),
                                 decided)
        else:
            await into_form(mine)

    def open_offering_form(self, offering: Any, etag: str | None) -> None:
        from .offering_form import OfferingFormScreen

        self.load()
        def closed(_answer: Any) -> None:
            self.load()

        self.app.push_screen(OfferingFormScreen(self.session, offering, etag), closed)

    def _edited(self, answer: Any) -> None:
        self.load()
        if isinstance(answer, dict) and answer.get("id"):
            self.efa.open_order(answer)  # accepted now: show the order it made
