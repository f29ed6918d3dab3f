"""Webhooks: managing them, turning events into deliveries, and the delivery log.

An event becomes one delivery per webhook of the account and region: a row holding the
exact body to send, and a job that sends it (tasks.py). Both are written in the
transaction that made the event, so an event is never lost and never blocks anything.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.customers import repository as customers
from forecourt.core.listings import repository as listings
from forecourt.core.sightings.schemas import NewSighting
from forecourt.core.webhooks import repository
from forecourt.core.webhooks.schemas import (
    FORMATS,
    PENDING,
    DeliveryNotFound,
    DeliveryPage,
    Event,
    EventRenderer,
    NewWebhook,
    Webhook,
    WebhookEvent,
    WebhookFields,
    WebhookNotFound,
)
from forecourt.db.bulk import Same
from forecourt.jobs import queue
from forecourt.kit import paging
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import Conflict, Forbidden, InvalidInput, not_theirs
from forecourt.kit.ids import new_id, parse_id
from forecourt.kit.text import check_no_nul
from forecourt.providers.webhooks import WebhookSender

DELIVER_JOB = "webhooks.deliver"
NAME_MAX, ENDPOINT_MAX = 200, 2048
SECRET_PREFIX = "whsec_"  # noqa: S105 - Standard Webhooks: the rest is the base64 of the HMAC key
# The queue backs off 2, 4, 8 ... s, then hourly: enough attempts to span the 24 hours a
# delivery is retried for; the task gives up at 24 hours whichever comes first.
MAX_ATTEMPTS = 40


def validate(fields: WebhookFields, sender: WebhookSender) -> WebhookFields:
    """The fields checked and tidied, the endpoint one the server may call (see
    providers.webhooks). Resolves the endpoint's name: call it before the transaction."""
    name = fields.name.strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidInput("name", f"name must be 1 to {NAME_MAX} characters")
    check_no_nul("name", name)
    if fields.format not in FORMATS:
        raise InvalidInput("format", f"format must be one of: {', '.join(FORMATS)}")
    endpoint = fields.endpoint.strip()
    try:
        parts = urlsplit(endpoint)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or bracketed host
        usable = False
    if not usable or len(endpoint) > ENDPOINT_MAX or any(c.isspace() or ord(c) < 32 for c in endpoint):
        raise InvalidInput(
            "endpoint", f"endpoint must be an http or https URL of at most {ENDPOINT_MAX} characters"
        )
    refused = sender.refusal(endpoint)
    if refused is not None:
        raise InvalidInput("endpoint", f"endpoint must be a public address: {refused}")
    return WebhookFields(name=name, endpoint=endpoint, format=fields.format)


def create(conn: Connection, account_id: UUID, region: str, fields: WebhookFields) -> NewWebhook:
    """A webhook of fields that passed `validate`, with its signing secret."""
    webhook = Webhook(
        id=new_id(),
        region=region,
        name=fields.name,
        format=fields.format,
        endpoint=fields.endpoint,
        created_at=utcnow(),
    )
    secret = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
    repository.insert(conn, account_id, webhook, secret)
    return NewWebhook(webhook=webhook, secret=secret)


def get(conn: Connection, account_id: UUID, webhook_id: str) -> Webhook:
    """A webhook by id, in whichever region it serves."""
    found_id = parse_id(webhook_id, WebhookNotFound, "webhook_id")
    webhook = repository.get(conn, account_id, found_id)
    if webhook is not None:
        return webhook
    raise not_theirs(repository.owner_of(conn, found_id), account_id, "webhook", Forbidden, WebhookNotFound)


def list_all(conn: Connection, account_id: UUID, region: str | None) -> list[Webhook]:
    return repository.list_all(conn, account_id, region)


def delete(conn: Connection, account_id: UUID, webhook_id: str) -> Webhook:
    webhook = get(conn, account_id, webhook_id)
    repository.delete(conn, account_id, webhook.id)
    return webhook


def ping(conn: Connection, render: EventRenderer, account_id: UUID, webhook_id: str) -> UUID:
    """Queue a `ping` delivery to the webhook; returns the delivery id."""
    webhook = get(conn, account_id, webhook_id)
    delivery_id = new_id()
    event = WebhookEvent(id=delivery_id, type="ping", created_at=utcnow(), region=webhook.region)
    _queue(conn, "ping", [(delivery_id, webhook.id, account_id, render(event))])
    return delivery_id


def deliveries(
    conn: Connection, account_id: UUID, webhook_id: str, *, offset: int, limit: int
) -> DeliveryPage:
    webhook = get(conn, account_id, webhook_id)
    offset, limit = paging.window(offset, limit)
    total, rows = repository.deliveries(conn, account_id, webhook.id, offset=offset, limit=limit)
    return DeliveryPage(total=total, deliveries=rows)


def resend(conn: Connection, account_id: UUID, webhook_id: str, delivery_id: str) -> UUID:
    """Send a settled delivery again (the receiver lost it, or failed it for good): a new
    delivery of the same event with the same body, queued now; returns its id. The old
    one stays in the log as it went, so the log says what was sent when. The new
    delivery has its own id (the `webhook-id` header), so a receiver that took the first
    does not drop the second as a retry of it; the body's event id is the first's. A
    delivery still pending is being retried already: Conflict."""
    webhook = get(conn, account_id, webhook_id)
    found_id = parse_id(delivery_id, DeliveryNotFound, "delivery_id")
    found = repository.sent(conn, account_id, webhook.id, found_id)
    if found is None:
        raise DeliveryNotFound("no delivery with that id")
    if found.status == PENDING:
        raise Conflict("delivery", "the delivery is still pending: it is being retried already")
    new_delivery = new_id()
    _queue(conn, found.event, [(new_delivery, webhook.id, account_id, found.body)])
    return new_delivery


def notify(conn: Connection, render: EventRenderer, event: Event, sightings: Sequence[NewSighting]) -> None:
    """Queue `event` for each sighting to its account's webhooks in its region, each
    delivery with the body `render` makes. Costs one query when no account has a webhook."""
    hooks: dict[tuple[UUID, str], list[UUID]] = {}
    for hook in repository.subscribers(conn, {s.account_id for s in sightings}):
        hooks.setdefault((hook.account_id, hook.region), []).append(hook.id)
    heard = [s for s in sightings if (s.account_id, s.region) in hooks]
    if not heard:
        return
    found_customers = customers.get_many(conn, {s.customer_id for s in heard})
    found_listings = listings.by_ids(conn, {s.listing_id for s in heard})
    now = utcnow()
    outgoing = []
    for sighting in heard:
        for hook_id in hooks[(sighting.account_id, sighting.region)]:
            delivery_id = new_id()
            body = render(
                WebhookEvent(
                    id=delivery_id,
                    type=event,
                    created_at=now,
                    region=sighting.region,
                    lead_id=sighting.lead_id,
                    customer=found_customers[sighting.customer_id],
                    listing=found_listings[sighting.listing_id],
                )
            )
            outgoing.append((delivery_id, hook_id, sighting.account_id, body))
    _queue(conn, event, outgoing)


def _queue(conn: Connection, event: str, outgoing: list[tuple[UUID, UUID, UUID, bytes]]) -> None:
    ids, hook_ids, account_ids, bodies = (list(column) for column in zip(*outgoing, strict=True))
    repository.insert_deliveries(
        conn,
        {
            "id": ids,
            "webhook_id": hook_ids,
            "account_id": account_ids,
            "event": Same(event),
            "body": bodies,
            "status": Same(PENDING),
            "attempts": Same(0),
            "created_at": Same(utcnow()),
        },
    )
    queue.enqueue_many(conn, DELIVER_JOB, [{"delivery_id": str(i)} for i in ids], max_attempts=MAX_ATTEMPTS)
