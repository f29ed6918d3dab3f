"""Stock: the dealer's inventory, filtered by a form whose fields become the Autengo
filter language (`and[kilometers][]=>=|10000`), run through the same core search as
`GET /v3/vehicle`. The page shows the query string, so an integrator can copy it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template
from qs_codec import EncodeOptions, ListFormat, decode, encode

from forecourt.core.accounts import service as accounts
from forecourt.core.inventory import filters, reference
from forecourt.core.inventory import i18n as labels
from forecourt.core.inventory import service as inventory
from forecourt.core.inventory.schemas import Values
from forecourt.kit.errors import InvalidInput
from forecourt.kit.inventory_fields import BY_NAME
from forecourt.kit.text import is_whole_number
from forecourt.web.format import Formats
from forecourt.web.views import DbDep, UserDep, formats, language_of, page

PAGE = 25
LARGEST = 2**31 - 1  # what the kilometres column holds; prices beyond it are not cars
FUELS = BY_NAME["fuelType"].keys
STATES = BY_NAME["vehicleState"].keys
# The sort menu: its value -> the core's order (field, direction); the first is the default.
SORTS: dict[str, tuple[str, str] | None] = {
    "newest": None,
    "price-asc": ("price", "asc"),
    "price-desc": ("price", "desc"),
    "km-asc": ("kilometers", "asc"),
    "registration-desc": ("firstRegistration", "desc"),
}
RANGES = (("km_from", "kilometers", ">="), ("km_to", "kilometers", "<="))
PRICES = (("price_from", "price", ">="), ("price_to", "price", "<="))
FIELDS = ("make", "model", "km_from", "km_to", "price_from", "price_to", "fuel", "state", "sort", "offset")


class FormError(InvalidInput):
    """A field of the form that cannot be used: `field` is its name, `kind` what it takes."""

    def __init__(self, field: str, kind: str) -> None:
        super().__init__(field, f"{field} must be {kind}")
        self.kind = kind


@dataclass(frozen=True)
class StockForm:
    """The form as sent (text), for showing it again."""

    values: dict[str, str]

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> StockForm:
        values = {}
        for name in FIELDS:
            raw = params.get(name, "")
            values[name] = (raw if isinstance(raw, str) else "").strip()
        return cls(values)


def _whole(form: StockForm, name: str) -> int | None:
    text = form.values[name].replace(" ", "")
    if not text:
        return None
    if not is_whole_number(text) or int(text) > LARGEST:
        raise FormError(name, "number")
    return int(text)


def _choice(form: StockForm, name: str, allowed: tuple[Any, ...]) -> str | None:
    text = form.values[name]
    if text and text not in allowed:
        raise FormError(name, "choice")
    return text or None


def api_parameters(form: StockForm) -> dict[str, Any]:
    """The form as the Autengo list's parameters (as qs decodes them); FormError names
    the first field that cannot be used."""
    conditions: dict[str, Any] = {}
    for name, field in (("make", "makeId"), ("model", "modelId")):
        value = _whole(form, name)
        if value is not None:
            conditions[field] = str(value)
    for name, field, op in (*RANGES, *PRICES):
        value = _whole(form, name)
        if value is not None:
            conditions.setdefault(field, []).append(f"{op}|{value}")
    for name, field, allowed in (("fuel", "fuelType", FUELS), ("state", "vehicleState", STATES)):
        key = _choice(form, name, allowed)
        if key is not None:
            conditions[field] = key
    params: dict[str, Any] = {"and": conditions} if conditions else {}
    order = SORTS.get(form.values["sort"] or "newest", ())
    if order == ():
        raise FormError("sort", "choice")
    if order:
        params["order"] = {"field": order[0], "dir": order[1]}
    offset = _whole(form, "offset")
    if offset:
        params["offset"] = str(offset)
    params["limit"] = str(PAGE)
    return params


def query_string(params: Mapping[str, Any]) -> str:
    """The parameters as the npm `qs` package writes them (brackets, no percent-encoding,
    as the vendor's document shows them)."""
    return str(encode(dict(params), EncodeOptions(encode=False, list_format=ListFormat.BRACKETS)))


def _row(vehicle: Values, region: str, fmt: Formats) -> dict[str, Any]:
    first = vehicle.get("firstRegistration")
    km, price = vehicle.get("kilometers"), vehicle.get("price")
    fuel, state = vehicle.get("fuelType"), vehicle.get("vehicleState")
    return {
        "selling_id": vehicle["sellingId"],
        "make": vehicle.get("makeName", ""),
        "model": vehicle.get("modelName", ""),
        "version": vehicle.get("modelVersion"),
        "first_registration": fmt.skeleton(first, "yMM") if first else None,
        "km": f"{fmt.number(km)} km" if km is not None else None,
        "price": fmt.money(price, region) if price is not None else None,
        "fuel": labels.label(fmt.language, "fuelType", fuel) if fuel else None,
        "state": labels.label(fmt.language, "vehicleState", state) if state else None,
    }


def _menus(makes: list[int], models: list[int]) -> dict[str, Any]:
    """The make and model menus, by name: the makes in stock, and the chosen make's models
    in stock (none before a make is chosen)."""
    known = [m for m in (reference.make_by_id(i) for i in makes) if m is not None]
    in_stock = set(models)
    return {
        "makes": sorted(((m.make_id, m.make_name) for m in known), key=lambda m: m[1]),
        "models": sorted(
            ((m.model_id, m.model_name) for make in known for m in make.models if m.model_id in in_stock),
            key=lambda m: m[1],
        ),
    }


def _make(raw: str) -> int | None:
    return int(raw) if is_whole_number(raw) and int(raw) <= LARGEST else None


@get("/stock", sync_to_thread=True)
def stock(request: Request[Any, Any, Any], current_user: UserDep, db: DbDep) -> Template:
    """The stock with the filter form; a field that cannot be used comes back named (400)."""
    language = language_of(request)
    form = StockForm.of(request.query_params)
    error: FormError | None = None
    try:
        params = api_parameters(form)
    except FormError as exc:
        error, params = exc, {"limit": str(PAGE)}
    shown = query_string(params)
    # What the page shows is what runs: the string, decoded as the API decodes it.
    query = filters.parse(decode(shown))
    with db.read() as conn:
        account = accounts.require_account(conn, current_user.account_id)
        found = inventory.search(conn, current_user.account_id, query) if error is None else None
        makes, models = inventory.makes_and_models(conn, current_user.account_id, _make(form.values["make"]))
    filtered = any(form.values[name] for name in FIELDS if name not in ("sort", "offset"))
    return page(
        request,
        "stock.html",
        status=400 if error else 200,
        form=form.values,
        error=error,
        api_query=shown,
        filtered=filtered,
        total=found.total if found else 0,
        offset=query.offset,
        limit=query.limit,
        rows=[_row(v, account.region, formats(request)) for v in found.vehicles] if found else [],
        fuels=[(key, labels.label(language, "fuelType", key)) for key in FUELS],
        states=[(key, labels.label(language, "vehicleState", key)) for key in STATES],
        sorts=list(SORTS),
        paging=urlencode({k: v for k, v in form.values.items() if v and k != "offset"}),
        **_menus(makes, models),
    )


@get("/stock/models", sync_to_thread=True)
def model_menu(request: Request[Any, Any, Any], current_user: UserDep, db: DbDep) -> Template:
    """The model menu for the chosen make: htmx swaps it in when the make changes."""
    form = StockForm.of(request.query_params)
    with db.read() as conn:
        makes, models = inventory.makes_and_models(conn, current_user.account_id, _make(form.values["make"]))
    return page(request, "stock_models.html", form=form.values, error=None, **_menus(makes, models))


ROUTES = [stock, model_menu]
