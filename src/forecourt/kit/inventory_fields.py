"""The vehicle's fields, declared once: what each one holds, where it is stored, whether
it can be filtered and ordered by, and the keys of the translatable ones.

Validation, storage, the filter language and rendering are all driven by this table, so
a field is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    # The values say what the field takes, for error messages.
    TEXT = "text"
    INT = "a whole number"
    NUMBER = "a number"
    BOOL = "true or false"
    DATE = "a date (YYYY-MM-DD)"
    DATETIME = "a timestamp (YYYY-MM-DD HH:MM:SS)"
    ENUM = "one of its keys"  # translatable: rendered as {"key", "text"}
    CHOICE = "one of its values"  # not translated
    LIST = "a list"


ORDERED_KINDS = frozenset({Kind.INT, Kind.NUMBER, Kind.DATE, Kind.DATETIME, Kind.TEXT})


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # as on the wire
    kind: Kind
    # Fields with a column of their own can be filtered, ordered and searched by; the
    # others are kept together in the row's `details`.
    column: str | None = None
    filter: bool = False
    keys: tuple[str, ...] | tuple[int, ...] = ()
    max_length: int = 255

    @property
    def ordered(self) -> bool:
        """Whether <, <=, > and >= mean something for it (numbers, dates, text, numbered keys)."""
        return self.kind in ORDERED_KINDS or (self.kind is Kind.ENUM and isinstance(self.keys[0], int))


def _col(name: str, kind: Kind, column: str, *, filter: bool = True, **rest: object) -> Field:
    return Field(name, kind, column, filter, **rest)  # type: ignore[arg-type]


COLORS = tuple(range(1, 15))

FIELDS: tuple[Field, ...] = (
    _col("sellingId", Kind.TEXT, "selling_id", filter=False, max_length=16),
    _col("internalId", Kind.TEXT, "internal_id", filter=False),
    Field("branchId", Kind.INT),
    _col("makeId", Kind.INT, "make_id"),
    _col("makeName", Kind.TEXT, "make_name", max_length=100),
    _col("modelId", Kind.INT, "model_id"),
    _col("modelName", Kind.TEXT, "model_name", max_length=100),
    _col("modelVersion", Kind.TEXT, "model_version"),
    _col("trimLine", Kind.TEXT, "trim_line", max_length=100),
    _col("modelRange", Kind.TEXT, "model_range", max_length=100),
    Field("sourceType", Kind.CHOICE, keys=("repurchased", "trade-in", "factoryCar", "leasingReturn")),
    _col("vehicleState", Kind.ENUM, "vehicle_state", keys=("incoming", "inventory", "sold")),
    _col("description", Kind.TEXT, "description", filter=False, max_length=65535),
    _col("firstRegistration", Kind.DATE, "first_registration"),
    _col("constructionDate", Kind.DATE, "construction_date"),
    _col("kilometers", Kind.INT, "kilometers"),
    _col("vehicleTypeId", Kind.ENUM, "vehicle_type_id", keys=tuple(range(1, 11))),
    _col(
        "climatisationType",
        Kind.ENUM,
        "climatisation_type",
        keys=(
            "none",
            "airConditioning",
            "automaticClimateControl",
            "automaticClimateControl2",
            "automaticClimateControl3",
            "automaticClimateControl4",
        ),
    ),
    _col(
        "conditionType",
        Kind.ENUM,
        "condition_type",
        keys=("new", "used", "employeesCar", "classic", "demonstration", "dayRegistration"),
    ),
    _col("vin", Kind.TEXT, "vin", filter=False, max_length=17),
    _col("powerKw", Kind.NUMBER, "power_kw"),
    _col("cubicCapacity", Kind.INT, "cubic_capacity"),
    _col("doorCount", Kind.INT, "door_count"),
    _col("seatCount", Kind.INT, "seat_count"),
    _col("pollutionBadge", Kind.ENUM, "pollution_badge", keys=tuple(range(1, 6))),
    Field("emissionClass", Kind.ENUM, keys=tuple(range(1, 11))),
    _col("colorId", Kind.ENUM, "color_id", keys=COLORS),
    Field("manufacturerColorName", Kind.TEXT),
    _col("isMetallicColor", Kind.BOOL, "is_metallic_color"),
    _col(
        "airbagType",
        Kind.ENUM,
        "airbag_type",
        keys=("driverAirbag", "frontAirbag", "driverSideAirbag", "driverSideOtherAirbag"),
    ),
    _col(
        "interiorType",
        Kind.ENUM,
        "interior_type",
        keys=("alcantara", "cloth", "fullLeather", "partialLeather", "velour", "other"),
    ),
    _col("interiorColorId", Kind.ENUM, "interior_color_id", keys=COLORS),
    _col(
        "fuelType",
        Kind.ENUM,
        "fuel_type",
        keys=(
            "cng",
            "diesel",
            "electric",
            "electricDiesel",
            "electricGasoline",
            "ethanol",
            "gasoline",
            "hydrogen",
            "lpg",
        ),
    ),
    _col(
        "fuelDetailType",
        Kind.ENUM,
        "fuel_detail_type",
        keys=(
            "lpg",
            "normalGasoline91",
            "super95",
            "superPlus98",
            "normalGasolineE1091",
            "superE1095",
            "superPlusE1098",
            "diesel",
            "biodiesel",
            "vegetableOil",
            "cngH",
            "cngL",
            "bioCng",
            "ethanol85",
            "hydrogen",
            "electric",
        ),
    ),
    _col("transmissionType", Kind.ENUM, "transmission_type", keys=("automatic", "manual", "semiAutomatic")),
    _col("isDamaged", Kind.BOOL, "is_damaged"),
    _col("hadAccidentDamage", Kind.BOOL, "had_accident_damage"),
    _col("isDrivable", Kind.BOOL, "is_drivable"),
    Field("nextInspection", Kind.TEXT),
    Field("isInspectionNew", Kind.BOOL),
    Field("lastService", Kind.TEXT),
    _col("hasFullServiceHistory", Kind.BOOL, "has_full_service_history"),
    Field("tyreType", Kind.ENUM, keys=("summerTyres", "winterTyres", "allSeasonTyres")),
    Field("tyreBrand", Kind.TEXT),
    Field("tyreTreadL", Kind.NUMBER),
    Field("tyreTreadR", Kind.NUMBER),
    Field("tyreTreadBL", Kind.NUMBER),
    Field("tyreTreadBR", Kind.NUMBER),
    Field("warrantyExpiry", Kind.DATE),
    Field("tsn", Kind.TEXT),
    Field("hsn", Kind.INT),
    Field("gears", Kind.INT),
    _col("cylinders", Kind.INT, "cylinders"),
    Field("countryId", Kind.TEXT, max_length=2),
    Field("deliveryDate", Kind.TEXT),
    Field("deliveryPeriod", Kind.TEXT),
    Field("isNonSmoker", Kind.BOOL),
    Field("particulateFilter", Kind.BOOL),
    Field("isBioDieselSuitable", Kind.BOOL),
    Field("isVegetableOilSuitable", Kind.BOOL),
    _col("isPluginHybrid", Kind.BOOL, "is_plugin_hybrid"),
    _col("isE10Enabled", Kind.BOOL, "is_e10_enabled"),
    Field("weight", Kind.NUMBER),
    Field("hasSparewheel", Kind.BOOL),
    _col("driveType", Kind.ENUM, "drive_type", keys=("front", "rear", "all", "other")),
    _col("created", Kind.DATETIME, "created"),
    _col("updated", Kind.DATETIME, "updated"),
    _col("previousOwnerCount", Kind.INT, "previous_owner_count"),
    Field("isWarrantyGranted", Kind.BOOL),
    Field("isNetPrice", Kind.BOOL),
    Field("isPriceNegotiable", Kind.BOOL),
    _col("price", Kind.NUMBER, "price"),
    Field("dealerPrice", Kind.NUMBER),
    Field("equipment", Kind.LIST),
    Field("damages", Kind.LIST),
    Field("documents", Kind.LIST),
    Field("ads", Kind.LIST),
    Field("priceExport", Kind.NUMBER),
    Field("recommendedRetailPrice", Kind.NUMBER),
    Field("priceYard", Kind.NUMBER),
    Field("priceOverpass", Kind.NUMBER),
    Field("slidingDoor", Kind.ENUM, keys=("slidingDoorRight", "slidingDoorLeft", "slidingDoorBoth")),
    Field("emissionsCombinedCo2Class", Kind.CHOICE, keys=tuple("ABCDEFG")),
    Field("emissionsDischargedCo2Class", Kind.CHOICE, keys=tuple("ABCDEFG")),
    *(
        Field(name, Kind.NUMBER)
        for name in (
            "co2EmissionCombined",
            "consumptionFuelCombined",
            "consumptionFuelCity",
            "consumptionFuelSuburban",
            "consumptionFuelRural",
            "consumptionFuelHighway",
            "consumptionPowerCombined",
            "co2EmissionCombinedWeighted",
            "consumptionFuelCombinedWeighted",
            "consumptionPowerCombinedWeighted",
            "co2EmissionsDischarged",
            "consumptionPowerCity",
            "consumptionPowerSuburban",
            "consumptionPowerRural",
            "consumptionPowerHighway",
            "electricRangePluginHybrid",
            "energieCostFuelPrice",
            "energieCostPowerPrice",
            "energieCostConsumptionPriceYear",
            "energieCostTax",
            "energieCostConsumptionCosts",
            "energieCostCo2CostsLow",
            "energieCostCo2CostsHigh",
            "energieCostCo2CostsMiddle",
        )
    ),
)

BY_NAME = {f.name: f for f in FIELDS}
FILTERABLE = {f.name: f for f in FIELDS if f.filter}
STORED = tuple(f for f in FIELDS if f.column)  # fields with a column of their own
TRANSLATED = tuple(f for f in FIELDS if f.kind is Kind.ENUM)
# Searched by `search`, as a case-insensitive substring.
SEARCHED = tuple(
    BY_NAME[n] for n in ("makeName", "modelName", "modelVersion", "description", "internalId", "vin")
)
# The fields GET /vehicle/filter/values can list the values of.
VALUE_FIELDS = tuple(
    BY_NAME[n]
    for n in (
        "makeId",
        "modelId",
        "vehicleTypeId",
        "climatisationType",
        "conditionType",
        "fuelType",
        "transmissionType",
        "isPluginHybrid",
        "driveType",
    )
)
