"""The change log: what changed, in commit order, for the event stream and the caches.

A route notes a change with one line, ``changes.record(conn, "order", order_id, "propose")``,
inside its write transaction; ``db.writing`` writes the noted rows as the transaction's last
statement, so a change is logged exactly when it commits (a rolled-back one never is). The
record's version and who may hear of it are read here, by kind, from the record itself: the
visibility rules stay those of the resources (a customer hears of its own orders and invoices
and of the public catalog, a provider of its offerings and the orders on them, staff of all).

Every server process polls the log (``Hub``): it fans new rows out to its event-stream
listeners, so several processes on one database serve the same events. ``on_auth_change`` is
called when an organisation or a user changed, for any per-process cache of permissions (the
server keeps none today: users are looked up on every request).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, true, update
from sqlalchemy.engine import Connection, Engine

from . import db

log = logging.getLogger("efa_tui.server.changes")
KEEP = timedelta(days=8)  # at least 7 days, as the API promises
POLL_SECONDS = 0.2
QUEUE_LIMIT = 1000  # a listener further behind reads from the log instead (see Listener.lagging)
AUTH_KINDS = frozenset({"organization", "user"})  # carried in the cached users (auth.py)
KINDS = ("order", "offering", "invoice", "usage", "organization", "user")
c = db.changes


@dataclass(frozen=True)
class Scope:
    version: int | None
    public: bool = False
    org_id: int | None = None
    org2_id: int | None = None


def _order(conn: Connection, record_id: int) -> Scope:
    t = db.orders
    return order_scope(conn.execute(select(t.c.version, t.c.customer_id, t.c.provider_id).where(t.c.id == record_id)).one())


def _offering(conn: Connection, record_id: int) -> Scope:
    t = db.offerings
    row = conn.execute(select(t.c.version, t.c.provider_id, t.c.published_at).where(t.c.id == record_id)).one()
    # Once published, anyone may have it in the catalog and must hear that it changed or went.
    return Scope(row.version, public=row.published_at is not None, org_id=row.provider_id)


def _invoice(conn: Connection, record_id: int) -> Scope:
    t = db.invoices
    row = conn.execute(select(t.c.version, t.c.customer_id, t.c.issuer_id).where(t.c.id == record_id)).one()
    return Scope(row.version, org_id=row.customer_id, org2_id=row.issuer_id)


def _usage(conn: Connection, record_id: int) -> Scope:
    u, o = db.usage_reports, db.orders
    row = conn.execute(select(o.c.customer_id, o.c.provider_id).join(o, o.c.id == u.c.order_id)
                       .where(u.c.id == record_id)).one()
    return Scope(None, org_id=row.customer_id, org2_id=row.provider_id)


def _organization(conn: Connection, record_id: int) -> Scope:
    t = db.organizations
    version = conn.execute(select(t.c.version).where(t.c.id == record_id)).scalar_one()
    return Scope(version, public=True, org_id=record_id)  # the directory is open to every user


def _user(conn: Connection, record_id: int) -> Scope:
    org = conn.execute(select(db.users.c.organization_id).where(db.users.c.id == record_id)).scalar_one()
    return Scope(None, org_id=org)


SCOPES: dict[str, Callable[[Connection, int], Scope]] = {
    "order": _order, "offering": _offering, "invoice": _invoice, "usage": _usage,
    "organization": _organization, "user": _user,
}


def order_scope(row) -> Scope:
    """The scope of an order from a row the caller read anyway (one query less per write)."""
    return Scope(row.version, org_id=row.customer_id, org2_id=row.provider_id)


def record(conn: Connection, kind: str, record_id: int, action: str, scope: Scope | None = None) -> None:
    """Note a change of one record in this write transaction (logged when it commits);
    ``scope``: the record's, when the caller read it in this transaction (else read here)."""
    scope = scope or SCOPES[kind](conn, record_id)
    row = {"kind": kind, "action": action, "record_id": record_id, "version": scope.version,
           "public": scope.public, "org_id": scope.org_id, "org2_id": scope.org2_id, "at": db.utcnow()}
    pending = conn.info.get(db.CHANGES_KEY)
    if pending is None:  # not inside db.writing: log it in this transaction now
        conn.execute(c.insert().values(**row))
    else:
        pending.append(row)


def record_many(conn: Connection, kind: str, record_ids: list[int], action: str) -> None:
    """``record`` for many records of one kind (a billing run's invoices), their scopes read at once."""
    if kind != "invoice":
        for record_id in record_ids:
            record(conn, kind, record_id, action)
        return
    t = db.invoices
    scopes = {r.id: Scope(r.version, org_id=r.customer_id, org2_id=r.issuer_id) for r in conn.execute(
        select(t.c.id, t.c.version, t.c.customer_id, t.c.issuer_id).where(t.c.id.in_(record_ids)))}
    now = db.utcnow()
    rows = [{"kind": kind, "action": action, "record_id": i, "version": scopes[i].version, "public": False,
             "org_id": scopes[i].org_id, "org2_id": scopes[i].org2_id, "at": now} for i in record_ids]
    pending = conn.info.get(db.CHANGES_KEY)
    if pending is None:
        conn.execute(c.insert(), rows)
    else:
        pending.extend(rows)


# --- reading the log -------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    id: int
    kind: str
    action: str
    record_id: int
    version: int | None
    public: bool
    org_id: int | None
    org2_id: int | None
    at: str

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "action": self.action, "record_id": self.record_id,
                "version": self.version, "at": self.at}


def _change(row) -> Change:
    return Change(row.id, row.kind, row.action, row.record_id, row.version, bool(row.public), row.org_id,
                  row.org2_id, row.at.isoformat(timespec="microseconds") + "Z")


def may_see(user, change: Change) -> bool:
    """The resources' visibility, for one logged change (``user``: auth.User)."""
    if user.is_staff or change.public:
        return True
    if user.role == "provider" and change.kind == "invoice":
        return False  # providers see no invoices, whoever issued them
    return user.organization_id in (change.org_id, change.org2_id)


def _visible(user):
    if user.is_staff:
        return true()
    mine = or_(c.c.public == true(), c.c.org_id == user.organization_id, c.c.org2_id == user.organization_id)
    if user.role == "provider":
        return (c.c.kind != "invoice") & mine
    return mine


def after(engine: Engine, last_id: int, *, user=None, limit: int = 1000) -> list[Change]:
    """Logged changes after ``last_id`` in id order (those ``user`` may see, if given)."""
    query = select(c).where(c.c.id > last_id)
    if user is not None:
        query = query.where(_visible(user))
    with db.reading(engine) as conn:
        return [_change(r) for r in conn.execute(query.order_by(c.c.id).limit(limit))]


def bounds(engine: Engine) -> tuple[int, int]:
    """(oldest, newest) id in the log; (0, 0) when it is empty."""
    with db.reading(engine) as conn:
        row = conn.execute(select(func.min(c.c.id), func.max(c.c.id))).one()
    return (row[0] or 0, row[1] or 0)


def needs_resync(engine: Engine, last_id: int) -> tuple[bool, int]:
    """Whether a client that saw ``last_id`` must sync afresh (it is older than the retention,
    or newer than anything here: another database), and the newest id."""
    oldest, newest = bounds(engine)
    return (last_id < oldest - 1 or last_id > newest), newest


def purge(engine: Engine) -> int:
    """Drop changes older than KEEP, always keeping the newest (it carries the id forward), and
    note per kind the highest id dropped (a delta sync from before it lists afresh: ``delta``)."""
    with db.writing(engine) as conn:
        newest = conn.execute(select(func.max(c.c.id))).scalar()
        if newest is None:
            return 0
        old = (c.c.at < db.utcnow() - KEEP) & (c.c.id < newest)
        dropped = conn.execute(select(c.c.kind, func.max(c.c.id)).where(old).group_by(c.c.kind)).all()
        if not dropped:
            return 0
        p = db.changes_purged
        marks = dict(conn.execute(select(p.c.kind, p.c.last_id)).all())
        for kind, last in dropped:
            if kind in marks:
                conn.execute(update(p).where(p.c.kind == kind).values(last_id=max(marks[kind], last)))
            else:
                conn.execute(p.insert().values(kind=kind, last_id=last))
        return conn.execute(delete(c).where(old)).rowcount


# --- delta sync from a position in the log ------------------------------------------------------


@dataclass(frozen=True)
class Delta:
    """What a delta sync of one kind answers: ``position``, the one to ask next time, and
    ``ids``, the records changed since the asked position (None: list everything afresh, because
    the client has no position yet (0), or its position lies before a purged change or is not
    of this database — ``resync`` then says so)."""

    position: int
    ids: Any
    resync: bool


def delta(conn: Connection, kind: str, user, position: int) -> Delta:
    """The delta of ``kind`` since the sync position ``position`` as ``user`` may see it.

    A position is one more than the newest log id the answer covers (so that 0, "nothing yet",
    never collides with a kind that has no logged change). Ids are in commit order (db.writing),
    so a change committed after this read gets an id above the position answered here, whenever
    its transaction began or took its timestamp: a late commit comes with the next sync, never
    skipped. Read the position before the records (read committed: the records are then at
    least as new as it)."""
    p = db.changes_purged
    mine, purged, newest = conn.execute(select(
        select(func.max(c.c.id)).where(c.c.kind == kind, _visible(user)).scalar_subquery(),
        select(p.c.last_id).where(p.c.kind == kind).scalar_subquery(),
        select(func.max(c.c.id)).scalar_subquery(),
    )).one()
    seen = position - 1  # the newest id the client's copy covers
    # The position moves only with a change this user may hear of (or a purge of the kind), so
    # a resync without news asks the same question and gets the same answer: 304.
    covered = max(mine or 0, purged or 0)
    if not (0 <= seen <= (newest or 0) and seen >= (purged or 0)):
        return Delta(covered + 1, None, resync=position > 0)
    ids = select(c.c.record_id).where(c.c.kind == kind, c.c.id > seen, _visible(user))
    return Delta(max(covered, seen) + 1, ids, resync=False)


def newest_of(*kinds: str) -> list:
    """The newest change id of each kind, as scalar subqueries for a cache key that moves with
    every commit of them (one round trip with the caller's other key parts)."""
    return [select(func.max(c.c.id)).where(c.c.kind == k).scalar_subquery() for k in kinds]


# --- fan-out in one process --------------------------------------------------------------------


@dataclass(eq=False)
class Listener:
    user: Any
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    lagging: bool = False  # the queue overflowed: read from the log again


class Hub:
    """Polls the change log for one server process and tells its listeners and caches."""

    def __init__(self, engine: Engine, *, interval: float = POLL_SECONDS,
                 on_auth_change: Callable[[], Any] | None = None):
        self.engine = engine
        self.interval = interval
        self.on_auth_change = on_auth_change
        self.listeners: set[Listener] = set()
        self.last_id = 0
        self.wake = asyncio.Event()

    def subscribe(self, user) -> Listener:
        listener = Listener(user)
        self.listeners.add(listener)
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    async def run(self) -> None:
        while True:
            try:
                self.last_id = (await asyncio.to_thread(bounds, self.engine))[1]
                break
            except Exception:  # noqa: BLE001 - the database is not there yet: try again
                log.warning("reading the change log failed; trying again", exc_info=True)
                await asyncio.sleep(1.0)
        while True:
            try:
                await self.poll()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the stream for good
                log.warning("polling the change log failed", exc_info=True)
            try:
                await asyncio.wait_for(self.wake.wait(), self.interval)
            except TimeoutError:
                pass
            self.wake.clear()

    async def poll(self) -> None:
        while True:
            rows = await asyncio.to_thread(after, self.engine, self.last_id)
            if not rows:
                return
            self.dispatch(rows)
            if len(rows) < 1000:
                return

    def dispatch(self, rows: Iterable[Change]) -> None:
        rows = list(rows)
        self.last_id = max(self.last_id, rows[-1].id)
        if self.on_auth_change is not None and any(r.kind in AUTH_KINDS for r in rows):
            self.on_auth_change()
        for listener in list(self.listeners):
            if listener.lagging:
                continue
            for row in rows:
                if not may_see(listener.user, row):
                    continue
                try:
                    listener.queue.put_nowait(row)
                except asyncio.QueueFull:
                    listener.lagging = True
                    break
