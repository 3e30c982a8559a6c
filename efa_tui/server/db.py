"""Database layer of the reference marketplace: SQLAlchemy Core tables and the engine.

Portable SQL only (SQLite by default, PostgreSQL for several replicas): no SQLite-only functions
in queries. Uniqueness that protects money (one invoice per customer and year, one idempotency
record per key) is enforced by constraints, so that concurrent servers cannot break it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    false,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url

from ..domain.collation import sort_key

metadata = MetaData()
MONEY = Numeric(14, 2, asdecimal=True)


# Compared by bytes on both databases: SQLite's default (BINARY), and "C" on PostgreSQL, whose
# default collation is whatever the cluster was created with.
SORT_KEY = String(400).with_variant(String(400, collation="C"), "postgresql")

# PostgreSQL-only indexes, made by the migrations (SQLite has no pg_trgm); the metadata below
# leaves them out, and the comparison of the metadata with the migrations skips them.
POSTGRES_ONLY_INDEXES = frozenset({"ix_offerings_search_trgm"})


def _title_sort_default(context) -> str:
    return sort_key(context.get_current_parameters().get("title") or "")


def new_id(result: Any) -> int:
    """The primary key an INSERT made (SQLAlchemy types it as maybe-None; after an INSERT it is not)."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def utcnow() -> datetime:
    """Naive UTC with microseconds: portable across SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    # operator | customer | provider: kept for older clients, derived from the roles
    # (domain.administration.kind_of); the roles themselves are in organization_roles.
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("short_name", String(100), nullable=False),
    Column("street", String(200), nullable=False, default=""),
    Column("postcode", String(10), nullable=False, default=""),
    Column("city", String(100), nullable=False, default=""),
    Column("country", String(2), nullable=False, default="DE"),
    Column("bundesland", String(2)),
    Column("email", String(200), nullable=False, default=""),
    Column("phone", String(50), nullable=False, default=""),
    Column("contact_name", String(200), nullable=False, default=""),
    Column("vat_id", String(20)),
    Column("iban", String(34)),
    Column("bic", String(11)),
    Column("ags", String(12)),  # AGS (2–8 digits) or ARS (9 or 12): domain.administration.ags_refusal
    Column("population", Integer),
    Column("inhouse_operator_id", Integer, ForeignKey("organizations.id")),
    Column("customer_type", String(16)),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", DateTime, nullable=False, default=utcnow),
    # Accreditation at the marketplace (domain/administration.py): applied | accredited | suspended,
    # with who changed it, when and why.
    Column("accreditation", String(16), nullable=False, default="accredited", server_default="accredited"),
    Column("accreditation_at", DateTime),
    Column("accreditation_by", String(200)),
    Column("accreditation_reason", String(500)),
    # What the in-house relationship rests on, e.g. "Träger: Mitglied der govdigital eG".
    Column("inhouse_basis", String(500)),
    Column("population_date", Date),  # the reference date of ``population``
)

# An organisation's roles in the marketplace, a set (domain.administration): customer and/or
# provider for a member, operator for an operator organisation.
organization_roles = Table(
    "organization_roles",
    metadata,
    Column("organization_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), primary_key=True),
)

# An organisation's Leitweg-IDs (XRechnung BT-10), in its order: the first is the default an
# order and a bill fall back to; each one checked (domain.leitweg) before it gets here.
organization_leitweg_ids = Table(
    "organization_leitweg_ids",
    metadata,
    Column("organization_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("leitweg_id", String(46), nullable=False),
    UniqueConstraint("organization_id", "leitweg_id", name="uq_organization_leitweg_ids"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("role", String(16), nullable=False),  # customer | provider | support | operator
    Column("name", String(200), nullable=False),
    Column("email", String(200), nullable=False),
    Column("demo", Boolean, nullable=False, default=False),  # its tokens are public: loopback only
    Column("admin", Boolean, nullable=False, default=False, server_default=false()),  # manages its organisation's users
    Column("disabled", Boolean, nullable=False, default=False, server_default=false()),
    Column("created_at", DateTime),
    Column("version", Integer, nullable=False, default=1, server_default="1"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("scope", String(8), nullable=False),  # read | write
    # SHA-256 of the bearer token: a leaked database does not leak tokens; the secret is shown once.
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # the first characters, to recognise a token in a list
    Column("created_at", DateTime, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("expires_at", DateTime),  # None: does not expire (demo and migrated tokens)
    Column("last_used_at", DateTime),
    Column("revoked_at", DateTime),
    Index("ix_api_tokens_user", "user_id", "id"),
)

# Every administrative change: who, when, what, the record before and after.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("actor_id", Integer, ForeignKey("users.id")),
    Column("actor_name", String(200), nullable=False),
    Column("actor_organization_id", Integer, ForeignKey("organizations.id")),
    Column("action", String(64), nullable=False),  # e.g. organization.created, user.changed, token.revoked
    Column("target_kind", String(32), nullable=False),
    Column("target_id", Integer, nullable=False),
    Column("organization_id", Integer, ForeignKey("organizations.id")),  # whose record it is
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_audit_target", "target_kind", "target_id", "id"),
    Index("ix_audit_organization", "organization_id", "id"),
)

offerings = Table(
    "offerings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("provider_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("title", String(200), nullable=False),
    # domain.collation.sort_key(title): the German order of the catalog, the same on every
    # database. Set on insert from the title; an update of the title must set it too.
    Column("title_sort", SORT_KEY, nullable=False, default=_title_sort_default),
    Column("summary", String(500), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("category", String(100), nullable=False),
    Column("leika_key", String(20), nullable=False, default=""),
    Column("ozg_id", String(20), nullable=False, default=""),
    Column("bundeslaender", JSON, nullable=False, default=list),  # [] = nationwide
    Column("maturity", Integer, nullable=False, default=0),
    Column("annual_fee", MONEY, nullable=False),
    Column("one_time_fee", MONEY, nullable=False),
    Column("distribution_key", String(20), nullable=False),
    Column("unit_price", MONEY),
    Column("unit_label", String(100)),
    Column("vat_rate", Numeric(5, 2, asdecimal=True), nullable=False),
    Column("contract_terms", Text, nullable=False, default=""),
    Column("minimum_term_months", Integer, nullable=False, default=12),
    Column("notice_period_months", Integer, nullable=False, default=3),
    Column("contact_name", String(200), nullable=False, default=""),
    Column("contact_email", String(200), nullable=False, default=""),
    Column("contact_phone", String(50), nullable=False, default=""),
    Column("keywords", JSON, nullable=False, default=list),
    Column("status", String(16), nullable=False),  # draft | published | retired
    Column("deleted", Boolean, nullable=False, default=False),  # a discarded draft: a tombstone
    # Lower-cased title, summary, provider, category, keywords and keys: portable substring search.
    Column("search_text", Text, nullable=False, default=""),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    Column("updated_at", DateTime, nullable=False, default=utcnow),
    Column("published_at", DateTime),
    Index("ix_offerings_status_id", "status", "id"),
    Index("ix_offerings_updated", "updated_at", "id"),
    Index("ix_offerings_title_sort", "title_sort", "id"),
    Index("ix_offerings_fee", "annual_fee", "id"),
    # The catalog as customers see it (status = published) in each sort order, without a sort
    # step; pages continue by a row comparison (keyset) on the same columns.
    Index("ix_offerings_status_title_sort", "status", "title_sort", "id"),
    Index("ix_offerings_status_fee", "status", "annual_fee", "id"),
    Index("ix_offerings_status_updated", "status", "updated_at", "id"),
    Index("ix_offerings_provider", "provider_id", "id"),
    Index("ix_offerings_category", "category", "id"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("offering_id", Integer, ForeignKey("offerings.id"), nullable=False),
    Column("customer_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("provider_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("desired_start", Date),
    Column("contact_name", String(200), nullable=False, default=""),
    Column("leitweg_id", String(46), nullable=False, default=""),
    Column("cost_centre", String(50), nullable=False, default=""),
    Column("target_group_size", Integer),
    # The fees: proposed by the provider, frozen by the binding order.
    Column("annual_fee", MONEY),
    Column("one_time_fee", MONEY),
    Column("distribution_key", String(20)),
    Column("unit_price", MONEY),
    Column("vat_rate", Numeric(5, 2, asdecimal=True)),
    Column("terms", Text, nullable=False, default=""),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("ordered_at", DateTime),
    Column("ordered_by", String(200)),
    Column("version", Integer, nullable=False, default=1),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    Column("updated_at", DateTime, nullable=False, default=utcnow),
    Index("ix_orders_customer", "customer_id", "id"),
    Index("ix_orders_provider", "provider_id", "id"),
    Index("ix_orders_updated", "updated_at", "id"),
    Index("ix_orders_state", "state", "id"),
)

order_events = Table(
    "order_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("action", String(16), nullable=False),  # create | propose | order | …
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("actor_id", Integer, ForeignKey("users.id")),
    Column("actor_name", String(200), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("actor_organization_id", Integer, ForeignKey("organizations.id")),
    Column("note", Text, nullable=False, default=""),
    Column("data", JSON),
    Column("at", DateTime, nullable=False, default=utcnow),
)

usage_reports = Table(
    "usage_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("year", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("reported_by", Integer, ForeignKey("users.id")),
    Column("reported_at", DateTime, nullable=False, default=utcnow),
    Column("updated_at", DateTime, nullable=False, default=utcnow),
    # One figure per contract and month: a correction replaces it.
    UniqueConstraint("order_id", "year", "month", name="uq_usage_order_period"),
)

billing_runs = Table(
    "billing_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("year", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("started_by", Integer, ForeignKey("users.id")),
    Column("started_at", DateTime, nullable=False, default=utcnow),
    Column("finished_at", DateTime),
    Column("invoices_created", Integer, nullable=False, default=0),
    Column("contracts_total", Integer, nullable=False, default=0),  # progress: done of total
    Column("contracts_billed", Integer, nullable=False, default=0),
    Column("net_total", MONEY, nullable=False, default=0),
    Column("gross_total", MONEY, nullable=False, default=0),
    Column("skipped", JSON, nullable=False, default=list),
)

# The running number of invoices and credit notes per year (2026-000001, 2026-000002, …): the
# row is taken under lock (SELECT … FOR UPDATE; SQLite's writing transactions are BEGIN
# IMMEDIATE) in the transaction that writes the invoice, so numbers are unique and gap-free.
invoice_counters = Table(
    "invoice_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_number", Integer, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(20), unique=True),  # 2026-000042: year and running number (invoice_counters)
    Column("kind", String(16), nullable=False),  # invoice | credit_note
    Column("customer_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("issuer_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("year", Integer, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("status", String(16), nullable=False),  # issued | paid | cancelled
    Column("net", MONEY, nullable=False),
    Column("vat", MONEY, nullable=False),
    Column("gross", MONEY, nullable=False),
    Column("leitweg_id", String(46), nullable=False),
    Column("billing_run_id", Integer, ForeignKey("billing_runs.id")),
    Column("cancels_invoice_id", Integer, ForeignKey("invoices.id")),
    Column("paid_at", DateTime),
    Column("cancelled_at", DateTime),
    Column("factual_ok_by", String(200)),  # sachlich richtig
    Column("factual_ok_at", DateTime),
    Column("arithmetic_ok_by", String(200)),  # rechnerisch richtig
    Column("arithmetic_ok_at", DateTime),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    Column("updated_at", DateTime, nullable=False, default=utcnow),
    # The Jahresrechnung: one per customer and year, even with two billing servers at once.
    # "invoice:<customer>:<year>:<VAT category>:<n>" (S and O parts are separate invoices) where n
    # counts cancelled invoices of that year and category (so a
    # cancelled one can be billed anew); "credit:<invoice id>" for the credit note of an invoice.
    Column("billing_key", String(64), nullable=False, unique=True),
    Index("ix_invoices_updated", "updated_at", "id"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("invoice_id", Integer, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("order_id", Integer, ForeignKey("orders.id")),
    Column("offering_id", Integer, ForeignKey("offerings.id")),
    Column("kind", String(20), nullable=False),
    Column("name", String(300), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("quantity", Numeric(14, 3, asdecimal=True), nullable=False),
    Column("unit_price", MONEY, nullable=False),
    Column("months", Integer, nullable=False, default=0),
    Column("net", MONEY, nullable=False),
    Column("vat_rate", Numeric(5, 2, asdecimal=True), nullable=False),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("disputed_by", String(200)),
    Column("disputed_at", DateTime),
    Column("dispute_reason", Text),
)

invoice_payments = Table(
    "invoice_payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("invoice_id", Integer, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("value_date", Date, nullable=False),  # Wertstellung on the operator's account
    Column("amount", MONEY, nullable=False),
    Column("bank_reference", String(140), nullable=False),  # Verwendungszweck / end-to-end reference
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_by_id", Integer, ForeignKey("users.id")),
    Column("recorded_at", DateTime, nullable=False, default=utcnow),
)

# The invoice check's history: every sign-off, withdrawal, dispute and its resolution (who, when).
invoice_review_events = Table(
    "invoice_review_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("invoice_id", Integer, ForeignKey("invoices.id"), nullable=False, index=True),
    # factual_ok | arithmetic_ok | withdraw_factual | withdraw_arithmetic | dispute | resolve | credit_note
    Column("action", String(24), nullable=False),
    Column("line_ids", JSON, nullable=False, default=list),
    Column("reason", Text, nullable=False, default=""),
    Column("actor_id", Integer, ForeignKey("users.id")),
    Column("actor_name", String(200), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("at", DateTime, nullable=False, default=utcnow),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),  # method + path + body
    Column("state", String(10), nullable=False),  # running | done
    Column("status_code", Integer),
    Column("response_body", LargeBinary),
    Column("response_headers", JSON),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    Index("ix_idempotency_created", "created_at"),
)


# The change log: one row per change, written in the transaction of the change (see changes.py).
# The id orders events for every reader; AUTOINCREMENT, so that an id is never used twice even
# after the retention purge emptied the table.
# Failed authentications (a wrong token), one row each, keyed by client address or token prefix:
# the rate limit on guessing (auth.FailedLogins) holds across every server process on the database.
auth_failures = Table(
    "auth_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False),  # "address:…" or "prefix:" + a digest of the prefix
    Column("at", DateTime, nullable=False),
    Index("ix_auth_failures_key_at", "key", "at"),
    Index("ix_auth_failures_at", "at"),
)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # order | offering | invoice | usage | organization | user
    Column("action", String(16), nullable=False),  # create, propose, … | published, retired … | issued, paid …
    Column("record_id", Integer, nullable=False),
    Column("version", Integer),
    # Who may hear of it, as for the record itself: everyone (the public catalog, the directory),
    # or the one or two organisations involved; support and operator hear everything.
    Column("public", Boolean, nullable=False, default=False),
    Column("org_id", Integer),
    Column("org2_id", Integer),
    Column("at", DateTime, nullable=False, default=utcnow),
    Index("ix_changes_kind_id", "kind", "id"),  # a kind's newest change: the sync position
    sqlite_autoincrement=True,
)
# The highest id of each kind the retention purge removed: a delta sync from before it is
# incomplete and lists afresh (changes.delta).
changes_purged = Table(
    "changes_purged",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("last_id", Integer, nullable=False),
)
CHANGES_KEY = "efa_changes"  # Connection.info: the changes a write transaction will log


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for display
        return "<database URL>"


# Connections one server process keeps open (pool_size) and may open beyond that under load
# (max_overflow). The rule for PostgreSQL: processes × (pool_size + max_overflow) must stay below
# max_connections minus superuser_reserved_connections (3) minus what else connects (backups,
# psql, monitoring). A request holds one connection at a time; more threads than connections
# wait for one (pool_timeout), they do not fail.
POOL_SIZE = 10
MAX_OVERFLOW = 10


def make_engine(url: str, *, pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    is_sqlite = url.startswith("sqlite")
    kwargs: dict = {"future": True}
    if is_sqlite:
        # Threads of one server share the file; WAL lets readers run beside the one writer.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_size"] = pool_size
        kwargs["max_overflow"] = max_overflow
    engine = create_engine(url, **kwargs)
    if not is_sqlite:
        _ping_when_idle(engine)
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would defer it).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers take the write lock at BEGIN (IMMEDIATE), so that two writers queue on the
            # busy timeout instead of failing when a read lock cannot be upgraded.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


PING_AFTER_S = 5.0  # a connection idle longer is pinged before use


def _ping_when_idle(engine: Engine) -> None:
    """A connection cut by a database restart is replaced before use — but only one that lay
    idle in the pool for a while is pinged: ``pool_pre_ping`` cost one round trip per checkout,
    three per write request (auth, idempotency claim, the write), a tenth of an order's CPU."""
    import time

    from sqlalchemy import exc

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, proxy):
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_S:
            return
        try:
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT 1")
            finally:
                cur.close()
            dbapi_conn.rollback()
        except Exception as error:  # noqa: BLE001 - any failure: this connection is gone
            # The pool drops this connection and checks out a fresh one (SQLAlchemy's contract).
            raise exc.DisconnectionError() from error


def create_schema(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration (under a lock: see migrations)."""
    from . import migrations

    migrations.upgrade(engine)


_write_locks: dict[int, threading.RLock] = {}


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction (BEGIN IMMEDIATE on SQLite); commits on success.

    On SQLite, the threads of one process queue on a lock first: SQLite's busy handler sleeps
    in growing steps and is unfair, which gave 20 concurrent writers a long latency tail. The
    busy timeout still covers writers in other processes.
    """
    if engine.dialect.name == "sqlite":
        lock = _write_locks.setdefault(id(engine), threading.RLock())
        with lock, engine.connect().execution_options(write=True) as conn, conn.begin():
            yield from _logging_changes(conn)
        return
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        yield from _logging_changes(conn)


def _logging_changes(conn: Connection) -> Iterator[Connection]:
    """The changes noted during the transaction (changes.record) go into the change log as its
    last statement, so they commit with it or not at all."""
    conn.info[CHANGES_KEY] = []
    try:
        yield conn
        pending = conn.info.get(CHANGES_KEY)
        if pending:
            if conn.dialect.name == "postgresql":
                # Ids in commit order: the lock is held from the insert to the commit, so no reader
                # sees id n+1 before n committed (a resumed stream then skips nothing).
                conn.execute(text("SELECT pg_advisory_xact_lock(1401401)"))
            conn.execute(changes.insert(), pending)
    finally:
        conn.info.pop(CHANGES_KEY, None)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read transaction: one consistent snapshot for a whole request."""
    with engine.connect() as conn, conn.begin():
        yield conn
