"""CRM targets, the delivery log, and each new lead as an ADF document.

`enqueue` is called by `leads.service.opened` in the transaction that opens the leads:
one pending delivery per lead and target of its account (one INSERT ... SELECT for the
whole batch, however many leads), and one job per target that walks the batch's
deliveries (tasks.py). So 10,000 leads of one listing batch make one job per target, and
a target that is down or slow holds up only its own deliveries."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.accounts import repository as accounts
from forecourt.core.accounts.schemas import Account
from forecourt.core.accounts.service import require_account
from forecourt.core.contacts import repository as contacts
from forecourt.core.crm import adf, repository
from forecourt.core.crm.schemas import (
    CHANNELS,
    FAILED,
    SKIPPED,
    AdfContact,
    AdfVehicle,
    Delivery,
    Prospect,
    Target,
    TargetNotFound,
)
from forecourt.core.customers import repository as customers
from forecourt.core.customers.schemas import Customer
from forecourt.core.inventory import repository as inventory
from forecourt.core.leads import repository as leads
from forecourt.core.leads.schemas import Lead
from forecourt.core.listings import repository as listings
from forecourt.core.listings.schemas import Listing
from forecourt.core.notifications.service import address
from forecourt.jobs import queue
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import InvalidInput, NotFound
from forecourt.kit.ids import new_id
from forecourt.kit.text import check_no_nul
from forecourt.kit.vehicles import CURRENCIES
from forecourt.providers.webhooks import WebhookSender

DELIVER_JOB = "crm.deliver"
# The queue backs off 2, 4, 8 ... s, then hourly: 20 attempts span about ten hours of a
# target being down; then its undelivered leads of the batch are `failed`.
MAX_ATTEMPTS = 20
NAME_MAX, URL_MAX = 200, 2048
LOG_MAX = 1000
DO_NOT_CONTACT = "skipped (do not contact)"


# Targets: the operator's commands.


def check_target(
    name: str, email: str | None, url: str | None, sender: WebhookSender
) -> tuple[str, str, str]:
    """(name, channel, address) checked; the URL one the server may call (as a webhook's
    endpoint). Resolves the URL's host: call it before the transaction."""
    name = name.strip()
    check_no_nul("name", name)
    if not name or len(name) > NAME_MAX:
        raise InvalidInput("name", f"name must be 1 to {NAME_MAX} characters")
    if (email is None) == (url is None):
        raise InvalidInput("email", "give one of email (ADF by email) or url (ADF by HTTP POST)")
    if email is not None:
        check_no_nul("email", email)
        return name, "email", address(email, "email")
    assert url is not None
    check_no_nul("url", url)
    url = url.strip()
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or bracketed host
        usable = False
    if not usable or len(url) > URL_MAX or any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidInput("url", f"url must be an https (or http) URL of at most {URL_MAX} characters")
    refused = sender.refusal(url)
    if refused is not None:
        raise InvalidInput("url", f"url must be a public address: {refused}")
    return name, "http", url


def add_target(conn: Connection, account_id: UUID, name: str, channel: str, to: str) -> Target:
    """A target of fields that passed `check_target`."""
    require_account(conn, account_id)
    assert channel in CHANNELS
    target = Target(new_id(), account_id, name, channel, to, utcnow())  # type: ignore[arg-type]
    repository.insert_target(conn, target)
    return target


def targets(conn: Connection, account_id: UUID) -> list[Target]:
    require_account(conn, account_id)
    return repository.targets(conn, account_id)


def remove_target(conn: Connection, target_id: UUID, account_id: UUID | None = None) -> Target:
    """A target gone, with its delivery log (the leads' timelines keep what was delivered).
    `account_id`: only a target of that account (the workspace)."""
    target = repository.target(conn, target_id, account_id)
    if target is None:
        raise TargetNotFound(f"No CRM target with id {target_id}")
    repository.delete_target(conn, target_id)
    return target


def deliveries(conn: Connection, account_id: UUID, lead_id: UUID | None = None) -> list[Delivery]:
    """The account's deliveries, newest first (the last LOG_MAX), or one lead's."""
    require_account(conn, account_id)
    if lead_id is not None and leads.get(conn, account_id, lead_id) is None:
        raise NotFound(f"lead: no lead with id {lead_id} in account {account_id}")
    return repository.deliveries(conn, account_id, lead_id, LOG_MAX)


def target_deliveries(conn: Connection, account_id: UUID, target_id: UUID, limit: int) -> list[Delivery]:
    """A target's latest `limit` deliveries (1 to LOG_MAX), newest first."""
    if repository.target(conn, target_id, account_id) is None:
        raise TargetNotFound(f"No CRM target with id {target_id}")
    return repository.deliveries(conn, account_id, None, max(1, min(limit, LOG_MAX)), target_id)


# Deliveries: made when leads open, walked by the job.


def enqueue(conn: Connection, new_leads: Collection[tuple[UUID, UUID]], at: datetime) -> None:
    """Deliveries of leads just opened, as (lead id, account id), to every target of their
    accounts, and a job per target. One query when no account has a target."""
    found = repository.targets_of(conn, {account_id for _, account_id in new_leads})
    if not found:
        return
    served = {account_id for _, account_id in found}
    batch_id = new_id()
    repository.insert_deliveries(
        conn, [lead_id for lead_id, account_id in new_leads if account_id in served], batch_id, at
    )
    queue.enqueue_many(
        conn,
        DELIVER_JOB,
        [{"target_id": str(target_id), "batch_id": str(batch_id)} for target_id, _ in found],
        max_attempts=MAX_ATTEMPTS,
    )


class Prepared(NamedTuple):
    """A lead's document, or why none is sent: (status, error) for its log."""

    body: bytes | None
    status: str | None = None
    error: str | None = None


def prepare(
    conn: Connection, account_id: UUID, lead_ids: Sequence[UUID], provider_url: str | None
) -> list[Prepared]:
    """Each lead's ADF document, checked against the DTD; none for a lead marked
    do-not-contact (now: its customer or party may have been marked since it opened).
    A chunk's leads, customers and listings are read a query each."""
    found = leads.get_many(conn, account_id, lead_ids)
    flagged = repository.do_not_contact(conn, lead_ids)
    account = accounts.get_account(conn, account_id)
    assert account is not None  # a lead goes with its account
    customer_ids = {lead.tracked_customer_id for lead in found.values() if lead.tracked_customer_id}
    listing_ids = {lead.listing_id for lead in found.values() if lead.listing_id}
    seen = Seen(
        account,
        customers.get_many(conn, customer_ids) if customer_ids else {},
        listings.by_ids(conn, listing_ids) if listing_ids else {},
    )
    prepared = []
    for lead_id in lead_ids:
        lead = found.get(lead_id)
        if lead is None:
            prepared.append(Prepared(None, FAILED, "the lead is gone"))
        elif lead_id in flagged:
            prepared.append(Prepared(None, SKIPPED, DO_NOT_CONTACT))
        else:
            prepared.append(_checked(adf.document(prospect(conn, lead, seen, provider_url))))
    return prepared


def _checked(body: bytes) -> Prepared:
    problem = adf.invalid(body)
    if problem is not None:
        return Prepared(None, FAILED, f"not sent: the document is not valid ADF 1.0 ({problem})")
    return Prepared(body)


class Seen(NamedTuple):
    """What a chunk's documents are made from, read once for the chunk."""

    account: Account
    customers: Mapping[UUID, Customer]
    listings: Mapping[int, Listing]


def prospect(conn: Connection, lead: Lead, seen: Seen, provider_url: str | None = None) -> Prospect:
    """What an ADF document says of `lead` (docs/leads.md has the mapping)."""
    currency = CURRENCIES.get(seen.account.region)
    if lead.origin == "sighting":
        customer = seen.customers.get(lead.tracked_customer_id) if lead.tracked_customer_id else None
        listing = seen.listings.get(lead.listing_id) if lead.listing_id else None
        vehicle, person, comments, reference = _sighting(customer, listing, currency)
    else:
        vehicle, person, comments, reference = _enquiry(conn, lead, currency)
    return Prospect(
        lead_id=lead.id,
        requested_at=lead.created_at,
        vehicle=vehicle,
        customer=person,
        customer_id=reference,
        customer_comments=comments,
        vendor_name=seen.account.name,
        provider_url=provider_url,
    )


Gathered = tuple[AdfVehicle, AdfContact, str | None, tuple[str, str] | None]


def _sighting(customer: Customer | None, listing: Listing | None, currency: str | None) -> Gathered:
    """A tracked customer's vehicle listed for sale: the customer is selling it. Either
    may be gone (a lead outlives both)."""
    extra = _normalised(customer.additional_fields) if customer else {}
    year, make, model = _title(
        (listing.title if listing else None) or (customer.vehicle_title if customer else None)
    )
    said = []
    if listing is not None:
        said.append(f"Listed for sale on {listing.source}: {listing.url}")
        if listing.price is not None:
            said.append(f"asking price {listing.price}" + (f" {currency}" if currency else ""))
        if listing.seller_type:
            said.append(f"{listing.seller_type} seller")
    vehicle = AdfVehicle(
        interest="sell",
        status="used",
        year=year,
        make=make,
        model=model,
        vin=(listing.vin if listing else None) or (customer.vin if customer else None),
        odometer=_kilometres(_first(extra, _ODOMETER)),
        price=listing.price if listing else None,
        price_type="asking",
        currency=currency,
        comments="; ".join(said) or None,
    )
    person = AdfContact(
        first_name=_first(extra, _FIRST),
        last_name=_first(extra, _LAST),
        full_name=_first(extra, _FULL),
        email=_first(extra, _EMAIL),
        phone=_first(extra, _PHONE),
        mobile=_first(extra, _MOBILE),
    )
    comments = None
    if customer is not None and customer.sale_date is not None:
        comments = (
            f"Bought this vehicle from the dealer on {customer.sale_date:%Y-%m-%d}; now listed for sale."
        )
    reference = ("dealer", customer.external_id) if customer and customer.external_id else None
    return vehicle, person, comments, reference


def _enquiry(conn: Connection, lead: Lead, currency: str | None) -> Gathered:
    """An opportunity or an enquiry: a CRM party asking, perhaps about a stock vehicle."""
    party = contacts.find(conn, lead.account_id, party_id=lead.party_id) if lead.party_id else None
    fields: Mapping[str, Any] = party.fields if party else {}
    stock = inventory.by_row_id(conn, lead.account_id, lead.vehicle_id) if lead.vehicle_id else None
    if stock is None:
        vehicle = AdfVehicle(interest="buy")
    else:
        registered = stock.get("firstRegistration") or stock.get("constructionDate")
        price = stock.get("price")
        vehicle = AdfVehicle(
            interest="buy",
            status="new" if stock.get("conditionType") == "new" else "used",
            year=registered.year if registered else None,
            make=stock.get("makeName"),
            model=stock.get("modelName"),
            vin=stock.get("vin"),
            stock=stock.get("sellingId"),
            trim=stock.get("trimLine") or stock.get("modelVersion"),
            odometer=stock.get("kilometers"),
            price=float(price) if price is not None else None,
            price_type="quote",
            currency=currency,
        )
    person = AdfContact(
        first_name=_string(fields.get("firstName")),
        last_name=_string(fields.get("lastName")),
        full_name=_string(fields.get("name")),
        business=bool(fields.get("isOrganisation")),
        email=_string(fields.get("email")),
        phone=_string(fields.get("phoneNumber")),
    )
    reference = ("Forecourt", str(party.id)) if party else None
    return vehicle, person, lead.message, reference


# A tracked customer's additional_fields are whatever columns the dealer's upload had:
# these names (compared lower-cased, with spaces and hyphens as underscores) are read.
_FIRST = ("first_name", "firstname", "given_name", "first")
_LAST = ("last_name", "lastname", "surname", "family_name", "last")
_FULL = ("name", "full_name", "fullname", "customer_name", "customer")
_EMAIL = ("email", "email_address", "e_mail")
_PHONE = ("phone", "phone_number", "telephone", "home_phone", "work_phone")
_MOBILE = ("mobile", "mobile_phone", "mobile_number", "cell", "cellphone", "cell_phone")
_ODOMETER = ("odometer", "kilometres", "kilometers", "km", "kms", "mileage")


def _normalised(extra: Mapping[str, Any]) -> dict[str, Any]:
    return {re.sub(r"[\s\-]+", "_", str(key).strip().lower()): value for key, value in extra.items()}


def _string(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = str(value).strip()
    return text or None


def _first(extra: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        found = _string(extra.get(name))
        if found:
            return found
    return None


def _kilometres(text: str | None) -> int | None:
    digits = re.sub(r"[,\s]", "", text or "")
    match = re.match(r"\d{1,7}", digits)
    return int(match.group()) if match else None


_TITLE = re.compile(r"^\s*(?:((?:19|20)\d\d)\s+)?(\S+)(?:\s+(.*\S))?\s*$")


def _title(title: str | None) -> tuple[int | None, str | None, str | None]:
    """`2019 Toyota Camry Ascent Sport` as (2019, "Toyota", "Camry Ascent Sport")."""
    match = _TITLE.match(title or "")
    if match is None:
        return None, None, None
    year, make, model = match.groups()
    return (int(year) if year else None), make, model
