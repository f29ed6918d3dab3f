"""The dealer's stock: vehicles added, imported, changed, listed with the filter language."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.inventory import reference, repository
from forecourt.core.inventory.filters import VehicleQuery
from forecourt.core.inventory.schemas import Page, Values, VehicleNotFound, read
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import InvalidInput
from forecourt.kit.inventory_fields import VALUE_FIELDS

_SELLING_ID_ALPHABET = string.ascii_uppercase + string.digits
SELLING_ID_LENGTH = 6


class RecordError(msgspec.Struct, frozen=True):
    row: int  # the record's line, element, or spreadsheet row (the header is row 1)
    field: str
    message: str


class ImportReport(msgspec.Struct):
    created: int = 0
    updated: int = 0
    errors: list[RecordError] = msgspec.field(default_factory=list)


def _new_selling_id() -> str:
    return "".join(secrets.choice(_SELLING_ID_ALPHABET) for _ in range(SELLING_ID_LENGTH))


def _complete(values: Values) -> Values:
    """Make and model filled from the reference data, and required."""
    make = None
    if "makeId" in values:
        make = reference.make_by_id(values["makeId"])
        if make is None:
            raise InvalidInput("makeId", f"makeId: no make with id {values['makeId']}")
        if values.setdefault("makeName", make.make_name).casefold() != make.make_name.casefold():
            raise InvalidInput("makeName", f"makeName does not match makeId {make.make_id}")
    elif "makeName" in values:
        make = reference.make_by_name(values["makeName"])
        if make is not None:
            values["makeId"] = make.make_id
    if "modelId" in values:
        model = reference.model_by_id(make, values["modelId"]) if make else None
        if model is None:
            raise InvalidInput("modelId", f"modelId: no model {values['modelId']} of this make")
        values.setdefault("modelName", model.model_name)
    elif make is not None and "modelName" in values:
        model = reference.model_by_name(make, values["modelName"])
        if model is not None:
            values["modelId"] = model.model_id
    for required in ("makeName", "modelName"):
        if required not in values:
            raise InvalidInput(f"{required}", f"{required} is required")
    return values


def validate(record: Any) -> Values:
    """A new vehicle's values from a record as a client sends it."""
    values = read(record)
    values.pop("updated", None)
    return _complete(values)


def _stamp(values: Values, created: Any = None) -> Values:
    now = utcnow().replace(microsecond=0)
    values.setdefault("created", created or now)
    values["updated"] = now
    return values


def _free_selling_ids(conn: Connection, account_id: UUID, count: int, taken: set[str]) -> list[str]:
    fresh: list[str] = []
    while len(fresh) < count:
        candidates = {_new_selling_id() for _ in range(count - len(fresh))} - taken
        candidates -= set(repository.existing(conn, account_id, candidates))
        taken |= candidates
        fresh.extend(candidates)
    return fresh


def create(conn: Connection, account_id: UUID, record: Mapping[str, Any]) -> Values:
    values = validate(record)
    if "sellingId" in values and repository.existing(conn, account_id, [values["sellingId"]]):
        raise InvalidInput("sellingId", f"sellingId {values['sellingId']} is already in the inventory")
    values.setdefault("sellingId", _free_selling_ids(conn, account_id, 1, set())[0])
    repository.insert(conn, account_id, _stamp(values))
    return values


def get(conn: Connection, account_id: UUID, selling_id: str) -> Values:
    found = repository.get(conn, account_id, selling_id)
    if found is None:
        raise VehicleNotFound(f"No vehicle with sellingId {selling_id}")
    return found[1]


def update(conn: Connection, account_id: UUID, selling_id: str, record: Mapping[str, Any]) -> Values:
    """Fields sent replace the stored ones (null clears one); the others are kept."""
    found = repository.get(conn, account_id, selling_id)
    if found is None:
        raise VehicleNotFound(f"No vehicle with sellingId {selling_id}")
    row_id, stored = found
    changes = read(record)
    if record.get("sellingId", selling_id) != selling_id:
        raise InvalidInput("sellingId", "sellingId cannot be changed")
    cleared = {name for name, value in record.items() if value is None or value == ""}
    if "makeName" in changes or "makeId" in changes:  # a new make: its model is asked again
        stored = {k: v for k, v in stored.items() if k not in ("makeId", "makeName", "modelId")}
    if "modelName" in changes or "modelId" in changes:
        stored = {k: v for k, v in stored.items() if k not in ("modelId", "modelName")}
    merged = {k: v for k, v in stored.items() if k not in cleared} | changes
    merged.pop("updated", None)
    values = _stamp(_complete(merged), stored["created"])
    repository.replace(conn, row_id, values)
    return values


def delete(conn: Connection, account_id: UUID, selling_id: str) -> None:
    if not repository.delete(conn, account_id, selling_id):
        raise VehicleNotFound(f"No vehicle with sellingId {selling_id}")


def search(conn: Connection, account_id: UUID, query: VehicleQuery) -> Page:
    total, found = repository.search(conn, account_id, query)
    return Page(total=total, offset=query.offset, limit=query.limit, vehicles=found)


def filter_values(conn: Connection, account_id: UUID, names: Sequence[str]) -> dict[str, list[Any]]:
    """The values the account's stock holds for each asked field (to build filter menus)."""
    allowed = {f.name: f for f in VALUE_FIELDS}
    for name in names:
        if name not in allowed:
            raise InvalidInput(
                "fields", f"fields: {name!r} is not one of {', '.join(f.name for f in VALUE_FIELDS)}"
            )
    return {name: repository.distinct_values(conn, account_id, allowed[name]) for name in names}


def makes_and_models(conn: Connection, account_id: UUID, make_id: int | None) -> tuple[list[int], list[int]]:
    """The make ids in the account's stock, and the model ids of `make_id` there (none
    without one): the workspace's filter menus, cheap however large the stock."""
    makes = repository.makes_in_stock(conn, account_id)
    return makes, repository.models_in_stock(conn, account_id, make_id) if make_id is not None else []


refresh_statistics = repository.refresh_statistics


def import_records(conn: Connection, account_id: UUID, records: Iterable[tuple[int, Any]]) -> ImportReport:
    """One batch of (row, record): new sellingIds are created, known ones replaced
    whole (their `created` kept unless given). A bad record is reported, not stored."""
    report = ImportReport()
    valid: dict[str | None, list[Values]] = {}
    for row, record in records:
        try:
            values = validate(record)
        except InvalidInput as exc:
            report.errors.append(RecordError(row, exc.field, exc.message))
            continue
        valid.setdefault(values.get("sellingId"), []).append(values)
    # The last record of a sellingId in the batch wins, as if sent one after the other:
    # the ones before it count as updates it made.
    given = {sid: batch[-1] for sid, batch in valid.items() if sid is not None}
    report.updated += sum(len(batch) - 1 for sid, batch in valid.items() if sid is not None)
    stored = repository.existing(conn, account_id, list(given))
    for selling_id, values in given.items():
        if selling_id in stored:
            row_id, created = stored[selling_id]
            repository.replace(conn, row_id, _stamp(values, created))
            report.updated += 1
    unnamed = valid.get(None, [])
    for values, selling_id in zip(
        unnamed, _free_selling_ids(conn, account_id, len(unnamed), set(given)), strict=True
    ):
        values["sellingId"] = selling_id
    new = [v for sid, v in given.items() if sid not in stored] + unnamed
    repository.insert_many(conn, account_id, [_stamp(v) for v in new])
    report.created += len(new)
    return report
