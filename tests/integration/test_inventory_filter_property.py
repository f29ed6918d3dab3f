"""The filter language against a plain-Python reference: for any query hypothesis can
make up, the database's page and total are what the rules say, on both backends."""

from __future__ import annotations

import operator
import random
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecourt.core.inventory import filters, repository
from forecourt.core.inventory import service as inventory
from forecourt.db.engine import Database
from tests.conftest import Tenant

# A small palette, so that conditions often hold and often do not; None is "unknown".
PALETTE: dict[str, tuple[Any, ...]] = {
    "makeName": ("Audi", "BMW", "Ford", None),
    "modelName": ("A4", "Focus", "X3", "kuga"),
    "modelVersion": ("GTI 1.6", "xDrive 30d", "50%_off", None),
    "description": ("Titanium line", "TITANIUM", "plain", None),
    "kilometers": (0, 25000, 120000, 250000, 300000, None),
    "price": (9999.0, 20000.0, 35000.5, None),
    "doorCount": (3, 5, None),
    "firstRegistration": (date(2016, 12, 31), date(2017, 1, 1), date(2017, 6, 15), date(2018, 1, 1), None),
    "colorId": (1, 3, 4, 5, None),
    "fuelType": ("diesel", "gasoline", "electric", None),
    "vehicleState": ("incoming", "inventory", "sold"),
    "isDamaged": (True, False, None),
}
ORDERED: tuple[str, ...] = ("makeName", "modelName", "kilometers", "price", "doorCount", "firstRegistration")
ORDERED += ("colorId", "created")
FILTERED = sorted({*PALETTE, "created"} - {"modelVersion", "description"})
SEARCHED = ("makeName", "modelName", "modelVersion", "description", "internalId", "vin")
CREATED = tuple(datetime(2025, 1, 1 + i % 28, i % 24, 0, 0) for i in range(80))
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _stock(rng: random.Random) -> list[dict[str, Any]]:
    stock = []
    for i, created in enumerate(CREATED):
        vehicle = {name: rng.choice(values) for name, values in PALETTE.items()}
        vehicle |= {
            "sellingId": f"S{i:04d}",
            "internalId": f"INT-{i}",
            "vin": f"WVWZZZ1KZ{i:08d}",
            "created": created,
            "makeName": vehicle["makeName"] or "Unknown",
        }
        stock.append(vehicle)
    return stock


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat() if isinstance(value, date) else str(value)


# --- the reference: the rules of docs/dialects/autengo.md, in plain Python ---------


def _value(field: str, text: str) -> Any:
    sample = next(v for v in (*PALETTE.get(field, ()), CREATED[0]) if v is not None)
    if isinstance(sample, bool):
        return text == "true"
    if isinstance(sample, datetime):
        return datetime.fromisoformat(text)
    if isinstance(sample, date):
        return date.fromisoformat(text)
    return type(sample)(text)


def _condition(field: str, element: str) -> tuple[str, Any]:
    op, sep, rest = element.partition("|")
    return (op, _value(field, rest)) if sep and op in COMPARE else ("=", _value(field, element))


def _holds(vehicle: dict[str, Any], field: str, op: str, value: Any) -> bool:
    stored = vehicle.get(field)
    return stored is not None and COMPARE[op](stored, value)


def _all_of(vehicle: dict[str, Any], group: dict[str, list[str]]) -> bool:
    for field, elements in group.items():
        conditions = [_condition(field, e) for e in elements]
        equal = [v for op, v in conditions if op == "="]
        if equal and not any(_holds(vehicle, field, "=", v) for v in equal):
            return False
        if not all(_holds(vehicle, field, op, v) for op, v in conditions if op != "="):
            return False
    return True


def _any_of(vehicle: dict[str, Any], group: dict[str, list[str]]) -> bool:
    return any(
        _holds(vehicle, field, *_condition(field, e)) for field, elements in group.items() for e in elements
    )


def expected(stock: list[dict[str, Any]], params: dict[str, Any]) -> tuple[int, list[str]]:
    found = [
        v
        for v in stock
        if _all_of(v, params.get("and", {}))
        and (not params.get("or") or _any_of(v, params["or"]))
        and (
            not params.get("search")
            or any(params["search"].lower() in (v.get(f) or "").lower() for f in SEARCHED)
        )
    ]
    field, descending = params["order"]["field"], params["order"]["dir"] == "desc"
    # Unknown values last in both directions; ties in insertion order, the same way round.
    known = sorted(
        (v for v in found if v.get(field) is not None),
        key=lambda v: (v[field], v["sellingId"]),
        reverse=descending,
    )
    ordered = known + sorted(
        (v for v in found if v.get(field) is None), key=lambda v: v["sellingId"], reverse=descending
    )
    page = ordered[params["offset"] : params["offset"] + params["limit"]]
    return len(found), [v["sellingId"] for v in page]


# --- queries ------------------------------------------------------------------------


@st.composite
def _element(draw: st.DrawFn, field: str) -> str:
    values = CREATED[::20] if field == "created" else [v for v in PALETTE[field] if v is not None]
    ops = list(COMPARE) if field in ORDERED else ["=", "<>"]
    op = draw(st.sampled_from([*ops, ""]))
    value = _wire(draw(st.sampled_from(values)))
    return f"{op}|{value}" if op else value


@st.composite
def _group(draw: st.DrawFn) -> dict[str, list[str]]:
    fields = draw(st.lists(st.sampled_from(FILTERED), max_size=3, unique=True))
    return {f: draw(st.lists(_element(f), min_size=1, max_size=3)) for f in fields}


queries = st.fixed_dictionaries(
    {
        "and": _group(),
        "or": _group(),
        "order": st.fixed_dictionaries(
            {"field": st.sampled_from(ORDERED), "dir": st.sampled_from(["asc", "desc"])}
        ),
        "offset": st.integers(0, 30),
        "limit": st.integers(1, 100),
    },
    optional={"search": st.sampled_from(["titan", "X", "50%", "_", "zzz", "GTI 1", "int-1", "bmw", "ford"])},
)


# A search is counted and paged from one pass when it matches few vehicles, with a count
# and a sorted page query otherwise: both ways are checked.
@pytest.mark.parametrize("one_pass_limit", [repository.ONE_PASS_LIMIT, 0], ids=["one pass", "count and page"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=queries)
def test_any_query_finds_what_the_rules_say(
    db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, one_pass_limit: int, params: dict[str, Any]
) -> None:
    monkeypatch.setattr(repository, "ONE_PASS_LIMIT", one_pass_limit)
    stock = _stock(random.Random(7))
    with db.read() as conn:
        stored = inventory.search(conn, tenant.account.id, filters.parse({"limit": "1"})).total
    if stored == 0:  # the same stock for every example (the fixture runs once per test)
        records = [{k: _wire(v) for k, v in vehicle.items() if v is not None} for vehicle in stock]
        with db.write() as conn:
            inventory.import_records(conn, tenant.account.id, enumerate(records, start=1))

    with db.read() as conn:
        page = inventory.search(conn, tenant.account.id, filters.parse(params))

    assert (page.total, [v["sellingId"] for v in page.vehicles]) == expected(stock, params)


def test_the_unfiltered_total_follows_every_write(db: Database, tenant: Tenant, other_tenant: Tenant) -> None:
    def totals() -> list[int]:
        with db.read() as conn:
            return [
                inventory.search(conn, t.account.id, filters.parse({})).total for t in (tenant, other_tenant)
            ]

    ford = {"makeName": "Ford", "modelName": "Focus"}
    with db.write() as conn:
        first = inventory.create(conn, tenant.account.id, ford)
        inventory.create(conn, other_tenant.account.id, ford)
    assert totals() == [1, 1]

    batch = [ford | {"sellingId": "DUP001"}, ford | {"sellingId": "DUP001"}, ford, {"makeName": "Ford"}]
    with db.write() as conn:  # a repeated sellingId and a bad record add one and none
        inventory.import_records(conn, tenant.account.id, enumerate(batch, start=1))
        inventory.import_records(conn, tenant.account.id, [(1, ford | {"sellingId": first["sellingId"]})])
    assert totals() == [3, 1]

    with db.write() as conn:
        inventory.delete(conn, tenant.account.id, first["sellingId"])
    assert totals() == [2, 1]
