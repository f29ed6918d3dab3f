"""Listing ingestion: validate a batch from a marketplace feed, store it (re-sent listings
update in place, keeping their price history), match it against tracked customers
(sightings, each opening a lead), and announce new sightings, price changes and
delistings to the accounts' webhooks.

One batch is one transaction: its records are all stored or none is, and each bad
record is reported by number instead of failing the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.listings import repository
from forecourt.core.listings.schemas import (
    SELLER_TYPES,
    IngestReport,
    Listing,
    ListingFields,
    ListingRecord,
    RecordError,
)
from forecourt.core.sightings import service as sightings
from forecourt.core.sightings.matching import ListedVehicle
from forecourt.core.webhooks import service as webhooks
from forecourt.core.webhooks.schemas import EventRenderer
from forecourt.db.bulk import Same
from forecourt.kit.dates import format_timestamp, parse_date, utcnow
from forecourt.kit.errors import InvalidInput, invalid_from
from forecourt.kit.text import check_no_nul
from forecourt.kit.vehicles import normalise_plate, normalise_state, normalise_vin, parse_region

# A record of a batch: its number (line, element or row, from 1) and what it held.
Numbered = tuple[int, ListingFields | RecordError]

SOURCE_MAX, SOURCE_ID_MAX, TITLE_MAX, URL_MAX = 64, 255, 255, 2048
IDENTITY = ("region", "vin", "plate", "state", "listed_at")  # a change here is matched again

# What msgspec raises for bytes that are not JSON at all: broken syntax, text that is not
# UTF-8, nesting too deep to follow.
_UNREADABLE = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
_record = msgspec.json.Decoder(ListingFields)
_records = msgspec.json.Decoder(list[ListingFields])
_raw_records = msgspec.json.Decoder(list[msgspec.Raw])


def _bad(number: int, exc: Exception, source_id: str | None = None) -> RecordError:
    if isinstance(exc, msgspec.ValidationError):
        exc = invalid_from(exc, default_field="record")
    if isinstance(exc, InvalidInput):
        return RecordError(record=number, source_id=source_id, field=exc.field, message=exc.message)
    return RecordError(record=number, source_id=source_id, field="record", message=f"Malformed JSON: {exc}")


def decode_line(number: int, raw: bytes | memoryview | msgspec.Raw) -> Numbered:
    try:
        return number, _record.decode(raw)
    except (msgspec.ValidationError, *_UNREADABLE) as exc:
        return number, _bad(number, exc)


def decode_ndjson(body: bytes | memoryview) -> list[Numbered]:
    """One JSON object per line; numbered by line, blank lines skipped."""
    lines = bytes(body).split(b"\n")
    return [decode_line(n, line) for n, line in enumerate(lines, start=1) if line.strip()]


def decode_array(body: bytes | memoryview) -> list[Numbered]:
    """A JSON array of objects, decoded in one call when every element is well-formed."""
    try:
        return list(enumerate(_records.decode(body), start=1))
    except (msgspec.ValidationError, *_UNREADABLE):
        pass  # find out which record, or whether the body is JSON at all
    try:
        raws = _raw_records.decode(body)
    except _UNREADABLE as exc:
        raise InvalidInput("body", f"Malformed JSON body: {exc}") from None
    return [decode_line(n, raw) for n, raw in enumerate(raws, start=1)]


def from_rows(rows: Iterable[Mapping[str, str]], first: int = 1) -> Iterator[Numbered]:
    """CSV rows (text values, "" for none), numbered from `first`."""
    for number, row in enumerate(rows, start=first):
        values = {k: v for k, v in row.items() if k and v not in (None, "")}
        try:
            yield number, msgspec.convert(values, ListingFields, strict=False)
        except msgspec.ValidationError as exc:
            yield number, _bad(number, exc, values.get("source_id"))


def _text(field: str, value: str | None, limit: int, *, required: bool = False) -> str | None:
    text = value.strip() if value else None
    if not text:
        if required:
            raise InvalidInput(field, f"{field} is required")
        return None
    check_no_nul(field, text)
    if len(text) > limit:
        raise InvalidInput(field, f"{field} must be at most {limit} characters")
    return text


def validate(fields: ListingFields) -> ListingRecord:
    source_id = str(fields.source_id) if isinstance(fields.source_id, int) else fields.source_id
    region = parse_region(fields.region)
    url = _text("url", fields.url, URL_MAX, required=True) or ""
    if not url[:8].lower().startswith(("https://", "http://")):
        raise InvalidInput("url", "url must be an http or https URL")
    seller_type = (fields.seller_type or "").strip().lower() or None
    if seller_type is not None and seller_type not in SELLER_TYPES:
        raise InvalidInput("seller_type", f"seller_type must be one of: {', '.join(SELLER_TYPES)}")
    vin = normalise_vin(fields.vin) if fields.vin and fields.vin.strip() else None
    plate = normalise_plate(fields.plate, "plate") if fields.plate and fields.plate.strip() else None
    if vin is None and plate is None:
        raise InvalidInput("vin", "a listing needs a vin or a plate")
    title = (fields.title or "").strip()[:TITLE_MAX] or None  # feeds' titles run long; keep the start
    check_no_nul("title", title)
    return ListingRecord(
        source=_text("source", fields.source, SOURCE_MAX, required=True) or "",
        source_id=_text("source_id", source_id, SOURCE_ID_MAX, required=True) or "",
        region=region,
        url=url,
        title=title,
        price=fields.price,
        seller_type=seller_type,
        vin=vin,
        plate=plate,
        state=normalise_state(fields.state, region),
        listed_at=parse_date("listed_at", fields.listed_at),
        delisted_at=(
            msgspec.UNSET
            if fields.delisted_at is msgspec.UNSET
            else parse_date("delisted_at", fields.delisted_at)
        ),
    )


def _listed(listing_id: int, values: Mapping[str, Any]) -> ListedVehicle:
    return ListedVehicle(
        listing_id,
        values["region"],
        values["vin"],
        values["plate"],
        values["state"],
        values["listed_at"],
        values["title"],
    )


def ingest(conn: Connection, render: EventRenderer, items: Sequence[Numbered]) -> IngestReport:
    """Store a batch, match it and announce what changed; see the module docstring."""
    report = IngestReport(received=len(items))
    batch: dict[tuple[str, str], ListingRecord] = {}  # a listing sent twice: the last one counts
    for number, item in items:
        if isinstance(item, RecordError):
            report.errors.append(item)
            continue
        try:
            record = validate(item)
        except InvalidInput as exc:
            source_id = str(item.source_id) if item.source_id is not None else None
            report.errors.append(_bad(number, exc, source_id))
            continue
        batch[(record.source, record.source_id)] = record
    report.rejected = len(report.errors)
    if not batch:
        return report

    # Before reading what is stored: see sightings.repository.lock_for_matching.
    sightings.lock_for_matching(conn, listings_side=True)
    stored = repository.by_keys(conn, batch.keys())
    now = utcnow()
    fresh = [record for key, record in batch.items() if key not in stored]
    inserted = _insert(conn, fresh, now)
    # Only listings for sale are matched, as a new customer is only matched with those.
    to_match = [listed for listed, record in zip(inserted, fresh, strict=True) if not record.delisted_at]
    report.created = len(fresh)
    moved: list[ListedVehicle] = []  # stored listings whose vehicle or date changed

    updates: list[dict[str, Any]] = []
    unchanged: list[int] = []
    repriced: list[int] = []
    delisted: list[int] = []
    for key, old in stored.items():
        values = _merge(old, batch[key])
        if all(values[name] == getattr(old, name) for name in repository.MUTABLE):
            unchanged.append(old.id)
            continue
        history = list(old.price_history)
        if values["price"] != old.price:
            history.append({"at": format_timestamp(now), "price": values["price"]})
            if old.price is not None:
                repriced.append(old.id)
        if values["delisted_at"] is not None and old.delisted_at is None:
            delisted.append(old.id)
        listed = _listed(old.id, values)
        changed = any(values[name] != getattr(old, name) for name in IDENTITY)
        if changed:
            moved.append(listed)
        if values["delisted_at"] is None and (changed or old.delisted_at is not None):
            to_match.append(listed)  # its vehicle or date changed, or it is for sale again
        updates.append(
            {f"b_{k}": v for k, v in values.items()}
            | {"b_id": old.id, "b_price_history": history, "b_last_seen_at": now}
        )
    repository.update_many(conn, updates)
    repository.touch(conn, unchanged, now)
    report.updated, report.unchanged = len(updates), len(unchanged)

    sightings.forget_mismatched(conn, moved)
    made = sightings.match_listings(conn, to_match)
    report.sightings = len(made)
    webhooks.notify(conn, render, "recapture_new", made)
    # A sighting made just now was announced as new, at the new price.
    announced = set(made)
    repriced_seen = [s for s in sightings.of_listings(conn, repriced) if s not in announced]
    webhooks.notify(conn, render, "recapture_price_change", repriced_seen)
    webhooks.notify(conn, render, "recapture_delist", sightings.of_listings(conn, delisted))
    return report


def _merge(old: Listing, new: ListingRecord) -> dict[str, Any]:
    """The stored values with the re-sent ones over them: a value not sent keeps what is
    stored; for `delisted_at` only when left out, since null means for sale again."""
    merged = {}
    for name in repository.MUTABLE:
        value = getattr(new, name)
        merged[name] = getattr(old, name) if value is None else value
    merged["delisted_at"] = old.delisted_at if new.delisted_at is msgspec.UNSET else new.delisted_at
    return merged


def _insert(conn: Connection, records: list[ListingRecord], now: datetime) -> list[ListedVehicle]:
    """Insert new listings; returns them as matching sees them."""
    if not records:
        return []
    ids = repository.next_ids(conn, len(records))
    columns: dict[str, Sequence[Any] | Same] = dict(
        zip(
            ListingRecord.__struct_fields__,
            zip(*[msgspec.structs.astuple(r) for r in records], strict=True),
            strict=True,
        )
    )
    listed_at = [r.listed_at or now for r in records]
    seen = format_timestamp(now)
    columns.update(
        id=ids,
        listed_at=listed_at,
        delisted_at=[r.delisted_at or None for r in records],
        price_history=[[] if r.price is None else [{"at": seen, "price": r.price}] for r in records],
        first_seen_at=Same(now),
        last_seen_at=Same(now),
    )
    repository.insert_columns(conn, columns)
    return [
        ListedVehicle(listing_id, r.region, r.vin, r.plate, r.state, at, r.title)
        for listing_id, r, at in zip(ids, records, listed_at, strict=True)
    ]
