"""Recapture webhooks: create (per region), list, read, delete, ping, and the delivery log."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from forecourt.api.deps import AppState
from forecourt.api.recapture.deps import AccountDep, Limit, Offset, RegionDep
from forecourt.api.recapture.errors import ERRORS
from forecourt.api.recapture.schemas import (
    DeliveryListEnvelope,
    PingEnvelope,
    WebhookEnvelope,
    WebhookListEnvelope,
    delivery_out,
    webhook_out,
)
from forecourt.core.webhooks import service as webhooks
from forecourt.core.webhooks.schemas import WebhookFields
from forecourt.kit.vehicles import parse_region


class WebhooksController(Controller):
    path = "/v2/webhooks"
    tags = ["Recapture webhooks"]

    @post("/", status_code=200, sync_to_thread=True, **ERRORS.documented(401, 413))
    def create_webhook(
        self,
        state: AppState,
        account: AccountDep,
        region: RegionDep,
        data: JSONBody[WebhookFields],
    ) -> WebhookEnvelope:
        """The answer holds the webhook's signing `secret`: it is never shown again. An
        endpoint inside a private, loopback or link-local network is refused."""
        fields = webhooks.validate(data, state.adapters.sender)  # resolves a name: not inside the transaction
        with state.db.write() as conn:
            created = webhooks.create(conn, account.id, region, fields)
        return WebhookEnvelope(success=True, webhook=webhook_out(created.webhook, created.secret))

    @get("/", sync_to_thread=True, **ERRORS.documented(401))
    def list_webhooks(
        self,
        state: AppState,
        account: AccountDep,
        # Not `region`: that name is the router's required-region dependency.
        region_filter: Annotated[
            str | None, QueryParameter(name="region", description="au or nz; all when omitted")
        ] = None,
    ) -> WebhookListEnvelope:
        region = parse_region(region_filter) if region_filter else None
        with state.db.read() as conn:
            found = webhooks.list_all(conn, account.id, region)
        return WebhookListEnvelope(success=True, webhooks=[webhook_out(w) for w in found])

    @get("/{webhook_id:str}", sync_to_thread=True, **ERRORS.documented(401, 404))
    def get_webhook(self, state: AppState, account: AccountDep, webhook_id: FromPath[str]) -> WebhookEnvelope:
        with state.db.read() as conn:
            webhook = webhooks.get(conn, account.id, webhook_id)
        return WebhookEnvelope(success=True, webhook=webhook_out(webhook))

    @delete("/{webhook_id:str}", status_code=200, sync_to_thread=True, **ERRORS.documented(401, 404))
    def delete_webhook(
        self, state: AppState, account: AccountDep, webhook_id: FromPath[str]
    ) -> WebhookEnvelope:
        with state.db.write() as conn:
            webhook = webhooks.delete(conn, account.id, webhook_id)
        return WebhookEnvelope(success=True, webhook=webhook_out(webhook))

    @post("/{webhook_id:str}/ping", status_code=202, sync_to_thread=True, **ERRORS.documented(401, 404))
    def ping_webhook(self, state: AppState, account: AccountDep, webhook_id: FromPath[str]) -> PingEnvelope:
        """Queue a `ping` event to the endpoint; its outcome shows in the delivery log."""
        with state.db.write() as conn:
            delivery_id = webhooks.ping(conn, state.adapters.event_body, account.id, webhook_id)
        return PingEnvelope(success=True, delivery_id=str(delivery_id))

    @get("/{webhook_id:str}/deliveries", sync_to_thread=True, **ERRORS.documented(401, 404))
    def list_deliveries(
        self,
        state: AppState,
        account: AccountDep,
        webhook_id: FromPath[str],
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> DeliveryListEnvelope:
        """Newest first."""
        with state.db.read() as conn:
            page = webhooks.deliveries(conn, account.id, webhook_id, offset=offset, limit=limit)
        return DeliveryListEnvelope(
            success=True, total=page.total, deliveries=[delivery_out(d) for d in page.deliveries]
        )
