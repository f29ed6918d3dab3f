"""SQL for webhooks and their deliveries. Scoped by account, except where a worker or
the matcher acts for whichever account owns the row."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa
from msgspec.structs import asdict
from sqlalchemy.engine import Connection

from forecourt.core.webhooks.schemas import FAILED, PENDING, Delivery, Webhook
from forecourt.db import bulk
from forecourt.db.models import webhook_deliveries, webhooks

_WEBHOOK = [webhooks.c[name] for name in Webhook.__struct_fields__]
_DELIVERY = [webhook_deliveries.c[name] for name in Delivery.__struct_fields__]


def insert(conn: Connection, account_id: UUID, webhook: Webhook, secret: str) -> None:
    conn.execute(
        sa.insert(webhooks).values(account_id=account_id, secret=secret, failures=0, **asdict(webhook))
    )


def get(conn: Connection, account_id: UUID, webhook_id: UUID) -> Webhook | None:
    query = sa.select(*_WEBHOOK).where(webhooks.c.account_id == account_id, webhooks.c.id == webhook_id)
    row = conn.execute(query).first()
    return Webhook(**row._mapping) if row else None


def owner_of(conn: Connection, webhook_id: UUID) -> UUID | None:
    """The account a webhook id belongs to, across tenants: only to tell 403 from 404."""
    owner: UUID | None = conn.scalar(sa.select(webhooks.c.account_id).where(webhooks.c.id == webhook_id))
    return owner


def list_all(conn: Connection, account_id: UUID, region: str | None) -> list[Webhook]:
    query = sa.select(*_WEBHOOK).where(webhooks.c.account_id == account_id)
    if region is not None:
        query = query.where(webhooks.c.region == region)
    rows = conn.execute(query.order_by(webhooks.c.created_at, webhooks.c.id))
    return [Webhook(**row._mapping) for row in rows]


def delete(conn: Connection, account_id: UUID, webhook_id: UUID) -> None:
    conn.execute(sa.delete(webhooks).where(webhooks.c.account_id == account_id, webhooks.c.id == webhook_id))


class Subscriber(NamedTuple):
    id: UUID
    account_id: UUID
    region: str


def subscribers(conn: Connection, account_ids: Collection[UUID]) -> list[Subscriber]:
    """The webhooks of these accounts (all regions); the caller keeps the right ones."""
    if not account_ids:
        return []
    query = sa.select(webhooks.c.id, webhooks.c.account_id, webhooks.c.region).where(
        bulk.one_of(conn, webhooks.c.account_id, account_ids)
    )
    return [Subscriber(*row) for row in conn.execute(query)]


def insert_deliveries(conn: Connection, columns: Mapping[str, Sequence[Any] | bulk.Same]) -> None:
    bulk.insert_columns(conn, webhook_deliveries, columns)


class Target(NamedTuple):
    """What a worker needs to send one delivery."""

    webhook_id: UUID
    endpoint: str
    secret: str
    failures: int  # the endpoint's failures in a row
    paused_until: datetime | None
    body: bytes
    status: str
    created_at: datetime


def target(conn: Connection, delivery_id: UUID) -> Target | None:
    d, w = webhook_deliveries, webhooks
    row = conn.execute(
        sa.select(
            w.c.id,
            w.c.endpoint,
            w.c.secret,
            w.c.failures,
            w.c.paused_until,
            d.c.body,
            d.c.status,
            d.c.created_at,
        )
        .join(w, w.c.id == d.c.webhook_id)
        .where(d.c.id == delivery_id)
    ).first()
    return Target(*row) if row else None


def record_attempt(
    conn: Connection,
    delivery_id: UUID,
    values: Mapping[str, Any],
    *,
    webhook_id: UUID,
    failures: int,
    paused_until: datetime | None,
) -> None:
    """The outcome of one send, and the endpoint's health after it."""
    d = webhook_deliveries
    conn.execute(sa.update(d).where(d.c.id == delivery_id).values(attempts=d.c.attempts + 1, **values))
    conn.execute(
        sa.update(webhooks)
        .where(webhooks.c.id == webhook_id)
        .values(failures=failures, paused_until=paused_until)
    )


def give_up(conn: Connection, delivery_id: UUID, error: str) -> None:
    """A delivery still pending when its job was given up will not be sent."""
    d = webhook_deliveries
    conn.execute(
        sa.update(d)
        .where(d.c.id == delivery_id, d.c.status == PENDING)
        .values(status=FAILED, last_error=error)
    )


def deliveries(
    conn: Connection, account_id: UUID, webhook_id: UUID, *, offset: int, limit: int
) -> tuple[int, list[Delivery]]:
    d = webhook_deliveries
    where = (d.c.account_id == account_id, d.c.webhook_id == webhook_id)
    total = conn.scalar(sa.select(sa.func.count()).select_from(d).where(*where)) or 0
    rows = conn.execute(
        sa.select(*_DELIVERY)
        .where(*where)
        .order_by(d.c.created_at.desc(), d.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return total, [Delivery(**row._mapping) for row in rows]


class Sent(NamedTuple):
    """A delivery as it can be sent again: the same event, the same body."""

    webhook_id: UUID
    event: str
    body: bytes
    status: str


def sent(conn: Connection, account_id: UUID, webhook_id: UUID, delivery_id: UUID) -> Sent | None:
    d = webhook_deliveries
    row = conn.execute(
        sa.select(d.c.webhook_id, d.c.event, d.c.body, d.c.status).where(
            d.c.account_id == account_id, d.c.webhook_id == webhook_id, d.c.id == delivery_id
        )
    ).first()
    return Sent(*row) if row else None
