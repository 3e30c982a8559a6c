"""The demo marketplace: real-looking German organisations, offerings, orders in every state,
usage reports and invoices from billing runs — built through the same service functions the
API uses, so the demo data obeys the same rules as live data.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine

from ...domain.catalog import THEMENFELDER
from ...domain.orders import Action
from .. import billing, db
from ..auth import User, token_digest
from ..routes import offerings as offering_routes
from ..routes import orders as order_routes
from ..routes import usage as usage_routes
from ..routes.offerings import OfferingCreate
from ..routes.orders import FeesIn, OrderCreate, TransitionIn
from ..routes.usage import UsageIn

log = logging.getLogger("efa_tui.server.demo")
GENERATED_KEYWORD = "generiert"


def _data(name: str) -> dict[str, Any]:
    return json.loads((resources.files(__package__) / "data" / name).read_text(encoding="utf-8"))


def is_seeded(engine: Engine) -> bool:
    with db.reading(engine) as conn:
        return conn.execute(select(func.count()).select_from(db.organizations)).scalar_one() > 0


def seed(engine: Engine, today: date | None = None, payment_days: int = billing.PAYMENT_TERM_DAYS) -> None:
    """Fill an empty database with the demo marketplace."""
    today = today or db.utcnow().date()
    with db.writing(engine) as conn:
        org_ids = _organizations(conn)
        staff = _users(conn, org_ids)
        offering_ids = _offerings(conn, org_ids, staff)
        contracts = _orders(conn, org_ids, offering_ids, staff, today)
        _usage(conn, contracts, staff, today)
    _bill(engine, staff, today, payment_days)
    log.info("demo marketplace seeded")


def _organizations(conn: Connection) -> dict[str, int]:
    ids: dict[str, int] = {}
    orgs = _data("organizations.json")["organizations"]
    for org in orgs:
        values = {k: v for k, v in org.items() if k not in ("inhouse_operator", "roles", "leitweg_ids")}
        org_id = ids[org["key"]] = db.new_id(conn.execute(db.organizations.insert().values(
            **values, country="DE", updated_at=db.utcnow())))
        conn.execute(db.organization_roles.insert(), [{"organization_id": org_id, "role": r}
                                                      for r in org.get("roles") or [org["kind"]]])
        if org["leitweg_ids"]:
            conn.execute(db.organization_leitweg_ids.insert(), [
                {"organization_id": org_id, "position": i, "leitweg_id": v} for i, v in enumerate(org["leitweg_ids"])])
    for org in orgs:
        if org.get("inhouse_operator"):
            conn.execute(update(db.organizations).where(db.organizations.c.id == ids[org["key"]])
                         .values(inhouse_operator_id=ids[org["inhouse_operator"]]))
    return ids


def _users(conn: Connection, org_ids: dict[str, int]) -> dict[str, User]:
    """The demo users, each its organisation's admin with one public write token that does not
    expire, plus one clerk per organisation (without a token) who acts in the seeded history."""
    by_org: dict[str, User] = {}
    orgs = {o.key: o for o in conn.execute(select(db.organizations))}
    now = db.utcnow()
    for u in _data("organizations.json")["users"]:
        uid = db.new_id(conn.execute(db.users.insert().values(
            organization_id=org_ids[u["org"]], role=u["role"], name=u["name"], email=u["email"],
            demo=True, admin=True, created_at=now)))
        conn.execute(db.api_tokens.insert().values(
            user_id=uid, name="Demo", scope="write", token_sha256=token_digest(u["token"]),
            prefix=u["token"][:12], created_at=now))
        by_org.setdefault(f'{u["org"]}:{u["role"]}', _user(uid, u["name"], u["email"], u["role"], orgs[u["org"]]))
    # One clerk per role of each organisation (an organisation that orders and provides has two).
    data = _data("organizations.json")["organizations"]
    for key, role in [(o["key"], r) for o in data for r in o.get("roles") or [o["kind"]]]:
        org = orgs[key]
        if f"{key}:{role}" in by_org:
            continue
        name = org.contact_name.split(",")[-1].strip() or f"Sachbearbeitung {org.short_name}"
        if any(k.startswith(f"{key}:") for k in by_org):
            name = f"{name} ({'Bereitstellung' if role == 'provider' else 'Bestellung'})"
        uid = db.new_id(conn.execute(db.users.insert().values(
            organization_id=org.id, role=role, name=name, email=org.email or f"info@{key}.example",
            demo=False, created_at=now)))
        by_org[f"{key}:{role}"] = _user(uid, name, org.email, role, org)
    return by_org


def _user(uid: int, name: str, email: str, role: str, org) -> User:
    return User(uid, name, email, role, org.id, org.name, org.kind, org.inhouse_operator_id, False)


def _offerings(conn: Connection, org_ids: dict[str, int], staff: dict[str, User]) -> dict[str, int]:
    ids = {}
    for item in _data("offerings.json")["offerings"]:
        fields = {k: v for k, v in item.items() if k not in ("key", "provider", "status")}
        body = OfferingCreate.model_validate(fields)
        status = item["status"]
        new_id = offering_routes.create(conn, staff[f'{item["provider"]}:provider'], body,
                                        status="draft" if status == "draft" else "published")
        if status == "retired":
            conn.execute(update(db.offerings).where(db.offerings.c.id == new_id).values(status="retired", version=2))
        ids[item["key"]] = new_id
    return ids


# The life of the seeded orders: each a list of actions after the interest.
STORIES: list[list[Action]] = [
    [Action.PROPOSE, Action.ORDER, Action.ACTIVATE],
    [Action.PROPOSE, Action.ORDER, Action.ACTIVATE],
    [Action.PROPOSE],
    [],
    [Action.PROPOSE, Action.ORDER],
    [Action.PROPOSE, Action.ORDER, Action.ACTIVATE, Action.TERMINATE],
    [Action.WITHDRAW],
    [Action.REJECT],
    [Action.PROPOSE, Action.ORDER, Action.CANCEL],
    [Action.PROPOSE, Action.ORDER, Action.ACTIVATE],
]
NOTES = {
    Action.PROPOSE: "Entgelte wie im Katalog, Start nach Terminabstimmung.",
    Action.ORDER: "Verbindlich bestellt gemäß Abstimmungsergebnis.",
    Action.ACTIVATE: "Mandant eingerichtet, Dienst freigeschaltet.",
    Action.REJECT: "Für Ihr Bundesland derzeit nicht verfügbar.",
    Action.WITHDRAW: "Bedarf hat sich erledigt.",
    Action.CANCEL: "Haushaltsmittel wurden nicht freigegeben.",
    Action.TERMINATE: "Umstieg auf ein Landesportal.",
}


def _orders(conn: Connection, org_ids: dict[str, int], offering_ids: dict[str, int], staff: dict[str, User],
            today: date) -> list[int]:
    rng = random.Random(2026)
    published = [r for r in conn.execute(select(db.offerings).where(db.offerings.c.status == "published").order_by(db.offerings.c.id))]
    providers = {v.organization_id: v for k, v in staff.items() if k.endswith(":provider")}
    customers = [v for k, v in staff.items() if k.endswith(":customer") and v.inhouse_operator_id is not None]
    # The two demo customers first, with every story; the others with a few.
    customers.sort(key=lambda u: (u.organization_id not in (org_ids["muenchen"], org_ids["hamburg"]), u.organization_id))
    contracts: list[int] = []
    for n, customer in enumerate(customers):
        stories = STORIES if n < 2 else rng.sample(STORIES, 3)
        for story, offering in zip(stories, rng.sample(published, len(stories)), strict=True):
            start = date(rng.choice([today.year - 1, today.year]), rng.randint(1, 9), rng.choice([1, 1, 15]))
            order_id = order_routes.create(conn, customer, OrderCreate(
                offering_id=offering.id, desired_start=start,
                message=f"Wir möchten „{offering.title}“ für {customer.organization_name} nutzen. Bitte um einen Entgeltvorschlag.",
                cost_centre=f"KST-{rng.randint(1000, 9999)}",
                target_group_size=rng.randint(2_000, 60_000) if offering.distribution_key == "target_group" else None,
            ))
            provider = providers[offering.provider_id]
            times = _history(start, story, today)
            for action, at in zip(story, times[1:], strict=True):
                actor = customer if action in (Action.ORDER, Action.WITHDRAW, Action.CANCEL, Action.TERMINATE) else provider
                body = TransitionIn(action=action, note=NOTES[action], fees=FeesIn() if action is Action.PROPOSE else None,
                                    start_date=start if action is Action.ACTIVATE else None)
                # Each step at its time in the history, checked by the rules of that day (a
                # termination ends the contract at the earliest date its terms allow).
                order_routes.transition(conn, actor, order_id, body, today=at.date(), now=at)
            if story and story[-1] in (Action.ACTIVATE, Action.TERMINATE):
                contracts.append(order_id)
            _backdate(conn, order_id, times)
    return contracts


def _history(start: date, story: list[Action], today: date) -> list[datetime]:
    """When the interest and each step happened: every two weeks before the start, as it would
    have; a termination some months into the contract (but not after today)."""
    first = start - timedelta(days=14 * (len(story) + 1))
    times = [datetime.combine(first + timedelta(days=14 * i), datetime.min.time()).replace(hour=9 + i)
             for i in range(len(story) + 1)]
    if story and story[-1] is Action.TERMINATE:
        times[-1] = datetime.combine(min(start + timedelta(days=75), today - timedelta(days=1)), datetime.min.time()).replace(hour=11)
    return times


def _backdate(conn: Connection, order_id: int, times: list[datetime]) -> None:
    """The interest was created at the first time of its history (the steps carry their own)."""
    first = conn.execute(select(db.order_events.c.id).where(db.order_events.c.order_id == order_id)
                         .order_by(db.order_events.c.id).limit(1)).scalar_one()
    conn.execute(update(db.order_events).where(db.order_events.c.id == first).values(at=times[0]))
    conn.execute(update(db.orders).where(db.orders.c.id == order_id).values(created_at=times[0], updated_at=times[-1]))


def _usage(conn: Connection, contracts: list[int], staff: dict[str, User], today: date) -> None:
    rng = random.Random(7)
    providers = {v.organization_id: v for k, v in staff.items() if k.endswith(":provider")}
    for row in conn.execute(select(db.orders).where(db.orders.c.id.in_(contracts), db.orders.c.distribution_key == "per_case")).all():
        first = max(row.start_date, date(today.year - 1, 1, 1))
        month = date(first.year, first.month, 1)
        # Reports only for months inside the term (domain.orders.usage_months).
        last = date(row.end_date.year, row.end_date.month, 1) if row.end_date else today
        while month < date(today.year, today.month, 1) and month <= last:
            usage_routes.report(conn, providers[row.provider_id],
                                UsageIn(order_id=row.id, year=month.year, month=month.month, cases=rng.randint(20, 900)))
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _bill(engine: Engine, staff: dict[str, User], today: date, payment_days: int) -> None:
    """Two billing runs (last year's in January, this year's today), two invoices of this year
    cancelled by credit notes and billed anew by a third run, as an operator would."""
    operator = staff["govdigital:operator"]
    last_year = today.year - 1
    with db.writing(engine) as conn:
        billing.execute(conn, last_year, operator.id, today=date(today.year, 1, 15), payment_days=payment_days)
    # Most of last year's invoices are paid; two stay open and are overdue by now.
    with db.writing(engine) as conn:
        ids = [r.id for r in conn.execute(select(db.invoices.c.id).where(db.invoices.c.year == last_year).order_by(db.invoices.c.id))]
        for invoice_id in ids[2:]:
            conn.execute(update(db.invoices).where(db.invoices.c.id == invoice_id).values(
                status="paid", paid_at=datetime(today.year, 2, 10, 10, 0), version=2))
    with db.writing(engine) as conn:
        billing.execute(conn, today.year, operator.id, today=today, payment_days=payment_days)
    # Two of this year's invoices went out with a wrong figure: cancelled (credit note) and billed anew.
    with db.writing(engine) as conn:
        wrong = conn.execute(select(db.invoices).where(db.invoices.c.year == today.year, db.invoices.c.kind == "invoice")
                             .order_by(db.invoices.c.id).offset(3).limit(2)).all()
        for row in wrong:
            billing.credit_note(conn, row, db.utcnow())
    with db.writing(engine) as conn:
        billing.execute(conn, today.year, operator.id, today=today, payment_days=payment_days)


# Generated offerings for benchmarks: realistic titles, every category and key.
_SERVICES = [
    "Bauantrag", "Wohngeld", "Elterngeld", "Gewerbeanmeldung", "Ummeldung", "Führerscheinantrag", "Hundesteuer",
    "Anwohnerparken", "Baumfällgenehmigung", "Sondernutzung", "Eheschließung", "Geburtsurkunde", "Kita-Platz",
    "Meldebescheinigung", "Fischereischein", "Gaststättenerlaubnis", "Schwerbehindertenausweis", "Aufenthaltstitel",
    "Einbürgerung", "Führungszeugnis", "Wohnberechtigungsschein", "Abfallgebühren", "Grundsteuer", "Hilfe zur Pflege",
    "Jugendhilfe", "Feuerwerkserlaubnis", "Marktstand", "Veranstaltungsanzeige", "Bestattung", "Kfz-Zulassung",
]
_KINDS = ["Online-Antrag", "Digitaler", "Portal", "Service", "Assistent", "Fachverfahren-Anbindung", "Nachweisabruf"]
_REGIONS = ["Nord", "Süd", "Ost", "West", "Mitte", "Land", "Stadt", "Kreis", "Plus", "Kompakt"]
_KEYS = [("fixed", None, None), ("per_inhabitant", "12.50", "je 1.000 Einwohner und Jahr"),
         ("per_case", "1.80", "je Antrag"), ("target_group", "45.00", "je 1.000 Personen der Zielgruppe und Jahr")]


def add_generated_offerings(engine: Engine, wanted: int) -> int:
    """Top the generated offerings up to ``wanted`` (for benchmarks); returns how many were added."""
    with db.reading(engine) as conn:
        have = conn.execute(select(func.count()).select_from(db.offerings).where(
            db.offerings.c.ozg_id.like("GEN-%"))).scalar_one()
        providers = [(r.id, r.name) for r in conn.execute(select(db.organizations).where(db.organizations.c.kind == "provider"))]
    missing = max(0, wanted - have)
    rng = random.Random(have)
    now = db.utcnow()
    batch: list[dict[str, Any]] = []
    for n in range(have, have + missing):
        service = _SERVICES[n % len(_SERVICES)]
        title = f"{rng.choice(_KINDS)} {service} {rng.choice(_REGIONS)} {n + 1}"
        provider_id, provider_name = providers[n % len(providers)]
        key, unit_price, unit_label = _KEYS[n % len(_KEYS)]
        values = {
            "provider_id": provider_id, "title": title, "summary": f"{service}: digital beantragen und bearbeiten.",
            "description": f"Generiertes Angebot {n + 1} für Lasttests: {service} über FIT-Connect.",
            "category": THEMENFELDER[n % len(THEMENFELDER)], "leika_key": f"{99000000000000 + n}", "ozg_id": f"GEN-{n + 1}",
            "bundeslaender": [] if n % 3 else ["BY", "HE"], "maturity": n % 5,
            "annual_fee": Decimal(1200 + (n * 37) % 40000), "one_time_fee": Decimal((n * 13) % 5000),
            "distribution_key": key, "unit_price": None if unit_price is None else Decimal(unit_price), "unit_label": unit_label,
            "vat_rate": Decimal("19.00"), "contract_terms": "Mindestlaufzeit 12 Monate, Kündigung mit 3 Monaten Frist.",
            "minimum_term_months": 12, "notice_period_months": 3, "contact_name": "Service-Desk",
            "contact_email": "service@example.org", "contact_phone": "+49 30 000000", "keywords": [service, GENERATED_KEYWORD],
            "status": "published", "deleted": False, "version": 1, "created_at": now, "updated_at": now, "published_at": now,
        }
        values["search_text"] = offering_routes.search_text(values, provider_name)
        batch.append(values)
        if len(batch) == 5000:
            _insert(engine, batch)
            batch = []
    if batch:
        _insert(engine, batch)
    return missing


def _insert(engine: Engine, batch: list[dict[str, Any]]) -> None:
    with db.writing(engine) as conn:
        conn.execute(db.offerings.insert(), batch)
