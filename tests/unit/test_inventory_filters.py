"""The vehicle list's query language: qs strings as clients write them, and every
malformed query answered with the parameter it names."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from qs_codec import decode

from forecourt.core.inventory import filters, i18n
from forecourt.core.inventory.filters import Condition, OneOf
from forecourt.kit.errors import InvalidInput
from forecourt.kit.inventory_fields import BY_NAME, TRANSLATED

# Written by npm qs 6 and axios 1 (tests/fixtures/qs/generate.js).
QUERIES = json.loads((Path(__file__).parents[1] / "fixtures" / "qs" / "queries.json").read_text())


@pytest.mark.parametrize("case", QUERIES, ids=lambda c: f"{c['variant']}: {c['query'][:60]}")
def test_a_query_string_means_what_its_object_meant(case: dict[str, Any]) -> None:
    assert filters.parse(decode(case["query"])) == filters.parse(case["params"])


def test_the_spec_example_parses_into_its_conditions() -> None:
    query = filters.parse(
        decode(
            "search=titanium&and[vehicleState]=inventory&and[makeName]=Ford"
            "&and[kilometers][]=>=|25000&and[kilometers][]=<=|250000"
            "&and[firstRegistration][]=>=|2017-01-01&and[firstRegistration][]=<|2018-01-01"
            "&or[colorId][]=3&or[colorId][]=4&or[colorId][]=5&order[field]=created&order[dir]=desc"
        )
    )
    km, first = BY_NAME["kilometers"], BY_NAME["firstRegistration"]
    assert query.search == "titanium"
    assert set(query.all_of) == {
        Condition(BY_NAME["vehicleState"], "=", "inventory"),
        Condition(BY_NAME["makeName"], "=", "Ford"),
        Condition(km, ">=", 25000),
        Condition(km, "<=", 250000),
        Condition(first, ">=", date(2017, 1, 1)),
        Condition(first, "<", date(2018, 1, 1)),
    }
    assert query.any_of == (OneOf(BY_NAME["colorId"], (3, 4, 5)),)
    assert (query.order.name, query.descending, query.offset, query.limit) == ("created", True, 0, 25)


def test_defaults_are_newest_first_25_at_a_time() -> None:
    query = filters.parse({})
    assert (query.order.name, query.descending, query.offset, query.limit) == ("created", True, 0, 25)


def test_more_than_twenty_indexed_values_still_form_a_list() -> None:
    # qs writes indices past 20 as object keys; they are still one list of values.
    query = filters.parse(decode("&".join(f"or[kilometers][{i}]={i * 1000}" for i in range(30))))
    (clause,) = query.any_of
    assert isinstance(clause, OneOf)
    assert clause.values == tuple(i * 1000 for i in range(30))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("and[colour]=3", "and[colour]"),
        ("or[sellingId]=ABC", "or[sellingId]"),
        ("and[kilometers]=>>|5", "and[kilometers]"),
        ("and[kilometers]=!=|5", "and[kilometers]"),
        ("and[kilometers]=lots", "and[kilometers]"),
        ("and[kilometers]=1.5", "and[kilometers]"),
        ("and[firstRegistration]=>=|2017-13-01", "and[firstRegistration]"),
        ("and[firstRegistration]=2017", "and[firstRegistration]"),
        ("and[created]=>=|yesterday", "and[created]"),
        ("and[isDamaged]=maybe", "and[isDamaged]"),
        ("and[isDamaged]=>|false", "and[isDamaged]"),
        ("and[vehicleState]=parked", "and[vehicleState]"),
        ("and[fuelType]=<|diesel", "and[fuelType]"),
        ("and[colorId]=15", "and[colorId]"),
        ("and[kilometers][x][y]=1", "and[kilometers]"),
        ("and=inventory", "and"),
        ("order[field]=created", "order"),
        ("order[field]=vin&order[dir]=asc", "order[field]"),
        ("order[field]=price&order[dir]=up", "order[dir]"),
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("search=" + "x" * 201, "search"),
        ("page=2", "page"),
    ],
)
def test_a_bad_query_is_refused_naming_the_parameter(query: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        filters.parse(decode(query))
    assert refused.value.field == field
    assert field.split("[")[0] in refused.value.message


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_key_of_every_translatable_field_has_a_label(language: str) -> None:
    missing = [
        (f.name, key)
        for f in TRANSLATED
        for key in f.keys
        if i18n.label(language, f.name, key) in ("", str(key))
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("field", "key", "de", "en"),
    [
        ("vehicleState", "inventory", "Im Bestand", "In stock"),
        ("colorId", 7, "Blau", "Blue"),
        ("fuelType", "gasoline", "Benzin", "Petrol"),
        ("driveType", "rear", "Heckantrieb", "Rear-wheel drive"),
        ("emissionClass", 9, "Euro 6d-Temp", "Euro 6d-Temp"),
        ("pollutionBadge", 4, "Grün", "Green"),
    ],
)
def test_labels_in_german_and_english(field: str, key: str | int, de: str, en: str) -> None:
    assert (i18n.label("de", field, key), i18n.label("en", field, key)) == (de, en)


def test_pollution_badges_read_as_the_spec_writes_them() -> None:
    """The spec shows badge 4 as "Grün"; the others are named the same way, by colour."""
    badges = BY_NAME["pollutionBadge"].keys
    assert [i18n.label("de", "pollutionBadge", key) for key in badges] == [
        "Keine",
        "Rot",
        "Gelb",
        "Grün",
        "Blau",
    ]
    assert [i18n.label("en", "pollutionBadge", key) for key in badges] == [
        "None",
        "Red",
        "Yellow",
        "Green",
        "Blue",
    ]


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "de"),
        ("", "de"),
        ("en", "en"),
        ("EN-gb", "en"),
        ("fr-FR, en;q=0.8, de;q=0.5", "en"),
        ("de;q=0.9, en;q=0.4", "de"),
        ("en;q=0, de", "de"),
        ("fr, it", "de"),
        ("en;q=abc", "de"),
    ],
)
def test_the_language_follows_accept_language_and_falls_back_to_german(
    header: str | None, language: str
) -> None:
    assert i18n.negotiate(header) == language
