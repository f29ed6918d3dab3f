"""Autengo vehicles: the list with its filter language, one vehicle, reference data,
filter values, and (our additions) writes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody

from forecourt.api.autengo.deps import ACCEPT_LANGUAGE, AccountDep, language
from forecourt.api.autengo.errors import ERRORS
from forecourt.api.autengo.query import LIST_PARAMETERS, VALUES_PARAMETERS, parameters
from forecourt.api.autengo.schemas import vehicle_out
from forecourt.api.deps import AppState
from forecourt.core.inventory import filters, reference
from forecourt.core.inventory import service as inventory
from forecourt.kit.errors import InvalidInput, NotFound
from forecourt.kit.text import is_whole_number

# The vendor's field is called `list`: named here, its annotation would mean the field.
Rows = list[dict[str, Any]]


class VehicleList(msgspec.Struct):
    total: int
    limit: int
    offset: int
    list: Rows


class VehicleEnvelope(msgspec.Struct):
    vehicle: dict[str, Any]


class ReferenceList(msgspec.Struct):
    total: int
    list: Rows


class Deleted(msgspec.Struct):
    status: str
    statusText: str


class VehiclesController(Controller):
    path = "/vehicle"
    tags = ["Autengo vehicles"]

    @get("/", sync_to_thread=True, **ERRORS.documented(401, parameters=(*LIST_PARAMETERS, ACCEPT_LANGUAGE)))
    def list_vehicles(
        self, request: Request[Any, Any, Any], state: AppState, account: AccountDep
    ) -> VehicleList:
        """`search`, `and[...]`, `or[...]`, `order[field]`/`order[dir]`, `offset`, `limit`
        (default 25, at most 100), as qs writes them. See docs/dialects/autengo.md."""
        query = filters.parse(parameters(request))
        with state.db.read() as conn:
            page = inventory.search(conn, account.id, query)
        return VehicleList(
            total=page.total,
            limit=page.limit,
            offset=page.offset,
            list=[vehicle_out(v, language(request)) for v in page.vehicles],
        )

    @get("/reference/make", sync_to_thread=False, **ERRORS.documented(401))
    def list_makes(self, account: AccountDep) -> ReferenceList:
        del account  # authenticated; reference data is the same for everyone
        makes = [{"makeId": m.make_id, "makeName": m.make_name} for m in reference.makes()]
        return ReferenceList(total=len(makes), list=makes)

    @get("/reference/make/{make_id:str}/model", sync_to_thread=False, **ERRORS.documented(401, 404))
    def list_models(self, account: AccountDep, make_id: FromPath[str]) -> ReferenceList:
        del account
        make = reference.make_by_id(int(make_id)) if is_whole_number(make_id) else None
        if make is None:
            raise NotFound(f"No make with id {make_id}")
        models = [{"modelId": m.model_id, "modelName": m.model_name} for m in make.models]
        return ReferenceList(total=len(models), list=models)

    @get("/filter/values", sync_to_thread=True, **ERRORS.documented(401, parameters=VALUES_PARAMETERS))
    def filter_values(
        self, request: Request[Any, Any, Any], state: AppState, account: AccountDep
    ) -> dict[str, list[Any]]:
        asked = parameters(request)
        unknown = sorted(set(asked) - {"fields"})
        if unknown:  # as the list does: a misspelt parameter is not silently ignored
            raise InvalidInput(unknown[0], f"{unknown[0]} is not a query parameter of the filter values")
        fields = asked.get("fields") or ["makeId"]
        with state.db.read() as conn:
            return inventory.filter_values(conn, account.id, fields if isinstance(fields, list) else [fields])

    @get(
        "/{selling_id:str}", sync_to_thread=True, **ERRORS.documented(401, 404, parameters=(ACCEPT_LANGUAGE,))
    )
    def get_vehicle(
        self, request: Request[Any, Any, Any], state: AppState, account: AccountDep, selling_id: FromPath[str]
    ) -> VehicleEnvelope:
        with state.db.read() as conn:
            return VehicleEnvelope(
                vehicle_out(inventory.get(conn, account.id, selling_id), language(request))
            )

    @post(
        "/",
        status_code=201,
        sync_to_thread=True,
        **ERRORS.documented(401, 413, parameters=(ACCEPT_LANGUAGE,)),
    )
    def create_vehicle(
        self,
        request: Request[Any, Any, Any],
        state: AppState,
        account: AccountDep,
        data: JSONBody[dict[str, Any]],
    ) -> VehicleEnvelope:
        """Forecourt's addition: add a vehicle to the stock (sellingId made unless given)."""
        with state.db.write() as conn:
            return VehicleEnvelope(vehicle_out(inventory.create(conn, account.id, data), language(request)))

    @put(
        "/{selling_id:str}",
        sync_to_thread=True,
        **ERRORS.documented(401, 404, 413, parameters=(ACCEPT_LANGUAGE,)),
    )
    def update_vehicle(
        self,
        request: Request[Any, Any, Any],
        state: AppState,
        account: AccountDep,
        selling_id: FromPath[str],
        data: JSONBody[dict[str, Any]],
    ) -> VehicleEnvelope:
        """Forecourt's addition: fields sent replace the stored ones, null clears one."""
        with state.db.write() as conn:
            return VehicleEnvelope(
                vehicle_out(inventory.update(conn, account.id, selling_id, data), language(request))
            )

    @delete("/{selling_id:str}", status_code=200, sync_to_thread=True, **ERRORS.documented(401, 404))
    def delete_vehicle(self, state: AppState, account: AccountDep, selling_id: FromPath[str]) -> Deleted:
        """Forecourt's addition: remove a vehicle from the stock."""
        with state.db.write() as conn:
            inventory.delete(conn, account.id, selling_id)
        return Deleted("success", "Vehicle deleted successfully")
