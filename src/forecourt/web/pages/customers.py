"""Customers: the account's tracked customers (sold vehicles being watched), one search
box over plate, VIN, external id and name; a customer with its sightings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from forecourt.core.accounts import service as accounts
from forecourt.core.customers import service as customers
from forecourt.core.leads import service as leads
from forecourt.kit.errors import InvalidInput
from forecourt.kit.vehicles import parse_region
from forecourt.web.views import DbDep, UserDep, language_of, page

CURRENCY = {"au": "AUD", "nz": "NZD"}


def _page_number(raw: str | None) -> int:
    if raw is None or raw == "":
        return 1
    if not raw.isdigit():
        raise InvalidInput("page", "page must be a whole number")
    return int(raw)


@get("/customers", sync_to_thread=True)
def customer_list(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
) -> Template:
    """The list, newest first, or what the search box finds; paged, never counted."""
    q = request.query_params.get("q", "")
    number = _page_number(request.query_params.get("page"))
    with db.read() as conn:
        account = accounts.require_account(conn, current_user.account_id)
        found = customers.search(conn, account.id, parse_region(account.region), q, number)
    language = language_of(request)

    def link(to: int) -> str:
        return "/customers?" + urlencode({"q": found.query, "page": to} if found.query else {"page": to})

    rows = [
        (
            customer,
            customers.name_of(customer),
            format_date(customer.sale_date, "medium", locale=language) if customer.sale_date else "",
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
        zone = ZoneInfo(leads.settings(conn, account.id).time_zone)
        customer = customers.find(conn, account.id, parse_region(account.region), customer_id)
    language = language_of(request)

    def when(at: datetime | None) -> str:
        if at is None:
            return ""
        return format_datetime(at.replace(tzinfo=UTC), "medium", tzinfo=zone, locale=language)

    def day(at: datetime | None) -> str:
        return format_date(at, "medium", locale=language) if at else ""

    currency = CURRENCY.get(account.region, "AUD")
    sightings = [
        (
            sighting,
            when(sighting.at),
            format_currency(sighting.listing_price, currency, locale=language, format_type="standard")
            if sighting.listing_price is not None
            else "",
            when(sighting.delisted_at),
        )
        for sighting in reversed(customer.sightings)  # the newest first
    ]
    extra = {k: v for k, v in customer.additional_fields.items() if isinstance(v, str | int | float)}
    return page(
        request,
        "customer.html",
        customer=customer,
        name=customers.name_of(customer),
        sale_date=day(customer.sale_date),
        monitor_start=day(customer.monitor_start_date),
        monitor_end=day(customer.monitor_end_date),
        updated=when(customer.last_updated),
        sightings=sightings,
        extra=extra,
    )


ROUTES = [customer_list, customer_detail]
