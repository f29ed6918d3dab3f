"""Customers: the account's tracked customers (sold vehicles being watched), one search
box over plate, VIN, external id and name; a customer with its sightings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from forecourt.core.accounts import service as accounts
from forecourt.core.customers import service as customers
from forecourt.core.leads import service as leads
from forecourt.kit.vehicles import parse_region
from forecourt.web import paging
from forecourt.web.views import DbDep, UserDep, formats, page


@get("/customers", sync_to_thread=True)
def customer_list(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
) -> Template:
    """The list, newest first, or what the search box finds; paged, never counted."""
    q = request.query_params.get("q", "")
    number = paging.page_number(request.query_params)
    with db.read() as conn:
        account = accounts.require_account(conn, current_user.account_id)
        found = customers.search(conn, account.id, parse_region(account.region), q, number)
    fmt = formats(request)

    def link(to: int) -> str:
        return "/customers?" + urlencode({"q": found.query, "page": to} if found.query else {"page": to})

    rows = [
        (
            customer,
            customers.name_of(customer),
            fmt.day(customer.sale_date),
        )
        for customer in found.customers
    ]
    return page(
        request,
        "customers.html",
        found=found,
        rows=rows,
        previous=link(found.page - 1) if found.page > 1 else None,
        next=link(found.page + 1) if found.more else None,
    )


@get("/customers/{customer_id:str}", sync_to_thread=True)
def customer_detail(
    request: Request[Any, Any, Any], current_user: UserDep, db: DbDep, customer_id: FromPath[str]
) -> Template:
    """A tracked customer of the account with its sightings; anything else is 404."""
    with db.read() as conn:
        account = accounts.require_account(conn, current_user.account_id)
        zone = leads.settings(conn, account.id).time_zone
        customer = customers.find(conn, account.id, parse_region(account.region), customer_id)
    fmt = formats(request, zone)
    sightings = [
        (
            sighting,
            fmt.when(sighting.at),
            fmt.money(sighting.listing_price, account.region, cents=True),
            fmt.when(sighting.delisted_at),
        )
        for sighting in reversed(customer.sightings)  # the newest first
    ]
    extra = {k: v for k, v in customer.additional_fields.items() if isinstance(v, str | int | float)}
    return page(
        request,
        "customer.html",
        customer=customer,
        name=customers.name_of(customer),
        sale_date=fmt.day(customer.sale_date),
        monitor_start=fmt.day(customer.monitor_start_date),
        monitor_end=fmt.day(customer.monitor_end_date),
        updated=fmt.when(customer.last_updated),
        sightings=sightings,
        extra=extra,
    )


ROUTES = [customer_list, customer_detail]
