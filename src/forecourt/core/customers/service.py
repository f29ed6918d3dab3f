"""Tracked customers: validation, the identity rule, and the use cases the dialects share.

Saving customers sets things off, called here by name: registration lookups counted,
matching against the listings for sale (sightings, each opening a lead), and a webhook
delivery per new sighting (docs/architecture.md draws the chain)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec
from msgspec.structs import astuple
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from forecourt.core.customers import repository
from forecourt.core.customers.schemas import (
    DATE_FIELDS,
    EDITABLE_FIELDS,
    Batch,
    Customer,
    CustomerFields,
    CustomerForbidden,
    CustomerNotFound,
    CustomerPage,
    CustomerSearch,
    MissingVehicleIdentity,
    VehicleRecord,
)
from forecourt.core.registry import service as registry
from forecourt.core.sightings import service as sightings
from forecourt.core.webhooks import service as webhooks
from forecourt.core.webhooks.schemas import EventRenderer
from forecourt.db.bulk import Same
from forecourt.db.text import lowered
from forecourt.kit import paging
from forecourt.kit.dates import parse_date, utcnow
from forecourt.kit.errors import InvalidInput, not_theirs
from forecourt.kit.ids import new_ids, parse_id
from forecourt.kit.text import check_no_nul
from forecourt.kit.vehicles import Region, normalise_plate, normalise_state, normalise_vin
from forecourt.providers.registration import RegistrationLookup

EXTERNAL_ID_MAX = 255
# A list this long can change the shape of the table enough to mislead the planner.
STATISTICS_AFTER = 10_000
refresh_statistics = repository.refresh_statistics


def _text(value: str | None) -> str | None:
    """Blank means absent: clients often send "" for an empty column."""
    if value is None:
        return None
    return value.strip() or None


def _external_id(value: str | None) -> str | None:
    check_no_nul("external_id", value)
    external_id = _text(value)
    if external_id is not None and len(external_id) > EXTERNAL_ID_MAX:
        raise InvalidInput("external_id", f"external_id must be at most {EXTERNAL_ID_MAX} characters")
    return external_id


def check_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidInput("monitor_end_date", "monitor_end_date must not be before monitor_start_date")


def validate(
    fields: CustomerFields,
    region: Region,
    prefix: str = "",
    default_window: tuple[datetime | None, datetime | None] = (None, None),
    may_hold_nul: bool = True,
) -> VehicleRecord:
    """Normalise a client's customer. `prefix` places field names in the request body;
    `default_window` is the monitoring window for a customer that gives none (uploads);
    `may_hold_nul=False` skips looking for NUL characters in `additional_fields` (an
    upload knows from its raw JSON, where a NUL can only appear escaped as \\u0000)."""
    rego_text, vin_text = _text(fields.rego), _text(fields.vin)
    if rego_text is None and vin_text is None:
        raise MissingVehicleIdentity(prefix + "rego", "Missing required properties")
    try:
        rego = normalise_plate(rego_text) if rego_text else None
        vin = normalise_vin(vin_text) if vin_text else None
        state = normalise_state(fields.state, region)
        if region == "au" and rego is not None and vin is None and state is None:
            raise InvalidInput("state", "state is required with a rego in region au")
        if may_hold_nul:
            check_no_nul("additional_fields", fields.additional_fields)
        start = parse_date("monitor_start_date", fields.monitor_start_date) or default_window[0]
        end = parse_date("monitor_end_date", fields.monitor_end_date) or default_window[1]
        check_window(start, end)
        return VehicleRecord(
            rego=rego,
            state=state,
            vin=vin,
            external_id=_external_id(fields.external_id),
            sale_date=parse_date("sale_date", fields.sale_date),
            monitor_start_date=start,
            monitor_end_date=end,
            additional_fields=fields.additional_fields,
        )
    except InvalidInput as exc:
        raise InvalidInput(prefix + exc.field, exc.message) from None


def look_up(batch: Batch, region: Region, lookup: RegistrationLookup) -> Batch:
    """Registration lookups for the batch's plates without a VIN, filled in. Call it
    outside any write transaction: an outside service may be slow."""
    return batch._replace(lookups=registry.fill_vins(batch.records, region, lookup))


def apply(
    conn: Connection,
    render: EventRenderer,
    account_id: UUID,
    region: Region,
    batch: Batch,
    upload_id: UUID | None = None,
) -> list[UUID]:
    """Save a prepared batch (an upload's chunk, a single PUT) and what that sets off:
    its lookups counted, matching against the listings for sale, and the webhook
    deliveries of the sightings made. Returns the customer id of each record."""
    if batch.lookups is not None:
        registry.count_usage(conn, account_id, batch.lookups)
    saved = save_many(conn, account_id, region, batch.records, upload_id)
    made = sightings.match_customers(conn, region, saved.matchable, vins=saved.vins, plates=saved.plates)
    webhooks.notify(conn, render, "recapture_new", made)
    return saved.ids


def put(conn: Connection, render: EventRenderer, account_id: UUID, region: Region, batch: Batch) -> Customer:
    """One customer created, or the one already tracking the same vehicle updated."""
    (customer_id,) = apply(conn, render, account_id, region, batch)
    return _get(conn, account_id, region, customer_id)


class Saved(NamedTuple):
    ids: list[UUID]  # each record's customer, in order
    # What matching needs: the customers saved, with the VINs and plates they were sent
    # with and, for those updated, the ones they already had.
    matchable: list[UUID]
    vins: set[str]
    plates: set[str]


def save_many(
    conn: Connection,
    account_id: UUID,
    region: Region,
    records: Sequence[VehicleRecord],
    upload_id: UUID | None = None,
) -> Saved:
    """Create or update a batch of customers by the identity rule, set-based; nothing
    else (see `apply` for what saving sets off).

    Values given replace stored ones; values not given (None) keep what is stored.
    Within the batch a later record of the same vehicle overrides an earlier one.
    """
    merged, positions = _merge_batch(records)
    # Customer writers share the matching lock (see sightings.lock_for_matching).
    sightings.lock_for_matching(conn, listings_side=False)
    for attempt in range(3):
        existing, stored = _resolve(conn, account_id, region, merged)
        now = utcnow()
        fresh = iter(new_ids(existing.count(None)))
        ids = [found or next(fresh) for found in existing]
        new = [i for i, found in enumerate(existing) if not found]
        # Rows transposed to columns in C; no new records give no columns (nothing to insert).
        values = zip(*[astuple(merged[i]) for i in new], strict=True)
        columns: dict[str, Sequence[Any] | Same] = dict(
            zip(VehicleRecord.__struct_fields__, values, strict=False)
        )
        columns.update(
            id=[ids[i] for i in new],
            additional_fields=[merged[i].additional_fields or {} for i in new],
            account_id=Same(account_id),
            region=Same(region),
            upload_id=Same(upload_id),
            created_at=Same(now),
            last_updated=Same(now),
        )
        try:
            # In a savepoint: if a concurrent transaction (PostgreSQL) inserted one of
            # these vehicles first, the unique indexes stop us; resolve again and retry.
            with conn.begin_nested():
                repository.insert_columns(conn, columns)
        except IntegrityError:
            if attempt == 2:
                raise
            continue
        repository.update_many(
            conn,
            [
                {
                    **{f"b_{k}": v for k, v in msgspec.structs.asdict(record).items()},
                    "b_id": found,
                    "b_account_id": account_id,
                    "b_upload_id": upload_id,
                    "b_last_updated": now,
                }
                for record, found in zip(merged, existing, strict=True)
                if found is not None
            ],
        )
        return Saved(
            ids=[ids[i] for i in positions],
            matchable=ids,
            vins={r.vin for r in merged if r.vin} | {c.vin for c in stored if c.vin},
            plates={r.rego for r in merged if r.rego} | {c.rego for c in stored if c.rego},
        )
    raise AssertionError("unreachable")


def _overlay(base: VehicleRecord, newer: VehicleRecord) -> VehicleRecord:
    given = {k: v for k, v in msgspec.structs.asdict(newer).items() if v is not None}
    return msgspec.structs.replace(base, **given)


def _merge_batch(records: Sequence[VehicleRecord]) -> tuple[list[VehicleRecord], list[int]]:
    """One record per vehicle (later ones overlaid on earlier), and where each input went."""
    merged: list[VehicleRecord] = []
    by_vin: dict[str, int] = {}
    by_plate: dict[tuple[str, str | None], int] = {}
    positions: list[int] = []
    for record in records:
        index = by_vin.get(record.vin) if record.vin else None
        if index is None and record.rego:
            same_plate = by_plate.get((record.rego, record.state))
            if same_plate is not None and (record.vin is None or merged[same_plate].vin is None):
                index = same_plate
        if index is None:
            index = len(merged)
            merged.append(record)
        else:
            merged[index] = _overlay(merged[index], record)
        current = merged[index]
        if current.vin:
            by_vin[current.vin] = index
        if current.rego:
            by_plate[(current.rego, current.state)] = index
        positions.append(index)
    return merged, positions


def _resolve(
    conn: Connection, account_id: UUID, region: Region, records: Sequence[VehicleRecord]
) -> tuple[list[UUID | None], list[repository.Candidate]]:
    """The stored customer each record is, by the identity rule: same VIN; else same
    plate and state on the newest customer whose VIN does not contradict the record's.
    Also returns the stored customers that were looked at."""
    found = repository.candidates(
        conn,
        account_id,
        region,
        vins={r.vin for r in records if r.vin},
        stated_plates={r.rego for r in records if r.rego and r.state},
        stateless_plates={r.rego for r in records if r.rego and not r.state},
        plates_without_vin={r.rego for r in records if r.rego and not r.vin},
    )
    by_vin = {c.vin: c.id for c in found if c.vin}
    by_plate: dict[tuple[str | None, str | None], list[repository.Candidate]] = {}
    for candidate in sorted(found, key=lambda c: c.last_updated, reverse=True):
        by_plate.setdefault((candidate.rego, candidate.state), []).append(candidate)
    resolved: list[UUID | None] = []
    vin_given: dict[UUID, str] = {}  # stored customers without a VIN that this batch gives one
    for record in records:
        match = by_vin.get(record.vin) if record.vin else None
        if match is None and record.rego:
            match = next(
                (
                    c.id
                    for c in by_plate.get((record.rego, record.state), [])
                    if record.vin is None or (c.vin is None and vin_given.get(c.id, record.vin) == record.vin)
                ),
                None,
            )
            if match is not None and record.vin is not None:
                vin_given[match] = record.vin
        resolved.append(match)
    return resolved, found


def _with_sightings(conn: Connection, account_id: UUID, customers: list[Customer]) -> list[Customer]:
    found = sightings.for_customers(conn, account_id, [c.id for c in customers])
    for customer in customers:
        customer.sightings = found.get(customer.id, [])
    return customers


def _get(conn: Connection, account_id: UUID, region: Region, customer_id: UUID) -> Customer:
    customer = repository.get(conn, account_id, region, customer_id)
    if customer is not None:
        return _with_sightings(conn, account_id, [customer])[0]
    owner = repository.owner_of(conn, customer_id)
    raise not_theirs(owner, account_id, "customer", CustomerForbidden, CustomerNotFound)


def get(conn: Connection, account_id: UUID, region: Region, customer_id: str) -> Customer:
    return _get(conn, account_id, region, parse_id(customer_id, CustomerNotFound, "customer_id"))


def update(
    conn: Connection,
    render: EventRenderer,
    account_id: UUID,
    region: Region,
    customer_id: str,
    changes: Mapping[str, Any],
) -> Customer:
    """Change the editable fields present in `changes`; "" or None clears a field. A new
    monitoring window is matched again, and its new sightings announced."""
    current = get(conn, account_id, region, customer_id)
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput(
            unknown[0],
            f"{unknown[0]} cannot be updated; updatable fields: {', '.join(EDITABLE_FIELDS)}",
        )
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "additional_fields":
            if value not in (None, "") and not isinstance(value, dict):
                raise InvalidInput(field, "additional_fields must be an object")
            check_no_nul(field, value)
            values[field] = value or {}
        elif value is not None and not isinstance(value, str):
            raise InvalidInput(field, f"{field} must be a string or null")
        elif field in DATE_FIELDS:
            values[field] = parse_date(field, value)
        else:
            values[field] = _external_id(value)
    check_window(
        values.get("monitor_start_date", current.monitor_start_date),
        values.get("monitor_end_date", current.monitor_end_date),
    )
    # Only the monitoring window changes what a customer matches: the vehicle cannot be
    # edited. A wider window may take in a listing that is already for sale.
    rematch = bool(values.keys() & {"monitor_start_date", "monitor_end_date"})
    if rematch:
        sightings.lock_for_matching(conn, listings_side=False)
    if values:
        values["last_updated"] = utcnow()
        repository.update(conn, account_id, region, current.id, values)
    if rematch:
        made = sightings.match_customers(
            conn,
            region,
            [current.id],
            vins=[current.vin] if current.vin else [],
            plates=[current.rego] if current.rego else [],
        )
        webhooks.notify(conn, render, "recapture_new", made)
    return _get(conn, account_id, region, current.id)


def delete(conn: Connection, account_id: UUID, region: Region, customer_id: str) -> Customer:
    customer = get(conn, account_id, region, customer_id)
    repository.delete(conn, account_id, region, customer.id)
    return customer


def list_page(
    conn: Connection,
    account_id: UUID,
    region: Region,
    *,
    offset: int = 0,
    limit: int = 100,
    upload_id: str | None = None,
) -> CustomerPage:
    offset, limit = paging.window(offset, limit)
    upload: UUID | None = None
    if upload_id:
        try:
            upload = UUID(upload_id)
        except ValueError:
            raise InvalidInput("upload_id", "upload_id must be a UUID") from None
    total, customers = repository.page(conn, account_id, region, offset=offset, limit=limit, upload_id=upload)
    return CustomerPage(total=total, customers=_with_sightings(conn, account_id, customers))


# --- The workspace (web /customers): one search box, a customer of the account ---

SEARCH_PAGE = 25
SEARCH_PAGES = 40  # further than this, a person narrows the search instead
QUERY_MAX = 100
_NAME_KEYS = ("name", "full_name", "customer_name")


def search(conn: Connection, account_id: UUID, region: Region, query: str, page: int = 1) -> CustomerSearch:
    """Customers whose VIN or plate is the query (normalised as uploads are), whose
    external id is the query exactly, or whose surname or full name starts with it
    (ignoring case); all the account's when it is empty. Exact and prefix matches only,
    each on an index: a 'contains' search would read every customer."""
    check_no_nul("q", query)
    query = " ".join(query.split())
    if len(query) > QUERY_MAX:
        raise InvalidInput("q", f"q must be at most {QUERY_MAX} characters")
    if not 1 <= page <= SEARCH_PAGES:
        raise InvalidInput("page", f"page must be 1 to {SEARCH_PAGES}")
    offset = (page - 1) * SEARCH_PAGE
    if not query:
        found = repository.newest(conn, account_id, region, offset=offset, limit=SEARCH_PAGE + 1)
    else:
        found = repository.search(
            conn,
            account_id,
            region,
            vin=_or_none(normalise_vin, query),
            plate=_or_none(normalise_plate, query),
            external_id=query[:EXTERNAL_ID_MAX],
            words=lowered(conn, query).split()[:5] if any(c.isalpha() for c in query) else [],
            offset=offset,
            limit=SEARCH_PAGE + 1,
        )
    shown = _with_sightings(conn, account_id, found[:SEARCH_PAGE])  # by primary key: 25 at most
    return CustomerSearch(query=query, page=page, customers=shown, more=len(found) > SEARCH_PAGE)


def _or_none(normalise: Callable[[str], str], value: str) -> str | None:
    try:
        return normalise(value)
    except InvalidInput:
        return None


def find(conn: Connection, account_id: UUID, region: Region, customer_id: str) -> Customer:
    """The account's customer with its sightings; any other id (another account's too):
    CustomerNotFound."""
    wanted = parse_id(customer_id, CustomerNotFound, "customer_id")
    customer = repository.get(conn, account_id, region, wanted)
    if customer is None:
        raise CustomerNotFound("no customer with that id")
    return _with_sightings(conn, account_id, [customer])[0]


def name_of(customer: Customer) -> str | None:
    """The customer's name as the dealer's list gave it in additional_fields, if it did."""
    fields = customer.additional_fields
    for key in _NAME_KEYS:
        if isinstance(fields.get(key), str) and fields[key].strip():
            return str(fields[key]).strip()
    parts = [fields.get(key) for key in ("first_name", "last_name")]
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()) or None
