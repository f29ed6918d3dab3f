"""Recapture customers: list, create (PUT), get, update (PATCH), delete."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Controller, Response, delete, get, patch, put
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.engine import Connection

from forecourt.api.deps import AppState
from forecourt.api.idempotency import answer_once, replay
from forecourt.api.openapi import success
from forecourt.api.recapture.deps import AccountDep, IdempotencyKey, Limit, Offset, RegionDep
from forecourt.api.recapture.errors import ERRORS
from forecourt.api.recapture.schemas import (
    CustomerEnvelope,
    CustomerListEnvelope,
    CustomerPutBody,
    CustomerPutEnvelope,
    customer_out,
)
from forecourt.core.customers import service as customers
from forecourt.core.customers.schemas import Batch


class CustomersController(Controller):
    path = "/v2/recapture/customers"
    tags = ["Recapture"]

    @get("/", sync_to_thread=True, **ERRORS.documented(401))
    def list_customers(
        self,
        state: AppState,
        account: AccountDep,
        region: RegionDep,
        offset: Offset = 0,
        limit: Limit = 100,
        upload_id: FromQuery[str | None] = None,
    ) -> CustomerListEnvelope:
        with state.db.read() as conn:
            page = customers.list_page(
                conn, account.id, region, offset=offset, limit=limit, upload_id=upload_id
            )
        return CustomerListEnvelope(
            success=True, total=page.total, customers=[customer_out(c) for c in page.customers]
        )

    @put(
        "/",
        sync_to_thread=True,
        **ERRORS.documented(
            401,
            413,
            422,
            responses=success(CustomerPutEnvelope, description="Saved"),
        ),
    )
    def create_customer(
        self,
        state: AppState,
        account: AccountDep,
        region: RegionDep,
        data: JSONBody[CustomerPutBody],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        """Create the customer, or update the one tracking the same vehicle. The same
        prepare, look up and apply steps as an upload's chunk, with the idempotent replay
        between the first two (a retry must not pay for its lookup again)."""
        batch = Batch([customers.validate(data.customer, region, prefix="customer.")])
        request_hash = hashlib.sha256(
            # The parsed body, re-encoded: formatting and key order do not make it "different".
            region.encode() + msgspec.json.encode(data, order="sorted")
        ).hexdigest()
        operation = "recapture.customers.put"
        if idempotency_key is not None:
            replayed = replay(
                state.db,
                state.adapters.clock,
                account.id,
                idempotency_key,
                operation,
                request_hash,
                state.settings.idempotency_ttl_hours,
            )
            if replayed is not None:
                return replayed
        if data.enable_rego_lookups:  # before the transaction: an outside service may be slow
            batch = customers.look_up(batch, region, state.adapters.lookup)

        def save(conn: Connection) -> CustomerPutEnvelope:
            saved = customers.put(conn, state.adapters.event_body, account.id, region, batch)
            lookup_error = batch.lookups.failures.get(0) if batch.lookups else None
            return CustomerPutEnvelope(success=True, customer=customer_out(saved), lookup_error=lookup_error)

        return answer_once(
            state.db,
            state.adapters.clock,
            account_id=account.id,
            key=idempotency_key,
            operation=operation,
            request_hash=request_hash,
            ttl_hours=state.settings.idempotency_ttl_hours,
            status_code=200,
            produce=save,
        )

    @get("/{customer_id:str}", sync_to_thread=True, **ERRORS.documented(401, 403, 404))
    def get_customer(
        self, state: AppState, account: AccountDep, region: RegionDep, customer_id: FromPath[str]
    ) -> CustomerEnvelope:
        with state.db.read() as conn:
            customer = customers.get(conn, account.id, region, customer_id)
        return CustomerEnvelope(success=True, customer=customer_out(customer))

    @patch("/{customer_id:str}", sync_to_thread=True, **ERRORS.documented(401, 403, 404, 413))
    def update_customer(
        self,
        state: AppState,
        account: AccountDep,
        region: RegionDep,
        customer_id: FromPath[str],
        data: JSONBody[dict[str, Any]],
    ) -> CustomerEnvelope:
        with state.db.write() as conn:
            customer = customers.update(
                conn, state.adapters.event_body, account.id, region, customer_id, data
            )
        return CustomerEnvelope(success=True, customer=customer_out(customer))

    @delete("/{customer_id:str}", status_code=200, sync_to_thread=True, **ERRORS.documented(401, 403, 404))
    def delete_customer(
        self, state: AppState, account: AccountDep, region: RegionDep, customer_id: FromPath[str]
    ) -> CustomerEnvelope:
        with state.db.write() as conn:
            customer = customers.delete(conn, account.id, region, customer_id)
        return CustomerEnvelope(success=True, customer=customer_out(customer))
