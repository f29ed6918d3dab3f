"""The Sync batch API: read the newest checks of up to 500 vehicles, submit a batch of
checks, follow a batch, list the resources."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from msgspec.structs import asdict

from forecourt.api.deps import AppState
from forecourt.api.openapi import success
from forecourt.api.sync.deps import AccountDep
from forecourt.api.sync.errors import ERRORS
from forecourt.api.sync.schemas import (
    BatchProgressOut,
    BatchSubmitted,
    ChecksRead,
    ResourceList,
    VehiclesBody,
    body_of,
    vehicles_of,
)
from forecourt.core.accounts.schemas import Account
from forecourt.core.checks import service as checks
from forecourt.core.checks.schemas import STATUSES, BatchProgress, Check
from forecourt.db.engine import Database
from forecourt.kit.dates import format_timestamp
from forecourt.kit.errors import NotFound
from forecourt.kit.text import camel_keys


def _info(check: Check) -> dict[str, Any]:
    info: dict[str, Any] = {
        "_id": f"{check.resource_id}-{check.vin}-{check.plate}",
        "plate": check.plate or None,
        "vin": check.vin or None,
        "resourceId": check.resource_id,
    }
    if check.status_id is not None:  # a check that failed has no status
        info["status"] = camel_keys(asdict(STATUSES[check.status_id]))
    else:
        info["error"] = check.error
    info |= {
        "result": check.result,
        "creationDateTime": format_timestamp(check.created_at),
        "finishedDateTime": format_timestamp(check.finished_at),
    }
    return info


async def _read(db: Database, account: Account, request: Request[Any, Any, Any]) -> dict[str, Any]:
    vehicles = vehicles_of(body_of(await request.body()))

    def read() -> dict[str, Any]:
        with db.read() as conn:
            found = checks.latest(conn, account.id, vehicles)
        return {
            "vehicleData": [
                {"vin": v.vin or None, "plate": v.plate or None, "info": [_info(c) for c in found[v]]}
                for v in found
            ]
        }

    result: dict[str, Any] = await anyio.to_thread.run_sync(read)
    return result


def _progress(batch: BatchProgress) -> dict[str, Any]:
    return {
        "batchId": str(batch.id),
        "status": "finished" if batch.finished_at else "processing",
        "vehicles": batch.vehicles,
        "checks": batch.checks,
        "pending": batch.pending,
        "done": batch.done,
        "failed": batch.failed,
        "creationDateTime": format_timestamp(batch.created_at),
        "finishedDateTime": format_timestamp(batch.finished_at),
    }


class ChecksController(Controller):
    path = "/api"
    tags = ["Sync batch checks"]

    @get(
        "/batch/scraping",
        status_code=200,
        **ERRORS.documented(401, body=VehiclesBody, responses=success(ChecksRead)),
    )
    async def read_batch(
        self, request: Request[Any, Any, Any], state: AppState, account: AccountDep
    ) -> dict[str, Any]:
        """The newest check of each resource for each vehicle of the JSON body (a GET
        with a body, as the vendor's); vehicles never checked are left out."""
        return await _read(state.db, account, request)

    @post(
        "/batch/scraping/query",
        status_code=200,
        **ERRORS.documented(401, body=VehiclesBody, responses=success(ChecksRead)),
    )
    async def query_batch(
        self, request: Request[Any, Any, Any], state: AppState, account: AccountDep
    ) -> dict[str, Any]:
        """The same read as POST, for clients and proxies that drop a GET's body."""
        return await _read(state.db, account, request)

    @post(
        "/batch/scraping",
        status_code=202,
        **ERRORS.documented(401, body=VehiclesBody, responses=success(BatchSubmitted, 202)),
    )
    async def submit_batch(
        self, request: Request[Any, Any, Any], state: AppState, account: AccountDep
    ) -> dict[str, Any]:
        """Queue a check of each vehicle by every resource the account uses."""
        vehicles = vehicles_of(body_of(await request.body()))

        def submit() -> dict[str, Any]:
            with state.db.write() as conn:
                batch, used = checks.submit_batch(
                    conn, account.id, account.region, vehicles, state.adapters.checkers
                )
            return _progress(batch) | {"resources": used}

        result: dict[str, Any] = await anyio.to_thread.run_sync(submit)
        return result

    @get(
        "/batch/{batch_id:str}",
        sync_to_thread=True,
        **ERRORS.documented(401, 404, responses=success(BatchProgressOut)),
    )
    def batch_progress(self, state: AppState, account: AccountDep, batch_id: FromPath[str]) -> dict[str, Any]:
        try:
            batch = UUID(batch_id)
        except ValueError:
            raise NotFound(f"No batch {batch_id}") from None
        with state.db.read() as conn:
            return _progress(checks.progress(conn, account.id, batch))

    @get("/resources", sync_to_thread=True, **ERRORS.documented(401, responses=success(ResourceList)))
    def list_resources(self, state: AppState, account: AccountDep) -> dict[str, Any]:
        """The resources this server runs, and whether the account uses each."""
        everything = state.adapters.checkers
        with state.db.read() as conn:
            using = {c.resource.key for c in checks.enabled(conn, account.id, everything)}
        return {
            "resources": [
                camel_keys(asdict(c.resource)) | {"enabled": c.resource.key in using} for c in everything
            ]
        }
