"""The vehicle list's query language, parsed into a VehicleQuery (no SQL here).

Parameters arrive as the npm `qs` package writes them and are decoded by `qs-codec`
into nested dicts and lists of strings: `and[kilometers][]=>=|25000` becomes
{"and": {"kilometers": [">=|25000"]}}. Only FILTERABLE fields may be named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from forecourt.core.inventory.schemas import coerce
from forecourt.kit.errors import InvalidInput
from forecourt.kit.inventory_fields import BY_NAME, FILTERABLE, Field
from forecourt.kit.text import is_whole_number, whole_number

OPERATORS = ("=", "<>", "<", "<=", ">", ">=")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 2**31 - 1
MAX_SEARCH = 200
PARAMETERS = frozenset({"search", "and", "or", "order", "offset", "limit"})
_OPERATOR_LIKE = re.compile(r"^[<>=!]{1,3}\|")


class Condition(NamedTuple):
    field: Field
    op: str
    value: Any


class OneOf(NamedTuple):
    field: Field
    values: tuple[Any, ...]


Clause = Condition | OneOf


@dataclass(frozen=True, slots=True)
class VehicleQuery:
    all_of: tuple[Clause, ...] = ()  # every clause must hold
    any_of: tuple[Clause, ...] = ()  # at least one must hold (when there are any)
    search: str | None = None
    order: Field = BY_NAME["created"]
    descending: bool = True
    offset: int = 0
    limit: int = DEFAULT_LIMIT


def _elements(where: str, value: Any) -> list[str]:
    """A value or a list of values. qs writes indices past 20 as object keys, so an
    object whose keys are all indices is a list too."""
    if isinstance(value, Mapping) and value and all(is_whole_number(str(k)) for k in value):
        value = [value[k] for k in sorted(value, key=int)]
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str | int | float | bool) for item in items):
        raise InvalidInput(where, f"{where} must be a value or a list of values")
    return [str(item).lower() if isinstance(item, bool) else str(item) for item in items]


def _split(where: str, field: Field, text: str) -> tuple[str, Any]:
    op, sep, rest = text.partition("|")
    if not sep or op not in OPERATORS:
        if _OPERATOR_LIKE.match(text):
            raise InvalidInput(where, f"{where}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}")
        op, rest = "=", text
    if op not in ("=", "<>") and not field.ordered:
        raise InvalidInput(where, f"{where}: {field.name} can only be compared with = and <>")
    return op, coerce(field, rest, where)


def _clauses(group: str, filters: Any) -> list[Clause]:
    if not isinstance(filters, Mapping):
        raise InvalidInput(group, f"{group} must be an object of column: value")
    clauses: list[Clause] = []
    for name, value in filters.items():
        where = f"{group}[{name}]"
        field = FILTERABLE.get(name)
        if field is None:
            raise InvalidInput(where, f"{where}: {name!r} is not a column that can be filtered by")
        equal: list[Any] = []
        for op, parsed in (_split(where, field, text) for text in _elements(where, value)):
            if op == "=":
                equal.append(parsed)
            else:
                clauses.append(Condition(field, op, parsed))
        # Plain values under one key mean any of them.
        if len(equal) == 1:
            clauses.append(Condition(field, "=", equal[0]))
        elif equal:
            clauses.append(OneOf(field, tuple(dict.fromkeys(equal))))
    return clauses


def _integer(name: str, raw: Any, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    return whole_number(name, raw, low, high)


def _order(raw: Any) -> tuple[Field, bool]:
    if raw is None:
        return BY_NAME["created"], True
    if not isinstance(raw, Mapping) or not raw.get("field") or not raw.get("dir"):
        raise InvalidInput("order", "order needs both order[field] and order[dir]")
    unknown = set(raw) - {"field", "dir"}
    if unknown:
        raise InvalidInput("order", f"order: unknown key {sorted(unknown)[0]!r}")
    field = FILTERABLE.get(str(raw["field"]))
    if field is None:
        raise InvalidInput("order[field]", f"order[field]: {raw['field']!r} is not a column to order by")
    direction = str(raw["dir"]).lower()
    if direction not in ("asc", "desc"):
        raise InvalidInput("order[dir]", f"order[dir] must be asc or desc, got {raw['dir']!r}")
    return field, direction == "desc"


def parse(params: Mapping[str, Any]) -> VehicleQuery:
    """The list query from decoded query parameters; InvalidInput names what is wrong."""
    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        raise InvalidInput(unknown[0], f"{unknown[0]} is not a query parameter of this list")
    search = params.get("search")
    if search is not None and not isinstance(search, str):
        raise InvalidInput("search", "search must be text")
    if search and len(search) > MAX_SEARCH:
        raise InvalidInput("search", f"search must be at most {MAX_SEARCH} characters")
    order, descending = _order(params.get("order"))
    return VehicleQuery(
        all_of=tuple(_clauses("and", params["and"])) if "and" in params else (),
        any_of=tuple(_clauses("or", params["or"])) if "or" in params else (),
        search=search.strip() or None if search else None,
        order=order,
        descending=descending,
        offset=_integer("offset", params.get("offset"), 0, 0, MAX_OFFSET),
        limit=_integer("limit", params.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT),
    )
