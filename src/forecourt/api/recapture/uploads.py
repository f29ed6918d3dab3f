"""Recapture uploads: queue a customer list (202), follow it, cancel it, read its errors."""

from __future__ import annotations

import hashlib
import traceback
from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath
from sqlalchemy.engine import Connection

from forecourt.api.bodies import SpooledBody, decode, mapped, spooled
from forecourt.api.deps import AppState
from forecourt.api.idempotency import answer_once
from forecourt.api.openapi import success
from forecourt.api.recapture.deps import AccountDep, IdempotencyKey, Limit, Offset, RegionDep
from forecourt.api.recapture.errors import ERRORS
from forecourt.api.recapture.schemas import (
    RowErrorListEnvelope,
    UploadBody,
    UploadEnvelope,
    row_error_out,
    upload_out,
)
from forecourt.config import Settings
from forecourt.core.accounts.schemas import Account
from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import UploadRequest
from forecourt.db.engine import Database
from forecourt.kit.clock import Clock
from forecourt.kit.vehicles import Region


def _stage(
    request: UploadRequest, account: Account, region: Region, settings: Settings, conn: Connection
) -> UploadEnvelope:
    upload = uploads.create(conn, account.id, region, request, settings.upload_chunk_rows)
    return UploadEnvelope(success=True, upload=upload_out(upload))


def _create(
    body: SpooledBody,
    db: Database,
    clock: Clock,
    settings: Settings,
    account: Account,
    region: Region,
    idempotency_key: str | None,
) -> Response[bytes]:
    with mapped(body) as buffer:
        # The customers stay raw slices of the mapped file until they are staged; every
        # reference to them must be gone before the mapping closes.
        produce = partial(_stage, decode(buffer, UploadRequest), account, region, settings)
        try:
            return answer_once(
                db,
                clock,
                account_id=account.id,
                key=idempotency_key,
                operation="recapture.upload",
                request_hash=hashlib.sha256(f"{region}:{body.sha256}".encode()).hexdigest(),
                ttl_hours=settings.idempotency_ttl_hours,
                status_code=202,
                produce=produce,
            )
        except BaseException as exc:
            # The traceback's frames hold slices of the mapping: drop them so it can close.
            traceback.clear_frames(exc.__traceback__)
            raise
        finally:
            del produce


class UploadsController(Controller):
    path = "/v2/recapture/upload"
    tags = ["Recapture"]

    @post(
        "/",
        status_code=202,
        **ERRORS.documented(
            401,
            422,
            body=UploadBody,
            responses=success(UploadEnvelope, 202, "Queued"),
        ),
    )
    async def create_upload(
        self,
        request: Request[Any, Any, Any],
        state: AppState,
        account: AccountDep,
        region: RegionDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[bytes]:
        async with spooled(request) as body:
            return await anyio.to_thread.run_sync(
                partial(
                    _create,
                    body,
                    state.db,
                    state.adapters.clock,
                    state.settings,
                    account,
                    region,
                    idempotency_key,
                )
            )

    @get("/{upload_id:str}", sync_to_thread=True, **ERRORS.documented(401, 403, 404))
    def get_upload(
        self, state: AppState, account: AccountDep, region: RegionDep, upload_id: FromPath[str]
    ) -> UploadEnvelope:
        with state.db.read() as conn:
            upload = uploads.get(conn, account.id, region, upload_id)
        return UploadEnvelope(success=True, upload=upload_out(upload))

    @delete("/{upload_id:str}", status_code=200, sync_to_thread=True, **ERRORS.documented(401, 403, 404))
    def cancel_upload(
        self, state: AppState, account: AccountDep, region: RegionDep, upload_id: FromPath[str]
    ) -> UploadEnvelope:
        with state.db.write() as conn:
            upload = uploads.cancel(conn, account.id, region, upload_id)
        return UploadEnvelope(success=True, upload=upload_out(upload))

    @get("/{upload_id:str}/errors", sync_to_thread=True, **ERRORS.documented(401, 403, 404))
    def upload_errors(
        self,
        state: AppState,
        account: AccountDep,
        region: RegionDep,
        upload_id: FromPath[str],
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> RowErrorListEnvelope:
        with state.db.read() as conn:
            page = uploads.errors(conn, account.id, region, upload_id, offset=offset, limit=limit)
        return RowErrorListEnvelope(
            success=True, total=page.total, errors=[row_error_out(e) for e in page.errors]
        )
