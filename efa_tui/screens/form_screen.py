"""A write as a screen: a `Form`, its draft saved on every change, submitted through the outbox.

What every form in the app shares, so that each write screen only says which fields it has and
which request it makes:

* the draft (``store.drafts``) is saved in a thread on every change and restored when the same
  form is opened again — close the terminal mid-form and the text is still there;
* submitting checks the fields first, then stores the request in the outbox (with its
  Idempotency-Key) and sends it; the submit action is ignored while one is under way, and the
  key makes a retry after a lost reply harmless, so a double press never makes two orders;
* a 422 puts the server's field errors at the fields and keeps the input (the refused outbox
  item is discarded: the draft holds the input, the next submit is a new request); other
  refusals are shown as a notification; offline, the write waits in the outbox and the form closes;
* it owns the keyboard (base.AppScreen.OWNS_KEYBOARD): the first field has the focus from the
  first key typed, the field with a problem after a refused send, and a restored draft is
  checked at once (a wrong Leitweg-ID shows its reason on reopen);
* escape with changes asks: discard them, keep them as a draft, or go on editing. A form sent or
  left is gone from the stack for good (the app also takes it off when the user leaves the area).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Button, Static

from .. import formatting, i18n
from ..services import Conflict, Done, Outcome, Queued, Refused, Write
from ..widgets.form import Form, FormField
from .base import AppScreen
from .confirm import Choice, ConfirmScreen

# A draft's note of the language it was typed in (no field is named so).
_TYPED_IN = "_typed_in"


@dataclass(frozen=True)
class Request:
    """The write a form makes (built by its area's service) and how the user sees it."""

    write: Write
    label: str  # in the user's words, for the status line and the outbox list
    related: str | None = None  # e.g. "order:42"


class FormScreen(AppScreen):
    """Subclasses give `title`, `fields()`, `request(values)` and optionally `intro()`, `done()`."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "key.submit", id="form.submit"),
        Binding("escape", "close", "key.back", id="form.back"),
    ]
    DEFAULT_CSS = """
    FormScreen #form-title { padding: 0 1; text-style: bold; }
    FormScreen #form-intro { padding: 0 1; }
    FormScreen #form-buttons { height: auto; padding: 0 1; }
    FormScreen #form-buttons Button { margin-right: 2; }
    """
    OWNS_KEYBOARD = True
    AUTO_FOCUS = ""  # not Textual's first focusable (the scrolling form itself): its first field

    def __init__(self, session, draft_key: str, defaults: dict[str, Any] | None = None, *,
                 errors: dict[str, str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.draft_key = draft_key
        self.defaults = dict(defaults or {})
        self.initial_errors = dict(errors or {})  # the server's, from an earlier refusal
        self._sending = False
        self._draft_lock = threading.Lock()
        self._draft_seq = 0
        self._saved_seq = 0
        self.restored = False  # a draft was found and put back
        self._opened_with: dict[str, Any] | None = None  # the values shown on opening (draft included)
        self._shown = False  # on screen (base.opened); the keys typed meanwhile wait for the draft too
        self._filled = False  # the draft put back (or none found), its problems shown
        self.sent: Done | None = None  # the server's acceptance (its answer and that answer's ETag)

    # --- what a subclass says -------------------------------------------------------------------

    title_id = "form.title"

    @property
    def title_text(self) -> str:
        return i18n.t(self.title_id)

    def fields(self) -> list[FormField]:
        raise NotImplementedError

    def intro(self) -> Text | None:
        return None

    def request(self, values: dict[str, Any]) -> Request:
        raise NotImplementedError

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        """Rules across fields (e.g. a unit price needed for this distribution key): {field: problem}."""
        return {}

    def submit_label(self) -> str:
        return i18n.t("form.submit")

    def binding_labels(self) -> dict[str, str]:
        """The submit key in the footer and the help says what the button says (localize.py)."""
        return {"submit": self.submit_label()}

    def done(self, outcome: Done | Queued) -> None:
        """Sent (``Done``: ``record`` is the server's answer) or queued (offline)."""
        self.dismiss(outcome.record if isinstance(outcome, Done) else None)

    async def conflict(self, outcome: Conflict) -> None:
        """412: someone else changed the record first. Forms that send If-Match override this."""
        await self.session.services.writes.discard(outcome.item_id)
        self.notify(i18n.t("form.conflict"), severity="error", timeout=10)

    # --- building -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Text(self.title_text), id="form-title")
        intro = self.intro()
        if intro is not None:
            yield Static(intro, id="form-intro")
        yield Form(self.fields(), self.defaults, id="form")
        with Horizontal(id="form-buttons"):
            yield Button(self.submit_label() + " (ctrl+s)", variant="primary", id="form-submit")
            yield Button(i18n.t("form.cancel") + " (esc)", id="form-cancel")

    def on_mount(self) -> None:
        self.restore_draft()

    async def relabel(self) -> None:
        """After a language switch: labels, hints and choices anew, with what was typed kept."""
        values, errors = self.form.values(), self.form.errors
        self.defaults = values
        await self.recompose()
        if errors:
            self.call_after_refresh(self.form.recheck)

    @property
    def form(self) -> Form:
        return self.query_one("#form", Form)

    def first_focus(self) -> Widget | None:
        form = self.form
        return form.control(form.fields[0].name) if form.fields else None

    def changed(self) -> bool:
        """Edited since the form opened (with its draft, if one was restored)?"""
        return self._opened_with is not None and self.form.values() != self._opened_with

    # --- the draft ------------------------------------------------------------------------------

    @work(thread=True, group="draft-load", exit_on_error=False)
    def restore_draft(self) -> None:
        draft = None
        try:
            draft = self.session.services.drafts.load(self.draft_key)
        finally:  # also when the draft cannot be read: the form opens without it
            if draft:
                self.app.call_from_thread(self._restore, draft)
            else:
                self.app.call_from_thread(self._opened)

    def _opened(self) -> None:
        self._opened_with = self.form.values()
        if self.initial_errors:
            self._show_initial_errors()
        else:
            self._ready()

    def opened(self) -> None:
        self._shown = True
        if self._filled:
            self.take_keyboard()
        else:  # a draft that takes long to read must not keep the keys (escape too) for long
            self.set_timer(2.0, self.take_keyboard)

    def take_keyboard(self) -> None:
        claim = getattr(self.app, "claim_parked_keys", None)
        if claim is not None and not self.keyboard_ready:
            claim()  # typed before a question whose answer opened this form: they are its
        super().take_keyboard()

    def _ready(self) -> None:
        """Filled in (draft restored, problems shown): the keys typed so far go into the form now,
        not before — a draft put back later would overwrite them."""
        self._filled = True
        if self._shown:
            self.take_keyboard()

    def _restore(self, draft: dict[str, Any]) -> None:
        form = self.form
        typed_in = draft.get(_TYPED_IN)
        for f in form.fields:
            # A declaration is given anew each time, never taken from a draft.
            if f.name in draft and not (f.kind == "tick" and f.required):
                value = draft[f.name]
                if f.notation and typed_in and isinstance(value, str):
                    value = formatting.renotate(value, f.notation, typed_in)
                form.set_value(f.name, value)
        self.restored = True
        self._opened_with = form.values()
        self.notify(i18n.t("form.draft_restored"))
        # Checked at once, each field by its rule as if just typed (a Leitweg-ID gone wrong shows why),
        # then the server's problems from an earlier refusal — after the restored values' change
        # events, which would recheck (and clear) the fields.
        self.call_after_refresh(self._check_restored)

    def _check_restored(self) -> None:
        self.form.recheck()
        if self.initial_errors:
            self._show_initial_errors()
        else:
            self._ready()

    def _show_initial_errors(self) -> None:
        self.form.show_errors(self.initial_errors)
        self._ready()

    def on_form_changed(self, event: Form.Changed) -> None:
        self._draft_seq += 1
        self.save_draft(self._draft_seq, event.form.values())

    @work(thread=True, group="draft-save", exit_on_error=False)
    def save_draft(self, seq: int, values: dict[str, Any]) -> None:
        # Saves may finish out of order in their threads: the newest wins.
        with self._draft_lock:
            if seq < self._saved_seq:
                return
            # The language it was typed in: its amounts are written in that notation.
            self.session.services.drafts.save(self.draft_key, {**values, _TYPED_IN: i18n.current_language()})
            self._saved_seq = seq

    def _drop_draft(self) -> None:
        """In a thread: the lock waits for a save under way, and no later save brings it back."""
        with self._draft_lock:
            self._saved_seq = 1 << 62
            self.session.services.drafts.delete(self.draft_key)

    # --- submitting -----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "form-submit":
            self.action_submit()
        elif event.button.id == "form-cancel":
            self.action_close()

    def action_close(self) -> None:
        """Escape: leave. Unchanged, at once; with changes, the user says what becomes of them."""
        if self._sending:
            return
        if not self.changed():
            self.dismiss(None)
            return

        def answered(choice: str | None) -> None:
            if choice == "discard":
                self.discard()
            elif choice == "keep":
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(lambda: i18n.t("form.leave.question"), [
            Choice("discard", "form.leave.discard_key", "form.leave.discard"),  # the key in the language now
            Choice("keep", "form.leave.keep_key", "form.leave.keep", primary=True),
            Choice("stay", "escape", "form.leave.stay"),
        ], lambda: i18n.t("form.leave.detail")), answered)

    @work(group="discard", exit_on_error=False)
    async def discard(self) -> None:
        """Abandoned: the draft goes too, so the form opens fresh next time (the offering's fees,
        not the ones typed and dropped)."""
        await asyncio.to_thread(self._drop_draft)
        self.notify(i18n.t("form.discarded"))
        self.dismiss(None)

    def action_submit(self) -> None:
        if self._sending:
            return  # a second press while the first is on its way does nothing
        errors = self.form.check()
        if not errors:
            errors = self.validate(self.form.values())
            self.form.show_errors(errors)
        if errors:
            self.notify(i18n.tn("form.fix_fields", n=len(errors)), severity="warning")
            return
        self._sending = True
        self.query_one("#form-submit", Button).disabled = True
        self.send(self.form.values())

    @work(group="submit", exit_on_error=False)
    async def send(self, values: dict[str, Any]) -> None:
        try:
            req = self.request(values)
            outcome = await self.session.services.writes.submit(req.write, label=req.label, related=req.related)
            await self._settle(outcome, values)
        finally:
            self._sending = False
            if self.is_attached:
                self.query_one("#form-submit", Button).disabled = False

    async def _settle(self, outcome: Outcome, values: dict[str, Any]) -> None:
        if isinstance(outcome, (Done, Queued)):
            # Sent, or safely queued (offline): the outbox holds it now, the draft can go.
            await asyncio.to_thread(self._drop_draft)
            if isinstance(outcome, Queued):
                self.notify(i18n.t("form.queued"), severity="warning", timeout=8)
            else:
                self.sent = outcome
            self.done(outcome)
            return
        if isinstance(outcome, Conflict):
            await self.conflict(outcome)
            return
        if isinstance(outcome, Refused):
            await self.session.services.writes.discard(outcome.item_id)
            errors = field_errors(outcome.problem)
            unplaced = self.form.show_errors(errors)
            message = i18n.t("form.refused", detail=i18n.problem(outcome.problem, outcome.detail))
            if unplaced:
                message += "\n" + "\n".join(unplaced)
            self.notify(message, severity="error", timeout=10)


def field_errors(problem: dict[str, Any] | None) -> dict[str, str]:
    """A 422's field errors (field → message, in German when the server gave one): a form shows
    them at its fields, also when a refused write is opened again from the outbox."""
    def message(error: dict[str, Any]) -> str:
        if i18n.current_language() == "de" and error.get("message_de"):
            return str(error["message_de"])
        return str(error.get("message") or "")

    return {str(e.get("field") or ""): message(e) for e in (problem or {}).get("errors") or []}


def refusal_detail(outcome: Refused) -> str:
    """Why the server refused, in German when it said so in German too (``detail_de``)."""
    if i18n.current_language() == "de" and outcome.problem.get("detail_de"):
        return str(outcome.problem["detail_de"])
    return outcome.detail
