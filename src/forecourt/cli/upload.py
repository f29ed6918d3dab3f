"""`forecourt upload FILE`: send a dealer's customer file and follow it to the end.

With `--server` it speaks the Recapture API like any client; without, it works on the
local database directly (and processes the upload itself).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec

from forecourt.cli import progress, remote
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.adapters import Adapters
from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import FINISHED, RowError, Upload, UploadRequest
from forecourt.core.uploads.tasks import run_chunk
from forecourt.db.engine import Database
from forecourt.kit.dates import format_timestamp
from forecourt.kit.vehicles import Region

POLL_SECONDS = 0.5
Follow = Callable[[], dict[str, Any]]


def _follow(step: Follow, total: int) -> dict[str, Any]:
    """Call `step` (which returns the upload) until the upload is finished, with a bar."""
    with progress.bar() as bar:
        task = bar.add_task("processing", total=total)
        while True:
            upload = step()
            bar.update(task, completed=upload["total_processed_customers"])
            if upload["status"] in FINISHED:
                return upload


def via_server(server: str, api_key: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
    params = {"region": region}
    with remote.client(server, {"ApiKey": api_key}) as client:

        def call(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            response = client.request(method, path, params={**params, **kwargs.pop("params", {})}, **kwargs)
            answer: dict[str, Any] = remote.checked(response, "message").json()
            return answer

        created = call("POST", "/v2/recapture/upload", json=body)["upload"]
        path = f"/v2/recapture/upload/{created['id']}"

        def step() -> dict[str, Any]:
            time.sleep(POLL_SECONDS)
            upload: dict[str, Any] = call("GET", path)["upload"]
            return upload

        upload = _follow(step, created["total_uploaded_customers"])
        errors: list[dict[str, Any]] = []
        while len(errors) < upload["total_errors"]:
            page = call("GET", f"{path}/errors", params={"offset": len(errors), "limit": 500})
            if not page["errors"]:
                break
            errors.extend(page["errors"])
    return {"upload": upload, "errors": errors}


def _upload(upload: Upload) -> dict[str, Any]:
    """An upload as the Recapture API shows it, so both modes print the same."""
    return {
        "id": str(upload.id),
        "created_at": format_timestamp(upload.created_at),
        "enable_rego_lookups": upload.enable_rego_lookups,
        "name": upload.name,
        "total_uploaded_customers": upload.total_uploaded_customers,
        "total_processed_customers": upload.total_processed_customers,
        "total_errors": upload.total_errors,
        "status": upload.status,
        "completed_at": format_timestamp(upload.completed_at),
    }


def _error(error: RowError) -> dict[str, Any]:
    return {"row": error.row, "external_id": error.external_id, "reason": error.reason}


def locally(
    settings: Settings, db: Database, adapters: Adapters, api_key: str, region: Region, body: dict[str, Any]
) -> dict[str, Any]:
    request = msgspec.json.decode(msgspec.json.encode(body), type=UploadRequest)
    with db.write() as conn:
        account = accounts.authenticate_api_key(conn, api_key)
        created = uploads.create(conn, account.id, region, request, settings.upload_chunk_rows)

    def step() -> dict[str, Any]:
        run_chunk(db, adapters, created.id)
        with db.read() as conn:
            return _upload(uploads.get(conn, account.id, region, str(created.id)))

    upload = _follow(step, created.total_uploaded_customers)
    errors: list[dict[str, Any]] = []
    with db.read() as conn:
        while len(errors) < upload["total_errors"]:
            page = uploads.errors(conn, account.id, region, str(created.id), offset=len(errors), limit=500)
            errors.extend(_error(e) for e in page.errors)
    return {"upload": upload, "errors": errors}
