"""Create or edit an offering: every field, checked as typed (domain.offering_rules, offering_text) and by the
server (422 at the field), a draft saved on every change (FormScreen).

Editing sends only the fields the user changed, with If-Match: the ETag of the version the form
was opened on. If another admin saved first the server answers 412; the form then shows their
version merged with the user's: a field only one side changed is taken as it is, a field both
changed is shown in full on both sides (`edit_conflict.EditConflictScreen`) and the user chooses;
then it is saved against their version. Nothing is overwritten silently and nothing typed is lost.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.text import Text
from textual import work
from textual.widgets import Static

from .. import formatting, i18n, offering_text
from ..api.models import Offering, as_offering
from ..catalog_words import category_name
from ..domain import offering_rules as rules
from ..domain.catalog import THEMENFELDER, VAT_RATES
from ..domain.pricing import DistributionKey
from ..services import Conflict, Done, Queued
from ..services.offerings import OfferingsService
from ..text import clean
from ..widgets.form import FormField
from .edit_conflict import Clash, EditConflictScreen, clash_for
from .form_screen import FormScreen, Request


def _checked(check):
    """A domain check (answers a message id) as the form wants it (answers the text)."""
    def run(text: str) -> str | None:
        problem = check(text)
        return i18n.t(problem) if problem else None
    return run


LABELS = {
    "title": "offering.f.title", "summary": "offering.f.summary", "description": "offering.f.description",
    "category": "offering.f.category", "ozg_id": "offering.f.ozg_id", "leika_key": "offering.f.leika_key",
    "bundeslaender": "offering.f.bundeslaender", "maturity": "offering.f.maturity", "annual_fee": "offering.f.annual_fee",
    "one_time_fee": "offering.f.one_time_fee", "distribution_key": "offering.f.distribution_key",
    "unit_price": "offering.f.unit_price", "unit_label": "offering.f.unit_label", "vat_rate": "offering.f.vat_rate",
    "contract_terms": "offering.f.contract_terms", "minimum_term_months": "offering.f.minimum_term",
    "notice_period_months": "offering.f.notice_period", "contact_name": "offering.f.contact_name",
    "contact_email": "offering.f.contact_email", "contact_phone": "offering.f.contact_phone",
    "keywords": "offering.f.keywords",
}


def offering_fields() -> list[FormField]:
    keys = [(k.value, i18n.t("key." + k.value)) for k in DistributionKey]
    return [
        FormField("title", LABELS["title"], required=True, check=_checked(rules.check_title)),
        FormField("summary", LABELS["summary"], check=_checked(rules.check_length("summary")), hint="offering.h.summary"),
        FormField("description", LABELS["description"], kind="area", check=_checked(rules.check_length("description"))),
        FormField("category", LABELS["category"], kind="select", options=[(c, category_name(c)) for c in THEMENFELDER], required=True),
        FormField("ozg_id", LABELS["ozg_id"], check=_checked(rules.check_ozg), placeholder="offering.p.ozg_id"),
        FormField("leika_key", LABELS["leika_key"], check=_checked(rules.check_leika), placeholder="offering.p.leika_key"),
        FormField("bundeslaender", LABELS["bundeslaender"], check=_checked(rules.check_laender), hint="offering.h.bundeslaender"),
        FormField("maturity", LABELS["maturity"], kind="select", hint="offering.h.maturity",
                  options=[(m, i18n.t(f"offering.maturity.{m}")) for m in rules.MATURITIES]),
        FormField("annual_fee", LABELS["annual_fee"], required=True, check=_checked(offering_text.check_money), notation="money",
                  hint="offering.h.money"),
        FormField("one_time_fee", LABELS["one_time_fee"], check=_checked(offering_text.check_money), notation="money"),
        FormField("distribution_key", LABELS["distribution_key"], kind="select", options=keys, required=True,
                  hint="offering.h.distribution_key"),
        FormField("unit_price", LABELS["unit_price"], check=_checked(offering_text.check_money), notation="money", hint="offering.h.unit_price"),
        FormField("unit_label", LABELS["unit_label"], check=_checked(rules.check_length("unit_label")),
                  placeholder="offering.p.unit_label"),
        FormField("vat_rate", LABELS["vat_rate"], required=True, check=_checked(offering_text.check_vat), notation="money", hint="offering.h.vat"),
        FormField("contract_terms", LABELS["contract_terms"], kind="area", check=_checked(rules.check_length("contract_terms"))),
        FormField("minimum_term_months", LABELS["minimum_term_months"], check=_checked(rules.check_months(120)), retype=True),
        FormField("notice_period_months", LABELS["notice_period_months"], check=_checked(rules.check_months(24)), retype=True),
        FormField("contact_name", LABELS["contact_name"], check=_checked(rules.check_length("contact_name"))),
        FormField("contact_email", LABELS["contact_email"], check=_checked(rules.check_email)),
        FormField("contact_phone", LABELS["contact_phone"], check=_checked(rules.check_phone)),
        FormField("keywords", LABELS["keywords"], check=_checked(rules.check_keywords), hint="offering.h.keywords"),
    ]


def new_defaults() -> dict[str, str]:
    """A new offering's starting values: amounts in the language in use when the form opens."""
    return {"distribution_key": "fixed", "vat_rate": formatting.money_input(Decimal(VAT_RATES[-1]), grouped=True),
            "one_time_fee": formatting.money_input(Decimal(0)), "minimum_term_months": "12", "notice_period_months": "3",
            "maturity": "0"}


def draft_key(offering_id: int) -> str:
    """The draft of an edit of this offering."""
    return f"offering.edit.{offering_id}"


def base_key(offering_id: int) -> str:
    """Where the version an edit started from is kept (next to the form's draft), so that a
    restored draft is sent with the ETag it was written against — never a newer one."""
    return f"offering.edit.{offering_id}.base"


def save_base(drafts: Any, offering: Offering | None, etag: str | None) -> None:
    """Keep the version an edit starts from (``base_key``). Synchronous SQLite: in a thread."""
    if offering is not None:
        drafts.save(base_key(offering.id), {"offering": offering.model_dump(mode="json"), "etag": etag})


async def version_to_edit(screen: Any, offering_id: int) -> tuple[Offering, str | None] | None:
    """The server's current version of an offering and its ETag, to edit; None when there is
    none to have (offline, refused), said to the user in a toast."""
    from ..api.errors import ApiError, Unreachable

    try:
        return await screen.session.services.offerings.current(offering_id)
    except Unreachable:
        screen.notify(i18n.t("offerings.edit_offline"), severity="warning", timeout=8)
    except ApiError as exc:
        screen.notify(i18n.problem(exc), severity="error")
    return None


class OfferingFormScreen(FormScreen):
    """``offering=None``: a new draft offering; else an edit of that version (``etag`` its ETag)."""

    AUTO_FOCUS = "#field-title"

    def __init__(self, session, offering: Offering | None = None, etag: str | None = None, **kwargs):
        self.offering = offering
        self.etag = etag
        self.base = offering_text.form_values(offering) if offering else {}
        key = draft_key(offering.id) if offering else "offering.new"
        super().__init__(session, key, self.base if offering else new_defaults(), **kwargs)

    def on_mount(self) -> None:
        # (FormScreen's on_mount runs too: Textual calls the handlers of every class.) Focusing the
        # title scrolls it into view; the label above it belongs in view as well.
        self.call_after_refresh(lambda: self.form.scroll_home(animate=False))

    @property
    def title_id(self) -> str:  # type: ignore[override]
        return "offering.form.edit" if self.offering else "offering.form.new"

    def fields(self) -> list[FormField]:
        return offering_fields()

    def intro(self) -> Text | None:
        if not self.offering:
            return Text(i18n.t("offering.form.intro_new"), style="dim")
        text = Text()
        text.append(clean(self.offering.title), style="bold")
        text.append("  " + i18n.t("offering.form.intro_edit", version=self.offering.version,
                                   status=i18n.t(f"offering.status.{self.offering.status}")), style="dim")
        return text

    def submit_label(self) -> str:
        return i18n.t("offering.form.save")

    # --- sending ---------------------------------------------------------------------------------

    def action_submit(self) -> None:
        if self._sending:
            return
        values = self.form.values()
        problem = offering_text.unit_price_problem(values.get("distribution_key") or "", str(values.get("unit_price") or ""))
        if problem:
            errors = self.form.check()
            errors["unit_price"] = i18n.t(problem)
            self.form.show_errors(errors)
            self.notify(i18n.tn("form.fix_fields", n=len(errors)), severity="warning")
            return
        if self.offering and not offering_text.changed_fields(self.base, values):
            self.notify(i18n.t("offering.form.unchanged"))
            return
        super().action_submit()

    def request(self, values: dict[str, Any]) -> Request:
        title = clean(values.get("title"))
        if not self.offering:
            return Request(OfferingsService.create(offering_text.create_body(values)),
                           label=i18n.t("offering.label.create", title=title))
        oid = self.offering.id
        return Request(OfferingsService.patch(oid, offering_text.patch_body(self.base, values), self.etag),
                       label=i18n.t("offering.label.edit", title=title), related=f"offering:{oid}")

    def done(self, outcome: Done | Queued) -> None:
        if self.offering:
            self._forget_base()
        super().done(outcome)

    @property
    def offering_id(self) -> int:
        """The id of the offering being edited (only asked of an edit, never of a new draft)."""
        assert self.offering is not None
        return self.offering.id

    @work(thread=True, group="base", exit_on_error=False)
    def _forget_base(self) -> None:
        self.session.services.drafts.delete(base_key(self.offering_id))

    # --- 412: someone else saved first -------------------------------------------------------------

    async def conflict(self, outcome: Conflict) -> None:
        """412: the service has read the version the change met (``outcome.current``). The fields
        only one side changed are merged without asking; the clashes go to the conflict view, and
        the choices are saved against that version (its ETag as If-Match)."""
        theirs, etag = as_offering(outcome.current), outcome.etag
        if theirs is None:
            self.notify(i18n.t("conflict.unloadable", detail=clean(outcome.current_error)), severity="error", timeout=10)
            return
        # The refused write is not kept: the form (and its draft) holds the input, and the next
        # save is a new request, against the version the user has now seen.
        await self.session.services.writes.discard(outcome.item_id)
        mine, their_values = self.form.values(), offering_text.form_values(theirs)
        result = offering_text.merge(self.base, mine, their_values)
        kept = [i18n.t(LABELS[n]) for n in result.theirs_kept]
        if not result.clashes:
            self.take_version(theirs, etag, result.merged)
            self.notify(i18n.t("conflict.merged", fields=", ".join(kept) or "–"), severity="warning", timeout=10)
            self.call_later(self.action_submit)
            return
        clashes = [self.clash(name, mine.get(name, ""), their_values.get(name, "")) for name in result.clashes]

        def decided(choices: dict[str, Any] | None) -> None:
            if choices is not None:  # None: back to the form as it was; the next save asks again
                self.take_version(theirs, etag, {**result.merged, **choices})
                self.action_submit()

        self.app.push_screen(EditConflictScreen(clashes, kept=kept), decided)

    def clash(self, name: str, mine: Any, theirs: Any) -> Clash:
        return clash_for(next(f for f in self.form.fields if f.name == name), mine, theirs)

    def take_version(self, theirs: Offering, etag: str | None, values: dict[str, Any]) -> None:
        """Go on from their version (the base of the next save, with its ETag), holding ``values``."""
        self.offering, self.etag, self.base = theirs, etag, offering_text.form_values(theirs)
        self._store_base()
        for name, value in values.items():
            self.form.set_value(name, value)
        self.query_one("#form-intro", Static).update(self.intro() or "")

    @work(thread=True, group="base", exit_on_error=False)
    def _store_base(self) -> None:
        save_base(self.session.services.drafts, self.offering, self.etag)
