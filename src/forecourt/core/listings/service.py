"""Listing ingestion: validate a batch from a marketplace feed, store it (re-sent listings
update in place, keeping their price history), match it against tracked customers
(sightings, each opening a lead), and announce new sightings, price changes and
delistings to the accounts' webhooks.

One batch is one transaction: its records are all stored or none is, and each bad
record is reported by number instead of failing the batch.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.listings import repository
from forecourt.core.listings.schemas import (
    MAX_PRICE,
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
from forecourt.kit.errors import InvalidInput
from forecourt.kit.text import check_no_nul
from forecourt.kit.vehicles import normalise_plate, normalise_state, normalise_vin, parse_region

# A record of a batch: its row (line, element or spreadsheet row) and what it held, or
# why it could not be read.
Numbered = tuple[int, ListingFields | list[RecordError]]

SOURCE_MAX, SOURCE_ID_MAX, TITLE_MAX, URL_MAX = 64, 255, 255, 2048
IDENTITY = ("region", "vin", "plate", "state", "listed_at")  # a change here is matched again

# What msgspec raises for bytes that are not JSON at all: broken syntax, text that is not
# UTF-8, nesting too deep to follow.
_UNREADABLE = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
_record = msgspec.json.Decoder(ListingFields)
_records = msgspec.json.Decoder(list[ListingFields])
_raw_records = msgspec.json.Decoder(list[msgspec.Raw])

# A value of the wrong type, said as docs/listings.md says it: msgspec stops at the first
# such value of a record and words it for programmers.
_EXPECTED = {
    "source_id": "source_id must be text or a whole number",
    "price": f"price must be a whole number of dollars from 0 to {MAX_PRICE:,}",
}


def _errors(row: int, source_id: object, found: Iterable[InvalidInput]) -> list[RecordError]:
    sid = str(source_id) if isinstance(source_id, str | int) and not isinstance(source_id, bool) else None
    return [RecordError(row=row, source_id=sid, field=e.field, message=e.message) for e in found]


def _unreadable(row: int, exc: Exception) -> list[RecordError]:
    return _errors(row, None, [InvalidInput("record", f"Malformed JSON: {exc}")])


def _wrong_types(row: int, raw: object) -> list[RecordError]:
    """Every error of a record with values of the wrong type: each such field's, and what
    `validate` finds in the others."""
    if not isinstance(raw, dict):
        return _errors(row, None, [InvalidInput("record", "a listing must be a JSON object")])
    found, fitting = [], {}
    for name, value in raw.items():
        try:
            msgspec.convert({name: value}, ListingFields, strict=False)
            fitting[name] = value
        except msgspec.ValidationError:
            found.append(InvalidInput(name, _EXPECTED.get(name, f"{name} must be text")))
    checked = validate(msgspec.convert(fitting, ListingFields, strict=False))
    if not isinstance(checked, ListingRecord):
        found += [e for e in checked if e.field not in {wrong.field for wrong in found}]
    order = {name: n for n, name in enumerate(ListingFields.__struct_fields__)}
    return _errors(row, raw.get("source_id"), sorted(found, key=lambda e: order.get(e.field, len(order))))


def decode_line(row: int, raw: bytes | memoryview | msgspec.Raw) -> Numbered:
    try:
        return row, _record.decode(raw)
    except msgspec.ValidationError:
        pass  # JSON, but not a listing's: say which fields are wrong
    except _UNREADABLE as exc:
        return row, _unreadable(row, exc)
    try:
        return row, _wrong_types(row, msgspec.json.decode(raw))
    except _UNREADABLE as exc:
        return row, _unreadable(row, exc)


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


def from_rows(rows: csv.DictReader[str]) -> Iterator[Numbered]:
    """CSV rows (text values, "" for none), numbered as a spreadsheet shows them (the
    header is row 1; a blank line counts)."""
    for row in rows:
        values = {k: v for k, v in row.items() if k and v not in (None, "")}
        try:
            yield rows.line_num, msgspec.convert(values, ListingFields, strict=False)
        except msgspec.ValidationError:
            yield rows.line_num, _wrong_types(rows.line_num, values)


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


def _url(value: str | None) -> str | None:
    url = _text("url", value, URL_MAX)
    if url is not None and not url[:8].lower().startswith(("https://", "http://")):
        raise InvalidInput("url", "url must be an http or https URL")
    return url


def _seller_type(value: str | None) -> str | None:
    seller_type = (value or "").strip().lower() or None
    if seller_type is not None and seller_type not in SELLER_TYPES:
        raise InvalidInput("seller_type", f"seller_type must be one of: {', '.join(SELLER_TYPES)}")
    return seller_type


def _title(value: str | None) -> str | None:
    title = (value or "").strip()[:TITLE_MAX] or None  # feeds' titles run long; keep the start
    check_no_nul("title", title)
    return title


def _vin(value: str | None) -> str | None:
    return normalise_vin(value) if value and value.strip() else None


def _plate(value: str | None) -> str | None:
    return normalise_plate(value, "plate") if value and value.strip() else None


def _delisted_at(value: str | msgspec.UnsetType | None) -> datetime | msgspec.UnsetType | None:
    return msgspec.UNSET if value is msgspec.UNSET else parse_date("delisted_at", value)


def _source(value: str | None) -> str | None:
    return _text("source", value, SOURCE_MAX, required=True)


def _source_id(value: str | None) -> str | None:
    return _text("source_id", value, SOURCE_ID_MAX, required=True)


def _region(value: str | None) -> str | None:
    return parse_region(value) if value is not None else None


def _listed_at(value: str | None) -> datetime | None:
    return parse_date("listed_at", value)


def _checked(fields: ListingFields, check: Callable[[Callable[[Any], Any], Any], Any]) -> ListingRecord:
    """The record, each value made by `check(make, value)`."""
    source_id = str(fields.source_id) if isinstance(fields.source_id, int) else fields.source_id
    return ListingRecord(
        source=check(_source, fields.source) or "",
        source_id=check(_source_id, source_id) or "",
        region=check(_region, fields.region),
        url=check(_url, fields.url),
        title=check(_title, fields.title),
        price=fields.price,
        seller_type=check(_seller_type, fields.seller_type),
        vin=check(_vin, fields.vin),
        plate=check(_plate, fields.plate),
        state=(fields.state or "").strip().upper() or None,  # checked against the region by `complete`
        listed_at=check(_listed_at, fields.listed_at),
        delisted_at=check(_delisted_at, fields.delisted_at),
    )


def validate(fields: ListingFields) -> ListingRecord | list[InvalidInput]:
    """Each value sent, checked and normalised on its own (a re-send may send only what
    changed): the record, or every error found in it. `complete` checks the whole."""
    try:  # most records are good: made in one go, stopping at the first error
        return _checked(fields, operator.call)
    except InvalidInput:
        pass
    found: list[InvalidInput] = []

    def check(make: Callable[[Any], Any], value: Any) -> Any:
        try:
            return make(value)
        except InvalidInput as exc:
            found.append(exc)
            return None

    _checked(fields, check)
    return found


def complete(values: Mapping[str, Any]) -> list[InvalidInput]:
    """What a listing as a whole (a new one as sent, a known one with the re-sent values
    over the stored) must have: docs/listings.md, "A listing"."""
    found = [InvalidInput(name, f"{name} is required") for name in ("region", "url") if not values[name]]
    if not values["vin"] and not values["plate"]:
        found.append(InvalidInput("vin", "a listing needs a vin or a plate"))
    if values["region"]:
        try:
            normalise_state(values["state"], values["region"])
        except InvalidInput as exc:
            found.append(exc)
        if values["region"] == "au" and values["plate"] and not values["vin"] and not values["state"]:
            found.append(InvalidInput("state", "state is required with a plate and no vin in au"))
    return found


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
    batch: dict[tuple[str, str], tuple[int, ListingRecord]] = {}  # sent twice: the last one counts
    for row, item in items:
        if not isinstance(item, ListingFields):
            report.errors += item  # it could not be read
        elif isinstance(checked := validate(item), ListingRecord):
            batch[(checked.source, checked.source_id)] = (row, checked)
        else:
            report.errors += _errors(row, item.source_id, checked)
    if batch:
        # Before reading what is stored: see sightings.repository.lock_for_matching.
        sightings.lock_for_matching(conn, listings_side=True)
    stored = repository.by_keys(conn, batch.keys()) if batch else {}
    merged: dict[tuple[str, str], dict[str, Any]] = {}  # known listings: re-sent over stored
    for key, (row, record) in list(batch.items()):
        values = _merge(stored[key], record) if key in stored else msgspec.structs.asdict(record)
        if found := complete(values):
            report.errors += _errors(row, record.source_id, found)
            del batch[key]
            stored.pop(key, None)
        elif key in stored:
            merged[key] = values
    report.rejected = len({e.row for e in report.errors})
    if not batch:
        return report

    now = utcnow()
    fresh = [record for key, (_, record) in batch.items() if key not in stored]
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
        values = merged[key]
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
    return [  # a new listing has its region: `complete` saw to it
        ListedVehicle(listing_id, cast(str, r.region), r.vin, r.plate, r.state, at, r.title)
        for listing_id, r, at in zip(ids, records, listed_at, strict=True)
    ]
