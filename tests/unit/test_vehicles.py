"""Vehicle identity rules: plates, VINs, states and regions (pure, no I/O)."""

from __future__ import annotations

import pytest

from forecourt.kit.errors import InvalidInput
from forecourt.kit.vehicles import (
    AU_STATES,
    normalise_plate,
    normalise_state,
    normalise_vin,
    parse_region,
    vin_check_digit_ok,
)

# --- plates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ABC123", "ABC123"),
        ("abc123", "ABC123"),
        ("abc 123", "ABC123"),
        ("ABC-123", "ABC123"),
        ("  a-b c-1 2 3  ", "ABC123"),
        ("1", "1"),
        ("ABCDEFGHIJ", "ABCDEFGHIJ"),
        # Plates, unlike VINs, may contain I, O and Q.
        ("qoi 001", "QOI001"),
    ],
)
def test_normalise_plate_uppercases_and_strips_separators(raw: str, expected: str) -> None:
    assert normalise_plate(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "-", "ABCDEFGHIJK", "ABC.123", "ABC_123", "ÄBC123"])
def test_normalise_plate_rejects_bad_plates_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_plate(raw)
    assert caught.value.field == "rego"
    assert "rego" in caught.value.message


def test_normalise_plate_names_the_field_it_was_given() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_plate("ABC!123", field="customers[3].rego")
    assert caught.value.field == "customers[3].rego"
    assert "customers[3].rego" in caught.value.message
    assert "ABC!123" in caught.value.message


# --- VINs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1N4AL11D16N337720", "1N4AL11D16N337720"),
        ("1n4al11d16n337720", "1N4AL11D16N337720"),
        ("1N4AL 11D16 N337720", "1N4AL11D16N337720"),
        ("1N4-AL11D1-6N3-37720", "1N4AL11D16N337720"),
        (" wvwzzz1kzcw162691 ", "WVWZZZ1KZCW162691"),
    ],
)
def test_normalise_vin_uppercases_and_strips_separators(raw: str, expected: str) -> None:
    assert normalise_vin(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "1N4AL11D16N33772",  # 16 characters
        "1N4AL11D16N3377200",  # 18 characters
        "",
        "IN4AL11D16N337720",  # I
        "1N4AL11D16N3377O0",  # O
        "1N4AL11D16N33772Q",  # Q
        "1n4al11d16n3377o0",  # o, lowercase is still O
        "1N4AL11D16N33772!",
    ],
)
def test_normalise_vin_rejects_bad_vins_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_vin(raw)
    assert caught.value.field == "vin"
    assert "vin" in caught.value.message


def test_normalise_vin_names_the_field_it_was_given() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_vin("SHORT", field="customer.vin")
    assert caught.value.field == "customer.vin"
    assert "customer.vin" in caught.value.message


@pytest.mark.parametrize("vin", ["1N4AL11D16N337720", "4T1BE46K28U742135"])
def test_vin_check_digit_accepts_valid_north_american_vins(vin: str) -> None:
    assert vin_check_digit_ok(vin) is True


def test_vin_check_digit_rejects_a_changed_digit() -> None:
    # Same VIN as above with the check digit (position 9) altered.
    assert vin_check_digit_ok("1N4AL11D26N337720") is False
    assert vin_check_digit_ok("4T1BE46K38U742135") is False


def test_vin_with_x_check_digit() -> None:
    # Position 9 is X when the weighted sum modulo 11 is 10.
    vin = "1M8GDM9AXKP042788"
    assert vin_check_digit_ok(vin) is True
    assert vin_check_digit_ok(vin[:8] + "0" + vin[9:]) is False


def test_european_vin_fails_check_digit_but_is_still_accepted() -> None:
    # The check digit is reported, never enforced: European VINs often do not carry one.
    vin = "WVWZZZ1KZCW162691"
    assert vin_check_digit_ok(vin) is False
    assert normalise_vin(vin) == vin


# --- states -------------------------------------------------------------------------


@pytest.mark.parametrize("state", sorted(AU_STATES))
def test_au_accepts_every_state(state: str) -> None:
    assert normalise_state(state, "au") == state


@pytest.mark.parametrize(
    ("raw", "expected"), [("vic", "VIC"), (" nsw ", "NSW"), ("Qld", "QLD"), ("act", "ACT")]
)
def test_au_state_is_trimmed_and_uppercased(raw: str, expected: str) -> None:
    assert normalise_state(raw, "au") == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_au_state_may_be_missing(raw: str | None) -> None:
    assert normalise_state(raw, "au") is None


@pytest.mark.parametrize("raw", ["VICTORIA", "XX", "AKL", "V I C"])
def test_au_rejects_unknown_state_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_state(raw, "au", field="customer.state")
    assert caught.value.field == "customer.state"
    assert "VIC" in caught.value.message  # tells the client what is allowed


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_nz_has_no_state(raw: str | None) -> None:
    assert normalise_state(raw, "nz") is None


@pytest.mark.parametrize("raw", ["VIC", "AKL", "auckland"])
def test_nz_rejects_any_state_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_state(raw, "nz")
    assert caught.value.field == "state"
    assert "nz" in caught.value.message


# --- regions ------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["au", "nz"])
def test_parse_region_accepts_known_regions(region: str) -> None:
    assert parse_region(region) == region


@pytest.mark.parametrize("raw", [None, "", "AU", "uk", " au", "nzl"])
def test_parse_region_rejects_anything_else(raw: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_region(raw)
    assert caught.value.field == "region"
    assert "au, nz" in caught.value.message
