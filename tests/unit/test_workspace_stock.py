"""The stock page's form made into the Autengo filter language, and the words a check's
result is summed up in (pure functions of the workspace's pages)."""

from __future__ import annotations

import pytest
from qs_codec import decode

from forecourt.core.inventory import filters
from forecourt.web.pages.checks import summary
from forecourt.web.pages.stock import FormError, StockForm, api_parameters, query_string


def _query(**given: str) -> str:
    return query_string(api_parameters(StockForm.of(given)))


def test_an_empty_form_is_the_first_page_of_everything() -> None:
    assert _query() == "limit=25"


def test_every_field_becomes_its_condition_in_the_filter_language() -> None:
    shown = _query(
        make="190", model="3813", km_from="10 000", km_to="80000", price_from="0", price_to="40000",
        fuel="diesel", state="inventory", sort="km-asc", offset="50",
    )  # fmt: skip
    assert shown == (
        "and[makeId]=190&and[modelId]=3813&and[kilometers][]=>=|10000&and[kilometers][]=<=|80000"
        "&and[price][]=>=|0&and[price][]=<=|40000&and[fuelType]=diesel&and[vehicleState]=inventory"
        "&order[field]=kilometers&order[dir]=asc&offset=50&limit=25"
    )
    # What the page shows parses as the API parses it.
    query = filters.parse(decode(shown))
    assert [(c.field.name, c.op, c.value) for c in query.all_of if isinstance(c, filters.Condition)] == [
        ("makeId", "=", 190),
        ("modelId", "=", 3813),
        ("kilometers", ">=", 10000),
        ("kilometers", "<=", 80000),
        ("price", ">=", 0),
        ("price", "<=", 40000),
        ("fuelType", "=", "diesel"),
        ("vehicleState", "=", "inventory"),
    ]
    assert (query.order.name, query.descending, query.offset, query.limit) == ("kilometers", False, 50, 25)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("km_from", "abc"),
        ("km_to", "-1"),
        ("price_from", "1.5"),
        ("price_to", str(2**31)),
        ("make", "Audi"),
        ("fuel", "steam"),
        ("state", "Sold"),
        ("sort", "random"),
        ("offset", "x"),
    ],
)
def test_a_field_that_cannot_be_used_is_named(field: str, value: str) -> None:
    with pytest.raises(FormError) as raised:
        api_parameters(StockForm.of({field: value}))
    assert raised.value.field == field


def test_a_results_summary_keeps_the_plain_facts() -> None:
    result = [
        {"valid": True, "manufacturer": "Nissan", "modelYears": [2006, 2036], "details": {"deep": 1}},
        {"listings": [{"url": "https://example.com"}], "lastPrice": 28500, "delisted": False, "gone": None},
    ]
    assert summary(result) == [
        "valid: yes",
        "manufacturer: Nissan",
        "modelYears: 2006, 2036",
        "lastPrice: 28500",
        "delisted: no",
    ]
    assert summary([]) == []
