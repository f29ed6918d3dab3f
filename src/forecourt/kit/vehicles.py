"""Vehicle identity rules shared by every feature: plates, states and VINs."""

from __future__ import annotations

import re
from typing import Literal

from forecourt.kit.errors import InvalidInput

Region = Literal["au", "nz"]
REGIONS: tuple[Region, ...] = ("au", "nz")
CURRENCIES: dict[str, str] = {"au": "AUD", "nz": "NZD"}  # the money a region's prices are in
STATED_REGIONS = frozenset({"au"})  # regions whose plates are issued per state
AU_STATES = frozenset({"VIC", "NSW", "QLD", "SA", "WA", "TAS", "NT", "ACT"})

_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_PLATE = re.compile(r"[A-Z0-9]{1,10}")
_SEPARATORS = re.compile(r"[\s\-]+")

_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def parse_region(value: str | None) -> Region:
    if value in REGIONS:
        return value
    raise InvalidInput("region", "region is required and must be one of: au, nz")


def _compact(value: str) -> str:
    value = value.upper()
    # Most plates and VINs arrive clean; the regex is only for those with separators.
    return value if value.isalnum() else _SEPARATORS.sub("", value)


def normalise_plate(value: str, field: str = "rego") -> str:
    plate = _compact(value)
    if not _PLATE.fullmatch(plate):
        raise InvalidInput(field, f"{field} must be 1 to 10 letters and digits, got {value!r}")
    return plate


def normalise_vin(value: str, field: str = "vin") -> str:
    vin = _compact(value)
    if not _VIN.fullmatch(vin):
        raise InvalidInput(field, f"{field} must be 17 letters and digits without I, O or Q, got {value!r}")
    return vin


def vin_check_digit(vin: str) -> str:
    """The check digit (ISO 3779, 49 CFR 565) a 17-character VIN should have at position 9."""
    expected = sum(_TRANSLITERATION[c] * w for c, w in zip(vin, _WEIGHTS, strict=True)) % 11
    return "X" if expected == 10 else str(expected)


def vin_check_digit_ok(vin: str) -> bool:
    """North American check digit (position 9). Reported only: European VINs often fail it."""
    return bool(_VIN.fullmatch(vin)) and vin[8] == vin_check_digit(vin)


def normalise_state(value: str | None, region: Region, field: str = "state") -> str | None:
    state = (value or "").strip().upper() or None
    if region == "au":
        if state is not None and state not in AU_STATES:
            raise InvalidInput(field, f"{field} must be one of {', '.join(sorted(AU_STATES))}, got {value!r}")
        return state
    if state is not None:
        raise InvalidInput(field, f"{field} must be empty for region {region}, got {value!r}")
    return None
