"""Recapture customers: list, create (PUT), get, update (PATCH), delete."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from forecourt.api.deps import DbDep
from forecourt.api.recapture.deps import AccountDep, RegionDep
from forecourt.api.recapture.schemas import (
    CustomerEnvelope,
    CustomerListEnvelope,
    CustomerPutBody,
    customer_out,
)
from forecourt.core.customers import service as customers


class CustomersController(Controller):
    path = "/v2/recapture/customers"
    tags = ["Recapture"]

    @get("/", sync_to_thread=True)
    def list_customers(
        self,
        db: DbDep,
        account: AccountDep,
        region: RegionDep,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, description="At most 500")] = 100,
        upload_id: FromQuery[str | None] = None,
    ) -> CustomerListEnvelope:
        with db.read() as conn:
            page = customers.list_page(
                conn, account.id, region, offset=offset, limit=limit, upload_id=upload_id
            )
        return CustomerListEnvelope(
            success=True, total=page.total, customers=[customer_out(c) for c in page.customers]
        )

    @put("/", sync_to_thread=True)
    def create_customer(
        self, db: DbDep, account: AccountDep, region: RegionDep, data: JSONBody[CustomerPutBody]
    ) -> CustomerEnvelope:
        record = customers.validate(data.customer, region, prefix="customer.")
        with db.write() as conn:
            customer = customers.save(conn, account.id, region, record)
        return CustomerEnvelope(success=True, customer=customer_out(customer))

    @get("/{customer_id:str}", sync_to_thread=True)
    def get_customer(
        self, db: DbDep, account: AccountDep, region: RegionDep, customer_id: FromPath[str]
    ) -> CustomerEnvelope:
        with db.read() as conn:
            customer = customers.get(conn, account.id, region, customer_id)
        return CustomerEnvelope(success=True, customer=customer_out(customer))

    @patch("/{customer_id:str}", sync_to_thread=True)
    def update_customer(
        self,
        db: DbDep,
        account: AccountDep,
        region: RegionDep,
        customer_id: FromPath[str],
        data: JSONBody[dict[str, Any]],
    ) -> CustomerEnvelope:
        with db.write() as conn:
            customer = customers.update(conn, account.id, region, customer_id, data)
        return CustomerEnvelope(success=True, customer=customer_out(customer))

    @delete("/{customer_id:str}", status_code=200, sync_to_thread=True)
    def delete_customer(
        self, db: DbDep, account: AccountDep, region: RegionDep, customer_id: FromPath[str]
    ) -> CustomerEnvelope:
        with db.write() as conn:
            customer = customers.delete(conn, account.id, region, customer_id)
        return CustomerEnvelope(success=True, customer=customer_out(customer))
