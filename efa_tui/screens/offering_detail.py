"""An offering in full: description, fees and the price worked out for the user's organisation
(first year pro rata, then a full year), provider contact, availability, maturity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from .. import formatting, i18n
from ..api.models import Contact, Me, Offering
from ..api.models import Fees as FeeTerms
from ..catalog_words import category_name
from ..domain.catalog import BUNDESLAENDER
from ..domain.pricing import DistributionKey, Fees, cost_preview, first_of_next_month
from ..services.catalog import CatalogService
from ..services.orders import Earlier
from ..text import clean
from ..widgets.detail_text import DetailText, label
from ..widgets.lists import DetailScroll
from .base import AppScreen


def price_for(fees: FeeTerms | None, me: Me | None, today: date, *, start: date | None = None,
              target_group_size: int | None = None) -> Text:
    """The cost for the user's own organisation, by the domain's pricing rules, for a contract
    starting on ``start`` (default: the 1st of next month). ``fees``: an offering's, or the fees
    agreed in an order."""
    fees = fees or FeeTerms()
    key = DistributionKey(fees.distribution_key or "fixed")
    f = Fees(fees.annual_fee or Decimal(0), fees.one_time_fee or Decimal(0), key,
             fees.unit_price, fees.vat_rate or Decimal(0))
    org = me.organization if me else None
    population = org.population if org else None
    start = start or first_of_next_month(today)
    preview = cost_preview(f, start, population=population,
                           target_group_size=target_group_size or population)
    text = Text()
    text.append(i18n.t("detail.your_cost", org=clean((org.name if org else "") or "–")) + "\n", style="bold")
    label(text, f"  {i18n.t('detail.first_year', year=preview.first_year, start=formatting.day(start), months=preview.months_first_year)}: ")
    text.append(f"{formatting.money(preview.first_year_net)} {i18n.t('detail.net')}\n", style="bold")
    label(text, f"  {i18n.t('detail.full_year')}: ")
    text.append(f"{formatting.money(preview.full_year_net)} {i18n.t('detail.net')}\n", style="bold")
    if key is DistributionKey.PER_CASE:
        label(text, f"  {i18n.t('detail.usage_extra')}: ")
        text.append(f"{formatting.money(fees.unit_price)}\n")
    text.append(f"  {i18n.t('detail.pro_rata_rule')}\n", style="dim")
    return text


def describe(offering: Offering, me: Me | None, today: date) -> list[Text]:
    """The detail view as plain Text blocks (markup off: everything here came from the server)."""
    contact = offering.contact or Contact()
    blocks: list[Text] = []
    head = Text()
    head.append(clean(offering.title) + "\n", style="bold")
    head.append(clean(offering.summary), style="italic")
    blocks.append(head)

    info = Text()
    label(info, f"{i18n.t('detail.provider')}: ", "bold")
    info.append(clean(offering.provider.name if offering.provider else None) + "\n")
    label(info, f"{i18n.t('col.category')}: ", "bold")
    info.append(category_name(offering.category) + "\n")
    lands = offering.bundeslaender
    label(info, f"{i18n.t('detail.availability')}: ", "bold")
    info.append((", ".join(BUNDESLAENDER.get(code, clean(code)) for code in lands) or i18n.t("detail.nationwide")) + "\n")
    label(info, f"{i18n.t('detail.maturity')}: ", "bold")
    info.append(f"{'–' if offering.maturity is None else offering.maturity} / 4\n")
    label(info, f"{i18n.t('detail.keys')}: ", "bold")
    info.append(f"{clean(offering.ozg_id)} · LeiKa {clean(offering.leika_key)}")
    blocks.append(info)

    fee_text = Text()
    fee_text.append(i18n.t("detail.fees") + "\n", style="bold underline")
    fee_terms = offering.fees or FeeTerms()
    fee_text.append_text(fee_lines(fee_terms))
    blocks.append(fee_text)
    blocks.append(price_for(fee_terms, me, today))

    desc = Text()
    desc.append(i18n.t("detail.description") + "\n", style="bold underline")
    desc.append(clean(offering.description, multiline=True))
    blocks.append(desc)

    terms = Text()
    terms.append(i18n.t("detail.terms") + "\n", style="bold underline")
    terms.append(clean(offering.contract_terms, multiline=True))
    blocks.append(terms)

    who = Text()
    who.append(i18n.t("detail.contact") + "\n", style="bold underline")
    who.append("  " + " · ".join(clean(v) for v in (contact.name, contact.email, contact.phone) if v))
    blocks.append(who)

    order = Text()
    role = me.role if me else None
    if me and me.can_order:
        order.append(i18n.t("detail.order_hint"), style="bold")
    else:
        reason = i18n.t("detail.only_customers") if role and role != "customer" else i18n.t("detail.no_inhouse")
        order.append(i18n.t("detail.cannot_order", reason=reason), style="bold")
    blocks.insert(1, order)  # right under the title: whether and how this user can order
    return blocks


def unit_text(key: str, label: str | None) -> str:
    """What a unit price is per, in the user's language — the rule it is billed by ("je 1.000
    Einwohner und Jahr", "per 1,000 inhabitants a year") — and the provider's own words for the
    unit after it, quoted, when they say more than that ("je Fall · „je Antrag“")."""
    standard = i18n.t("unit." + key) if "unit." + key in i18n.MESSAGES else ""
    own = clean(label or "").strip()
    if not own or own.casefold() in {standard.casefold(), i18n.MESSAGES.get("unit." + key, ("",))[0].casefold()}:
        return standard
    return f"{standard} · {i18n.t('unit.own', label=own)}" if standard else own


def fee_lines(fees: FeeTerms) -> Text:
    """The fees, one per line: an offering's (its detail) and a contract's agreed ones (the order)."""
    text = Text()
    label(text, f"  {i18n.t('detail.annual_fee')}: ").append(f"{formatting.money(fees.annual_fee)}\n")
    label(text, f"  {i18n.t('detail.one_time_fee')}: ").append(f"{formatting.money(fees.one_time_fee)}\n")
    key = fees.distribution_key or "fixed"
    label(text, f"  {i18n.t('detail.distribution')}: ").append(i18n.t('key.' + clean(key)))
    if fees.unit_price is not None:
        text.append(f" · {formatting.money(fees.unit_price)} {unit_text(key, fees.unit_label)}".rstrip())
    label(text, f"\n  {i18n.t('detail.vat')}: ").append(f"{formatting.number(fees.vat_rate or Decimal(0), 0)} %")
    return text


def earlier_text(earlier: Earlier, *, with_key: bool = True) -> Text:
    """What a second interest would repeat, in words: the open order (number and state), or the
    interest still waiting in the outbox (``with_key``: and the key that opens it)."""
    from .order_detail import state_text

    text = Text()
    if earlier.order is not None:
        text.append(i18n.t("interest.again.order", n=earlier.order.id,
                           state=state_text(earlier.order, formatting.today())), style="bold")
        if with_key:
            text.append(" " + i18n.t("interest.again.open_order"), style="dim")
    elif earlier.draft:
        text.append(i18n.t("interest.again.draft"), style="bold")
        if with_key:
            text.append(" " + i18n.t("interest.again.open_draft"), style="dim")
    else:
        text.append(i18n.t("interest.again.waiting"), style="bold")
        if with_key:
            text.append(" " + i18n.t("interest.again.open_outbox"), style="dim")
    return text


class OfferingScreen(AppScreen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "key.back", id="detail.back"),
        Binding("b", "interest", "key.interest", id="detail.interest"),
        Binding("enter", "open_earlier", "interest.key.open_earlier", id="detail.open_earlier"),
    ]
    # An order or outbox change may start or end an earlier interest in this offering.
    DATA_KINDS = frozenset({"orders", "outbox"})
    DEFAULT_CSS = """
    OfferingScreen VerticalScroll { padding: 0 1; }
    OfferingScreen Static { margin-bottom: 1; }
    """

    def __init__(self, catalog: CatalogService, offering_id: int, **kwargs):
        super().__init__(**kwargs)
        self.catalog = catalog
        self.offering_id = offering_id
        self.offering: Offering | None = None
        self.earlier: Earlier | None = None  # an open order (or waiting interest) a new one would repeat
        # Read from the cache in a thread: `b` typed right after `Enter` waits for the offering
        # (before it, `b` has nothing to order and the text after it would be lost).
        self.keyboard_ready = False

    def compose(self) -> ComposeResult:
        yield DetailScroll(id="detail")

    def on_mount(self) -> None:
        self.load()

    def opened(self) -> None:
        """Shown: the keys typed so far wait for the offering (`_show`), at most a moment."""
        self.set_timer(2.0, self.take_keyboard)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        offering = self.catalog.offering(self.offering_id)
        earlier = self._earlier()
        self.app.call_from_thread(self._show, offering, earlier)

    def _earlier(self) -> Earlier | None:
        """In a thread: only a user who may order is told (the rule: services.orders)."""
        if not (self.me and self.me.can_order):
            return None
        return self.efa.session.services.orders.earlier_interest(self.offering_id)

    def _show(self, offering: Offering | None, earlier: Earlier | None) -> None:
        self.offering = offering
        box = self.query_one("#detail", DetailScroll)
        box.remove_children()
        if offering is None:
            box.mount(DetailText(Text(i18n.t("detail.not_cached"))))
            self._show_earlier(None)
        else:
            blocks: list[Static] = [DetailText(block) for block in describe(offering, self.me, formatting.today())]
            blocks.insert(2, Static(id="detail-earlier"))  # under whether and how this user can order
            box.mount_all(blocks)
            self._show_earlier(earlier)
        box.focus()
        self.call_after_refresh(self.take_keyboard)  # the keys typed ahead, now that `b` can order

    def _show_earlier(self, earlier: Earlier | None) -> None:
        self.earlier = earlier
        for line in self.query("#detail-earlier").results(Static):
            line.update(earlier_text(earlier) if earlier else "")
            line.display = earlier is not None
        self.refresh_bindings()

    def data_synced(self) -> None:
        self.reload_earlier()

    def on_screen_resume(self) -> None:
        if self.offering is not None:  # back from the interest form: its draft kept, or sent
            self.reload_earlier()

    @work(thread=True, exclusive=True, group="earlier", exit_on_error=False)
    def reload_earlier(self) -> None:
        earlier = self._earlier()
        self.app.call_from_thread(self._show_earlier, earlier)

    def action_open_earlier(self) -> None:
        earlier = self.earlier
        if earlier is None:
            return
        if earlier.order is not None:
            self.efa.open_order(earlier.order, come_back=True)
        elif earlier.draft:
            self.open_interest(None)  # the form restores the draft
        else:
            self.efa.action_outbox()

    # --- ordering -------------------------------------------------------------------------------

    def can_order(self) -> bool:
        """Only customers with an in-house relationship; the detail says why not otherwise."""
        return bool(self.offering and self.me and self.me.can_order and (self.offering.status or "published") == "published")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interest":
            return self.can_order()
        if action == "open_earlier":
            return self.earlier is not None
        return True

    def action_interest(self) -> None:
        if not self.can_order():
            return

        if self.offering is None or self.me is None:
            return
        if self.earlier is not None and not self.earlier.draft:  # asked first: a second interest would most likely repeat it
            self.ask_again(self.earlier)
            return
        self.open_interest(None)

    def ask_again(self, earlier: Earlier) -> None:
        from .confirm import Choice, ConfirmScreen

        def answered(choice: str | None) -> None:
            if choice == "go":
                self.open_interest(earlier)
            elif choice == "open":
                self.action_open_earlier()

        question = i18n.t("interest.again.question_order" if earlier.order else "interest.again.question_waiting")
        self.app.push_screen(ConfirmScreen(question, [
            Choice("go", i18n.t("interest.again.go_key"), "interest.again.go"),
            Choice("open", "o", "interest.again.open_order_choice" if earlier.order else "interest.again.open_outbox_choice",
                   primary=True),
            Choice("stay", "escape", "interest.again.stay"),
        ], earlier_text(earlier, with_key=False).plain + "\n" + i18n.t("interest.again.why")), answered)

    def open_interest(self, earlier: Earlier | None) -> None:
        from .order_forms import InterestForm

        if self.offering is None or self.me is None:
            return
        form = InterestForm(self.efa.session, self.offering, self.me, earlier=earlier)

        def sent(answer: dict | None) -> None:
            if isinstance(answer, dict) and answer.get("id"):
                # The server's answer is the order: shown as it is, with its ETag (not fetched again).
                self.efa.open_order(answer, etag=form.sent.etag if form.sent else None, come_back=True)

        self.app.push_screen(form, sent)
