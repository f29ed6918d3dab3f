"""Query strings as the npm `qs` package writes them (brackets, percent-encoded or not),
decoded by `qs-codec`, the Python port of the same rules."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIType, Parameter, Schema
from qs_codec import DecodeOptions, decode

from forecourt.core.inventory.filters import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, MAX_SEARCH
from forecourt.kit.errors import InvalidInput
from forecourt.kit.inventory_fields import FILTERABLE, VALUE_FIELDS

_OPTIONS = DecodeOptions(depth=5, strict_depth=True, parameter_limit=1000, raise_on_limit_exceeded=True)


def parameters(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = request.scope.get("query_string", b"").decode("utf-8", "replace")
    if any(pair.startswith("=") for pair in raw.split("&")):  # qs would drop it unsaid
        raise InvalidInput("query", "query string: a parameter without a name")
    try:
        return dict(decode(raw, _OPTIONS))
    except (ValueError, IndexError) as exc:
        raise InvalidInput("query", f"query string: {exc}") from None


# The list's query language in the document: `and[field]`, `or[field]`, `order[field]` and
# `order[dir]` are deep objects (qs writes them so); a filter's value is `value` or
# `op|value` (op one of = <> < <= > >=), several values under one field mean any of them.
def _query(name: str, schema: Schema, description: str, **style: Any) -> Parameter:
    return Parameter(
        name=name, param_in=ParamType.QUERY, required=False, schema=schema, description=description, **style
    )


_FILTERS = Schema(
    type=OpenAPIType.OBJECT,
    properties={name: Schema(type=OpenAPIType.STRING) for name in FILTERABLE},
    additional_properties=False,
)
LIST_PARAMETERS = (
    _query("search", Schema(type=OpenAPIType.STRING, max_length=MAX_SEARCH), "Words to find in the vehicle"),
    _query(
        "and",
        _FILTERS,
        "Conditions that must all hold: `and[price]=<=|20000`",
        style="deepObject",
        explode=True,
    ),
    _query(
        "or",
        _FILTERS,
        "Conditions of which one must hold: `or[fuel]=petrol`",
        style="deepObject",
        explode=True,
    ),
    _query(
        "order",
        Schema(
            type=OpenAPIType.OBJECT,
            properties={
                "field": Schema(type=OpenAPIType.STRING, enum=sorted(FILTERABLE)),
                "dir": Schema(type=OpenAPIType.STRING, enum=["asc", "desc"]),
            },
            required=["field", "dir"],
            additional_properties=False,
        ),
        "`order[field]=price&order[dir]=asc` (newest first by default)",
        style="deepObject",
        explode=True,
    ),
    _query("offset", Schema(type=OpenAPIType.INTEGER, minimum=0, maximum=MAX_OFFSET), "Vehicles skipped"),
    _query(
        "limit",
        Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=MAX_LIMIT),
        f"Vehicles in the page (default {DEFAULT_LIMIT})",
    ),
)
VALUES_PARAMETERS = (
    _query(
        "fields",
        Schema(
            type=OpenAPIType.ARRAY,
            # Empty is "not given", as everywhere in the query language.
            items=Schema(type=OpenAPIType.STRING, enum=["", *(f.name for f in VALUE_FIELDS)]),
        ),
        "The fields whose values are listed (makeId when none is given)",
        style="form",
        explode=True,
    ),
)
