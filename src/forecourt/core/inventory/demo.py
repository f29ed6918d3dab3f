"""A realistic made-up stock, for demos and benchmarks: real makes and models, ages,
mileages and prices that go together, the usual mix of fuels, colours and states."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from forecourt.core.inventory import reference
from forecourt.kit.inventory_fields import BY_NAME

_VERSIONS = ("1.0 TSI", "1.5 EcoBoost", "2.0 TDI", "xDrive30d", "Titanium", "GTI", "Hybrid", "Sport", "Trend")
_LINES = ("Base", "Comfort", "Style", "Titanium", "Highline", "AMG Line", "M Sport", "S line")
_WORDS = ("scheckheftgepflegt", "Nichtraucher", "one owner", "full service history", "Garantie", "AHK")
_FUELS = (("gasoline", 45), ("diesel", 30), ("electric", 8), ("electricGasoline", 12), ("lpg", 5))
_STATES = (("inventory", 80), ("incoming", 12), ("sold", 8))


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def vehicles(count: int, seed: int = 1, now: datetime | None = None) -> Iterator[dict[str, Any]]:
    """`count` vehicle records as a client would send them (keys only, no texts)."""
    rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
    makes = reference.makes()
    now = (now or datetime(2026, 1, 1)).replace(microsecond=0)
    for _ in range(count):
        make = rng.choice(makes)
        model = rng.choice(make.models)
        age_days = rng.randint(0, 15 * 365)
        first_registration = now.date() - timedelta(days=age_days)
        kilometers = int(age_days * rng.uniform(20, 70)) // 100 * 100
        fuel = _pick(rng, _FUELS)
        yield {
            "internalId": f"STK-{rng.randint(1, 10**8):08d}",
            "makeId": make.make_id,
            "modelId": model.model_id,
            "modelVersion": rng.choice(_VERSIONS),
            "trimLine": rng.choice(_LINES),
            "vehicleState": _pick(rng, _STATES),
            "description": " ".join(rng.sample(_WORDS, 3)),
            "firstRegistration": first_registration.isoformat(),
            "constructionDate": (first_registration - timedelta(days=rng.randint(30, 200))).isoformat(),
            "kilometers": kilometers,
            "vehicleTypeId": rng.choice(BY_NAME["vehicleTypeId"].keys),
            "conditionType": "new" if kilometers < 100 else "used",
            "climatisationType": rng.choice(BY_NAME["climatisationType"].keys),
            "vin": "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", k=17)),
            "powerKw": rng.randrange(50, 300, 5),
            "cubicCapacity": 0 if fuel == "electric" else rng.randrange(999, 3999, 100),
            "doorCount": rng.choice((3, 5, 5, 5)),
            "seatCount": rng.choice((2, 4, 5, 5, 7)),
            "pollutionBadge": 4,
            "emissionClass": rng.randint(5, 10),
            "colorId": rng.choice(BY_NAME["colorId"].keys),
            "isMetallicColor": rng.random() < 0.6,
            "interiorType": rng.choice(BY_NAME["interiorType"].keys),
            "fuelType": fuel,
            "transmissionType": rng.choice(BY_NAME["transmissionType"].keys),
            "isDamaged": rng.random() < 0.03,
            "hadAccidentDamage": rng.random() < 0.1,
            "isDrivable": True,
            "hasFullServiceHistory": rng.random() < 0.7,
            "cylinders": 0 if fuel == "electric" else rng.choice((3, 4, 4, 6)),
            "isPluginHybrid": fuel == "electricGasoline" and rng.random() < 0.5,
            "isE10Enabled": fuel == "gasoline",
            "driveType": rng.choice(BY_NAME["driveType"].keys),
            "previousOwnerCount": min(age_days // 1500, 5),
            "price": max(1500, round(45000 * 0.87 ** (age_days / 365) - kilometers * 0.03, -1)),
            "created": (now - timedelta(seconds=rng.randint(0, 2 * 365 * 86400))).isoformat(sep=" "),
            "warrantyExpiry": (date(now.year + 1, 1, 1) + timedelta(days=rng.randint(0, 700))).isoformat(),
        }
