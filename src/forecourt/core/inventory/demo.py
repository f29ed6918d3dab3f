"""A realistic made-up stock, for demos and benchmarks: real makes and models with
versions, trim lines, fuels, body types and VIN manufacturer codes of their own
(reference/makes.json); ages, mileages, prices, emission classes and pollution badges
that go together; every enumerated field set, in the mix a dealer's yard shows.

Deterministic for a seed, and quick (benchmarks make 100,000s): what depends only on
the model is worked out once, and each draw is one call of `Random.random`."""

from __future__ import annotations

import random
import re
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from itertools import accumulate, permutations
from typing import Any

from forecourt.core.inventory import reference
from forecourt.kit.vehicles import vin_check_digit

_DESCRIPTIONS = tuple(
    " ".join(words)
    for words in permutations(
        ("scheckheftgepflegt", "Nichtraucher", "one owner", "full service history", "Garantie", "AHK"), 3
    )
)
# How often each fuel is chosen among those a model comes with.
_FUEL_WEIGHTS = {
    "gasoline": 45,
    "diesel": 30,
    "electric": 8,
    "electricGasoline": 12,
    "electricDiesel": 2,
    "lpg": 5,
    "cng": 2,
}
_HYBRIDS = frozenset({"electricGasoline", "electricDiesel"})
_DIESELS = frozenset({"diesel", "electricDiesel"})
# A hybrid version is a plug-in one when its name says so (PHEV, 25e, 300 de, TFSI e...).
_PLUG_IN = re.compile(
    r"PHEV|Plug-in|e-HYBRID|eHybrid|E-Hybrid|GTE|iV\b|4xe|Recharge|DM-i|\d\d0?e\b|\d{3} d?e\b|TFSI e"
)
# A version whose name says four-wheel drive; the others drive the model's usual wheels.
_ALL_WHEELS = re.compile(
    r"quattro|xDrive|4MATIC|4Motion|4Drive|4x4|4WD|AWD|ALL4|ALLGRIP|Q4\b|e-4ORCE|Dual Motor|Carrera 4"
)

# Euro norms by first registration (emissionClass keys: 1 Euro 1 ... 6 Euro 6, 7 Euro 6b,
# 8 Euro 6c, 9 Euro 6d-Temp, 10 Euro 6d); a car registered before 1993 has none.
_EURO_SINCE = (
    date(1993, 1, 1),
    date(1997, 1, 1),
    date(2001, 1, 1),
    date(2006, 1, 1),
    date(2011, 1, 1),
    date(2015, 9, 1),
    date(2016, 9, 1),
    date(2018, 9, 1),
    date(2019, 9, 1),
    date(2021, 1, 1),
)
_CO2_CLASS_ABOVE = (95, 115, 135, 155, 175)  # g/km, the upper bounds of classes B to F

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_PAIRS = tuple(a + b for a in _VIN_CHARS for b in _VIN_CHARS)
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # VIN position 10: 1980 is A, again every 30 years
_NORTH_AMERICA = frozenset("123457")  # first character of the WMIs assigned in North America

# Doors and seats by body type (vehicleTypeId: 1 cabrio, 2 off-road/pickup, 3 small car,
# 4 estate, 5 coupé, 6 saloon, 7 van, 8 SUV, 9 transporter); vans have sliding doors.
_DOORS = {
    1: (2,),
    2: (2, 4, 4, 5),
    3: (3, 5, 5),
    4: (5,),
    5: (2, 3),
    6: (4, 5),
    7: (4, 5),
    8: (5,),
    9: (4, 5),
}
_SEATS = {
    1: (2, 4),
    2: (2, 5, 5),
    3: (4, 5),
    4: (5,),
    5: (2, 4),
    6: (5,),
    7: (5, 7, 7, 8),
    8: (5, 5, 7),
    9: (2, 3, 3, 6, 9),
}
_VANS = frozenset({7, 9})


class _Weighted:
    """A weighted choice, drawn with one random number."""

    def __init__(self, weighted: Sequence[tuple[Any, int]]) -> None:
        self.keys = tuple(key for key, _ in weighted)
        self.cumulative = tuple(accumulate(weight for _, weight in weighted))
        self.total = self.cumulative[-1]

    def __call__(self, draw: Callable[[], float]) -> Any:
        return self.keys[bisect(self.cumulative, draw() * self.total)]


_STATE = _Weighted((("inventory", 80), ("incoming", 12), ("sold", 8)))
_SOURCE = _Weighted((("trade-in", 55), ("leasingReturn", 25), ("repurchased", 20)))
# Colour keys (colorId, interiorColorId): 1 black, 2 grey, 3 beige, 4 brown, 5 red,
# 6 green, 7 blue, 8 silver, 9 gold, 10 white, 11 orange, 12 yellow, 13 violet, 14 bronze.
_COLOR = _Weighted(
    [(1, 20), (2, 20), (10, 18), (8, 12), (7, 12), (5, 8), (4, 2), (6, 2), (3, 2)]
    + [(key, 1) for key in (9, 11, 12, 13, 14)]
)
_INTERIOR_COLOR = _Weighted(((1, 55), (2, 20), (3, 12), (4, 8), (5, 3), (10, 2)))
_INTERIOR = _Weighted(
    (
        ("cloth", 45),
        ("partialLeather", 20),
        ("fullLeather", 20),
        ("alcantara", 5),
        ("velour", 5),
        ("other", 5),
    )
)
_CLIMATE_OLD = _Weighted((("none", 40), ("airConditioning", 60)))
_CLIMATE = _Weighted(
    (
        ("airConditioning", 30),
        ("automaticClimateControl", 40),
        ("automaticClimateControl2", 25),
        ("automaticClimateControl3", 4),
        ("automaticClimateControl4", 1),
    )
)
_GEARBOX = _Weighted((("manual", 50), ("automatic", 45), ("semiAutomatic", 5)))
_TYRES = _Weighted((("summerTyres", 50), ("allSeasonTyres", 30), ("winterTyres", 20)))
_SLIDING_DOOR = _Weighted((("slidingDoorRight", 70), ("slidingDoorBoth", 25), ("slidingDoorLeft", 5)))
_FUEL_DETAIL = {
    "gasoline": _Weighted(
        (("super95", 60), ("superE1095", 25), ("superPlus98", 10), ("normalGasoline91", 5))
    ),
    "diesel": _Weighted((("diesel", 95), ("biodiesel", 5))),
    "cng": _Weighted((("cngH", 70), ("cngL", 20), ("bioCng", 10))),
    "lpg": _Weighted((("lpg", 1),)),
    "electric": _Weighted((("electric", 1),)),
}
_FUEL_DETAIL["electricGasoline"] = _FUEL_DETAIL["gasoline"]
_FUEL_DETAIL["electricDiesel"] = _FUEL_DETAIL["diesel"]


@dataclass(frozen=True, slots=True)
class _Version:
    name: str
    fuel: str
    drive: str  # driveType
    plug_in: bool


@dataclass(frozen=True, slots=True)
class _Model:
    """What a vehicle of one model may be, worked out once."""

    make: reference.Make
    model: reference.Model
    fuels: _Weighted
    versions: dict[str, tuple[_Version, ...]]  # by fuel


def _model(make: reference.Make, model: reference.Model) -> _Model:
    versions = make.versions | model.versions
    drive = model.drive or make.drive
    return _Model(
        make=make,
        model=model,
        fuels=_Weighted([(fuel, _FUEL_WEIGHTS[fuel]) for fuel in model.fuels]),
        versions={
            fuel: tuple(
                _Version(
                    name,
                    fuel,
                    "all" if _ALL_WHEELS.search(name) else drive,
                    fuel in _HYBRIDS and bool(_PLUG_IN.search(name)),
                )
                for name in versions[fuel]
            )
            for fuel in model.fuels
        },
    )


@cache
def _catalogue() -> tuple[tuple[_Model, ...], ...]:
    """The models, by make."""
    return tuple(tuple(_model(make, model) for model in make.models) for make in reference.makes())


def _euro(first_registration: date) -> int | None:
    return bisect(_EURO_SINCE, first_registration) or None


def _pollution_badge(fuel: str, euro: int | None, particulate_filter: bool) -> int:
    """The German badge the car earns: 1 none, 2 red, 3 yellow, 4 green (5, blue, is
    not issued)."""
    if fuel == "electric":
        return 4
    if euro is None:
        return 1
    if fuel not in _DIESELS:
        return 4  # petrol and gas cars from Euro 1 on
    badge = min(euro, 4)  # diesels: Euro 1 none, 2 red, 3 yellow, 4 green
    return badge + 1 if particulate_filter and 1 < badge < 4 else badge


def _co2_class(grams: int) -> str:
    """Germany's CO2 label (Pkw-EnVKV): A is none, B up to 95 g/km, ... G over 175."""
    return "A" if grams == 0 else "BCDEFG"[bisect(_CO2_CLASS_ABOVE, grams - 1)]


def vehicles(count: int, seed: int = 1, now: datetime | None = None) -> Iterator[dict[str, Any]]:
    """`count` vehicle records as a client would send them (keys only, no texts)."""
    draw = random.Random(seed).random  # noqa: S311 (made-up data, not secrets)
    catalogue = _catalogue()
    now = (now or datetime(2026, 1, 1)).replace(microsecond=0)
    today = now.date()

    def one(choices: Sequence[Any]) -> Any:
        return choices[int(draw() * len(choices))]

    def between(low: int, high: int) -> int:
        return low + int(draw() * (high - low + 1))

    for _ in range(count):
        entry = one(one(catalogue))
        make, model = entry.make, entry.model
        version: _Version = one(entry.versions[entry.fuels(draw)])
        fuel = version.fuel
        electric, diesel = fuel == "electric", fuel in _DIESELS

        # Age and use. Most of a yard is up to 15 years old; some combustion cars up to
        # 35 (classics from 30), electrified ones up to 12; none older than its model.
        oldest = max(0, (today - date(model.since, 1, 1)).days)
        if electric or fuel in _HYBRIDS:
            age_days = between(0, min(oldest, 12 * 365))
        elif oldest > 15 * 365 and draw() < 0.12:
            age_days = between(15 * 365, min(oldest, 35 * 365))
        else:
            age_days = between(0, min(oldest, 15 * 365))
        years = age_days / 365
        first_registration = today - timedelta(days=age_days)
        construction = first_registration - timedelta(days=between(30, 200))
        if age_days < 60:
            condition = "new" if draw() < 0.7 else "dayRegistration"
            kilometers = between(0, 50)
        else:
            kilometers = min(int(age_days * (20 + 35 * draw())), 380_000) // 100 * 100
            condition = "used"
            if years >= 30:
                condition, kilometers = "classic", kilometers // 300 * 100
            elif years < 1 and draw() < 0.6:
                condition = "demonstration" if draw() < 0.5 else "employeesCar"
                kilometers = min(kilometers, between(10, 150) * 100)

        # Body.
        types = model.types
        body = types[0] if len(types) == 1 or draw() < 0.7 else one(types[1:])

        # Emissions.
        euro = None if electric else _euro(first_registration)
        particulate_filter = diesel and ((euro or 0) >= 5 or draw() < 0.3)
        power_kw = between(10, 59) * 5
        co2 = 0 if electric else int((60 + power_kw * 0.55) * (0.9 if diesel else 1))  # g/km
        co2_combined = co2 * 3 // 10 if version.plug_in else co2  # a plug-in's is weighted

        record = {
            "internalId": f"STK-{between(1, 10**8):08d}",
            "makeId": make.make_id,
            "modelId": model.model_id,
            "modelVersion": version.name,
            "trimLine": one(make.trim_lines),
            "vehicleState": _STATE(draw),
            "sourceType": "factoryCar" if condition in ("new", "dayRegistration") else _SOURCE(draw),
            "description": one(_DESCRIPTIONS),
            "firstRegistration": first_registration.isoformat(),
            "constructionDate": construction.isoformat(),
            "kilometers": kilometers,
            "vehicleTypeId": body,
            "conditionType": condition,
            "climatisationType": (_CLIMATE_OLD if years > 22 else _CLIMATE)(draw),
            "vin": _vin(draw, one(make.wmis), construction.year),
            "powerKw": power_kw,
            "cubicCapacity": 0 if electric else between(10, 39) * 100 - 1,
            "doorCount": one(_DOORS[body]),
            "seatCount": one(_SEATS[body]),
            "pollutionBadge": _pollution_badge(fuel, euro, particulate_filter),
            "colorId": _COLOR(draw),
            "isMetallicColor": draw() < 0.6,
            "airbagType": (
                "driverAirbag"
                if years > 28
                else "frontAirbag"
                if years > 22
                else "driverSideAirbag"
                if years > 12 or draw() < 0.2
                else "driverSideOtherAirbag"
            ),
            "interiorType": _INTERIOR(draw),
            "interiorColorId": _INTERIOR_COLOR(draw),
            "fuelType": fuel,
            "fuelDetailType": _FUEL_DETAIL[fuel](draw),
            "transmissionType": "automatic" if electric or fuel in _HYBRIDS else _GEARBOX(draw),
            "isDamaged": draw() < 0.03,
            "hadAccidentDamage": draw() < 0.1,
            "isDrivable": True,
            "hasFullServiceHistory": draw() < 0.7,
            "tyreType": _TYRES(draw),
            "cylinders": 0 if electric else one((3, 4, 4, 6)),
            "isPluginHybrid": version.plug_in,
            "isE10Enabled": fuel in ("gasoline", "electricGasoline") and first_registration.year >= 2000,
            "driveType": version.drive,
            "previousOwnerCount": min(age_days // 1500, 5),
            "price": (
                between(24, 120) * 500
                if condition == "classic"
                else max(1500, round(45000 * 0.87**years - kilometers * 0.03, -1))
            ),
            "co2EmissionCombined": co2_combined,
            "emissionsCombinedCo2Class": _co2_class(co2_combined),
            "created": (now - timedelta(seconds=between(0, 2 * 365 * 86400))).isoformat(sep=" "),
            "warrantyExpiry": (date(now.year + 1, 1, 1) + timedelta(days=between(0, 700))).isoformat(),
        }
        if euro is not None:
            record["emissionClass"] = euro
        if diesel:
            record["particulateFilter"] = particulate_filter
        if version.plug_in:  # and with the battery empty
            record["co2EmissionsDischarged"] = co2
            record["emissionsDischargedCo2Class"] = _co2_class(co2)
        if body in _VANS and draw() < 0.8:
            record["slidingDoor"] = _SLIDING_DOOR(draw)
        yield record


def _vin(draw: Callable[[], float], wmi: str, model_year: int) -> str:
    """Manufacturer code (WMI), descriptor, position 9, model year, plant, serial number.
    Position 9 is the check digit where it is mandatory (North America), else any character."""
    vds = _VIN_PAIRS[int(draw() * 1089)] + _VIN_PAIRS[int(draw() * 1089)] + _VIN_CHARS[int(draw() * 33)]
    plant = _VIN_CHARS[int(draw() * 33)]
    tail = f"{_YEAR_CODES[(model_year - 1980) % 30]}{plant}{int(draw() * 10**6):06d}"
    if wmi[0] in _NORTH_AMERICA:
        return wmi + vds + vin_check_digit(f"{wmi}{vds}0{tail}") + tail
    return wmi + vds + _VIN_CHARS[int(draw() * 33)] + tail
