"""The forms of the ordering flow: the customer's interest, the provider's fee proposal, and the
short forms of the other steps (reject with a reason, activate with a start, terminate with an
end, withdraw and cancel with a note). All are drafts until sent and go through the outbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.text import Text

from .. import formatting, i18n
from ..api.models import Fees, Me, Offering, Order
from ..domain.leitweg import check_leitweg_id
from ..domain.money import money_str
from ..domain.orders import DECLARATIONS, REASON_OWED, Action, DateWindow, activation_window, termination_window
from ..domain.pricing import DistributionKey, first_of_next_month
from ..formatting import InputError
from ..offering_text import unit_price_problem
from ..order_words import action_word
from ..services.orders import Earlier, OrdersService, interest_draft_key
from ..text import clean
from ..widgets.form import FormField
from .form_screen import FormScreen, Request


def rule(parse: Callable[[str], Any]) -> Callable[[str], str | None]:
    """A field check from a parser: the parser's complaint, or None when it reads the value."""
    def check(text: str) -> str | None:
        try:
            parse(text)
        except InputError as exc:
            return str(exc)
        return None

    return check


def leitweg_problem(text: str) -> str | None:
    result = check_leitweg_id(text)
    if result.ok:
        return None
    return result.reason if i18n.current_language() == "de" else result.reason_en


def not_in_past(text: str) -> date:
    """The day, if it is not in the past (else InputError)."""
    day = formatting.parse_day(text)
    if day < formatting.today():
        raise InputError(i18n.t("input.past"))
    return day


def _optional(parse: Callable[[str], Any], text: str) -> Any:
    return parse(text) if str(text).strip() else None


def _wire(amount: Decimal | None) -> str | None:
    return None if amount is None else money_str(amount)


class InterestForm(FormScreen):
    """Interessenbekundung: the customer's first step from an offering's detail."""

    def __init__(self, session, offering: Offering, me: Me | None, *, earlier: Earlier | None = None, **kwargs):
        self.earlier = earlier  # the open order (or waiting interest) the user chose to go on past
        defaults = {"leitweg_id": (me.organization.leitweg_id if me else None) or "", "contact_name": me.name if me else "",
                    "desired_start": formatting.day_input(first_of_next_month(formatting.today()))}
        super().__init__(session, interest_draft_key(offering.id), defaults, **kwargs)
        self.offering = offering
        # The organisation's Leitweg-IDs to choose from (the first is the default); the order may
        # still carry another one of its own.
        self.leitweg_ids = tuple(me.organization.leitweg_ids) if me else ()

    @property
    def title_text(self) -> str:
        return i18n.t("interest.title", offering=clean(self.offering.title))

    def intro(self) -> Text:
        text = Text(i18n.t("interest.intro"))
        if self.earlier is not None:  # said in the step too: this one comes on top of that one
            from .offering_detail import earlier_text

            text.append("\n")
            text.append_text(earlier_text(self.earlier, with_key=False))
        return text

    def fields(self) -> list[FormField]:
        fields = [
            FormField("message", "field.message", kind="area"),
            FormField("desired_start", "field.desired_start", check=rule(not_in_past), retype=True,
                      hint="hint.desired_start"),
            FormField("contact_name", "field.contact_name", required=True),
            FormField("leitweg_id", "field.leitweg_id", required=True, check=leitweg_problem, hint="hint.leitweg_id",
                      suggestions=self.leitweg_ids if len(self.leitweg_ids) > 1 else ()),
            FormField("cost_centre", "field.cost_centre"),
        ]
        if self.offering.fees and self.offering.fees.distribution_key == DistributionKey.TARGET_GROUP.value:
            fields.append(FormField("target_group_size", "field.target_group_size", check=rule(formatting.parse_count),
                                    hint="hint.target_group_size"))
        return fields

    def request(self, values: dict[str, Any]) -> Request:
        start = _optional(formatting.parse_day, values.get("desired_start", ""))
        body = {
            "offering_id": self.offering.id,
            "message": values.get("message", ""),
            "desired_start": start.isoformat() if start else None,
            "contact_name": values.get("contact_name", "").strip(),
            "leitweg_id": values.get("leitweg_id", "").strip(),
            "cost_centre": values.get("cost_centre", "").strip(),
        }
        if "target_group_size" in values:
            body["target_group_size"] = _optional(formatting.parse_count, values["target_group_size"])
        return Request(self.session.services.orders.interest(body),
                       label=i18n.t("interest.title", offering=clean(self.offering.title)),
                       related=f"offering:{self.offering.id}")

    def submit_label(self) -> str:
        return i18n.t("key.interest")


def interest_values(body: dict[str, Any]) -> dict[str, Any]:
    """The form's values from a request body (to edit a refused interest)."""
    values = {k: body.get(k) or "" for k in ("message", "contact_name", "leitweg_id", "cost_centre")}
    values["desired_start"] = formatting.day_input(body.get("desired_start"))
    if body.get("target_group_size") is not None:
        values["target_group_size"] = str(body["target_group_size"])
    return values


class ProposalForm(FormScreen):
    """Abstimmungsergebnis: the provider answers an interest with the fees it proposes (agreed
    when the customer orders)."""

    action = "propose"  # the step, named in the notice after it (order_words.action_word)

    def __init__(self, session, order: Order, offering: Offering | None, **kwargs):
        fees = order.fees or (offering.fees if offering else None) or Fees()
        defaults = {
            "annual_fee": formatting.money_input(fees.annual_fee),
            "one_time_fee": formatting.money_input(fees.one_time_fee),
            "distribution_key": fees.distribution_key or "fixed",
            "unit_price": formatting.money_input(fees.unit_price),
            "vat_rate": formatting.money_input(fees.vat_rate if fees.vat_rate is not None else "19"),
            "terms": order.terms or (offering.contract_terms if offering else ""),
        }
        super().__init__(session, f"order:{order.id}:propose", defaults, **kwargs)
        self.order = order

    @property
    def title_text(self) -> str:
        return i18n.t("proposal.title", n=self.order.id)

    def intro(self) -> Text:
        return Text(i18n.t("proposal.intro", customer=clean(self.order.customer.name if self.order.customer else "")))

    def fields(self) -> list[FormField]:
        keys = [(k.value, i18n.t("key." + k.value)) for k in DistributionKey]
        return [
            FormField("annual_fee", "field.annual_fee", required=True, check=rule(formatting.parse_money), notation="money",
                      aliases=("fees.annual_fee",)),
            FormField("one_time_fee", "field.one_time_fee", required=True, check=rule(formatting.parse_money), notation="money",
                      aliases=("fees.one_time_fee",)),
            FormField("distribution_key", "field.distribution_key", kind="select", options=keys, required=True,
                      aliases=("fees.distribution_key",)),
            FormField("unit_price", "field.unit_price", check=rule(formatting.parse_money), notation="money", aliases=("fees.unit_price",)),
            FormField("vat_rate", "field.vat_rate", required=True, check=rule(formatting.parse_vat), notation="money", aliases=("fees.vat_rate",)),
            FormField("terms", "field.terms", kind="area", aliases=("fees.terms",)),
            FormField("note", "field.note"),
        ]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        # The offering's rule; only its "needed" half applies: with "fixed" a typed unit price is
        # simply not sent (request() drops it), the provider need not clear the field first.
        problem = unit_price_problem(values.get("distribution_key") or "", str(values.get("unit_price") or ""))
        return {"unit_price": i18n.t(problem)} if problem == "offering.err.unit_price_needed" else {}

    def request(self, values: dict[str, Any]) -> Request:
        key = values["distribution_key"]
        fees = {
            "annual_fee": _wire(formatting.parse_money(values["annual_fee"])),
            "one_time_fee": _wire(formatting.parse_money(values["one_time_fee"])),
            "distribution_key": key,
            "unit_price": None if key == "fixed" else _wire(_optional(formatting.parse_money, values.get("unit_price", ""))),
            "vat_rate": _wire(formatting.parse_vat(values["vat_rate"])),
            "terms": values.get("terms", ""),
        }
        return transition_request(self.order, "propose", {"note": values.get("note", ""), "fees": fees})

    def submit_label(self) -> str:
        return i18n.t("key.propose")


def in_window(window: DateWindow) -> Callable[[str], None]:
    """A date field's rule from the contract's allowed dates (domain/orders.py, as the server checks)."""
    def check(text: str) -> None:
        day = formatting.parse_day(text)
        if day < window.earliest:
            raise InputError(i18n.t("input.earliest", day=formatting.day(window.earliest)))
        if day > window.latest:
            raise InputError(i18n.t("input.latest", day=formatting.day(window.latest)))

    return check


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def note_field(action: str) -> FormField:
    """The step's note: a reason, required where the step owes one (domain.orders.REASON_OWED)."""
    if Action(action) in REASON_OWED:
        return FormField("note", "field.reason", kind="area", required=True)
    return FormField("note", "field.reason" if action == "terminate" else "field.note", kind="area")


class StepForm(FormScreen):
    """Reject, withdraw, cancel, activate, terminate: a note (a reason where one is owed) and a date.

    Activation and termination propose the earliest date the contract's terms allow and refuse
    others as the server does (the same rule: domain.orders.activation_window / termination_window)."""

    def __init__(self, session, order: Order, action: str, *, notice_months: int = 3, minimum_term_months: int = 12,
                 **kwargs):
        today = formatting.today()
        self.notice_months = int(order.notice_period_months or notice_months)
        self.minimum_term_months = int(order.minimum_term_months if order.minimum_term_months is not None
                                       else minimum_term_months)
        ordered_on = _day(order.ordered_at)
        self.start_window = activation_window(ordered_on, today)
        self.end_window = termination_window(order.start_date, today, minimum_term_months=self.minimum_term_months,
                                             notice_months=self.notice_months)
        desired = order.desired_start
        start = desired if desired and self.start_window.contains(desired) and desired >= today else max(today, self.start_window.earliest)
        defaults = {"start_date": formatting.day_input(start), "end_date": formatting.day_input(self.end_window.earliest)}
        self.order = order
        self.action = action  # before the form is built: its fields and button depend on it
        super().__init__(session, f"order:{order.id}:{action}", defaults, **kwargs)
        self.ordered_on = ordered_on

    @property
    def suggested_end(self) -> date:
        return self.end_window.earliest

    @property
    def title_text(self) -> str:
        return i18n.t(f"transition.{self.action}", n=self.order.id)

    def intro(self) -> Text:
        window = self.start_window
        why = "transition.why.order" if self.ordered_on is not None and window.earliest == self.ordered_on else "transition.why.backdate"
        return Text(i18n.t(f"transition.{self.action}_intro", months=self.notice_months, term=self.minimum_term_months,
                           end=formatting.day(self.end_window.earliest), earliest=formatting.day(window.earliest),
                           latest=formatting.day(window.latest), why=i18n.t(why)))

    def fields(self) -> list[FormField]:
        if self.action == "activate":
            return [FormField("start_date", "field.start_date", required=True, check=rule(in_window(self.start_window)), retype=True),
                    FormField("note", "field.note")]
        fields = []
        if self.action == "terminate":
            fields.append(FormField("end_date", "field.end_date", required=True, check=rule(in_window(self.end_window)), retype=True))
        fields.append(note_field(self.action))
        if Action(self.action) in DECLARATIONS:
            # Undoing a contract weighs as much as concluding it: the authorisation is declared.
            fields.append(FormField("declared", self.declaration(), kind="tick", required=True))
        return fields

    def declaration(self) -> str:
        me = getattr(self.app, "me", None)
        order = self.order
        side = order.provider if me is not None and me.role == "provider" else order.customer
        org = clean((me.organization.name if me else "") or (side.name if side else ""))
        return i18n.t(f"transition.declare.{self.action}", org=org)

    def request(self, values: dict[str, Any]) -> Request:
        extra: dict[str, Any] = {"note": values.get("note", "")}
        if "start_date" in values:
            extra["start_date"] = formatting.parse_day(values["start_date"]).isoformat()
        if "end_date" in values:
            extra["end_date"] = formatting.parse_day(values["end_date"]).isoformat()
        return transition_request(self.order, self.action, extra)

    def submit_label(self) -> str:
        return i18n.t(f"transition.send.{self.action}")


def transition_request(order: Order, action: str, extra: dict[str, Any] | None = None, *,
                       if_match: str | None = None) -> Request:
    label = f"{action_word(action)}: {i18n.t('order.title', n=order.id)}"
    return Request(OrdersService.transition(order.id, action, extra, if_match=if_match), label=label,
                   related=f"order:{order.id}")
