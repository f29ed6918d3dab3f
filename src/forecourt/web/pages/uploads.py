"""Uploads: a customer file sent from the browser, previewed with its column mapping,
then followed live to the end, with its errors (and a CSV of them).

The file is read by the CLI's readers (core/uploads/files.py) and kept server-side as
a draft (core/uploads: stage_draft), so the confirm may reach any process; confirming
makes a Recapture upload (confirm_draft), processed by the worker like any other.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.adapters import Adapters
from forecourt.core.uploads import files
from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import (
    COMPLETED,
    FINISHED,
    DraftOptions,
    Upload,
    UploadForbidden,
    UploadNotFound,
)
from forecourt.core.users.schemas import User
from forecourt.db.engine import Database
from forecourt.kit.errors import InvalidInput
from forecourt.kit.vehicles import Region, parse_region
from forecourt.web import live, paging
from forecourt.web.format import Formats
from forecourt.web.views import AdaptersDep, DbDep, Form, SettingsDep, UserDep, formats, page, redirect

PAGE_SIZE = 25
ERRORS_PAGE_SIZE = 50
CSV_BATCH = 500
# The form takes files up to this size (larger lists go through the API or the CLI).
# Litestar spools a multipart file to disk past 1 MB; a 100k-row CSV is about 10 MB.
MAX_FILE_BYTES = 100 * 1024 * 1024


def _region(conn: Any, user: User) -> Region:
    """The account's region: its uploads are the account's in that region (read in the
    view's own transaction)."""
    return parse_region(accounts.require_account(conn, user.account_id).region)


def _percent(upload: Upload) -> int:
    if upload.status == COMPLETED:
        return 100
    total = upload.total_uploaded_customers
    return min(100, upload.total_processed_customers * 100 // total) if total else 0


def _shown(upload: Upload, fmt: Formats) -> dict[str, Any]:
    """An upload as the templates show it (its times in UTC: uploads are the API's)."""
    return {
        "id": str(upload.id),
        "name": upload.name or str(upload.id),
        "status": upload.status,
        "finished": upload.status in FINISHED,
        "created": fmt.when(upload.created_at) + " UTC" if upload.created_at else "",
        "total": upload.total_uploaded_customers,
        "processed": upload.total_processed_customers,
        "errors": upload.total_errors,
        "total_text": fmt.number(upload.total_uploaded_customers),
        "processed_text": fmt.number(upload.total_processed_customers),
        "errors_text": fmt.number(upload.total_errors),
        "percent": _percent(upload),
    }


def _list_page(
    request: Request[Any, Any, Any],
    db: Database,
    user: User,
    *,
    number: int = 1,
    error: str | None = None,
    status: int = 200,
    file_error: str | None = None,
    file_message: str | None = None,
) -> Template:
    with db.read() as conn:
        found = uploads.list_page(
            conn, user.account_id, _region(conn, user), offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    fmt = formats(request)
    return page(
        request,
        "uploads.html",
        status=status,
        uploads=[_shown(u, fmt) for u in found.uploads],
        total=found.total,
        number=number,
        page_count=paging.page_count(found.total, PAGE_SIZE),
        error=error,
        max_megabytes=MAX_FILE_BYTES // (1024 * 1024),
        file_error=file_error,
        file_message=file_message,
    )


@get("/uploads", sync_to_thread=True)
def upload_list(request: Request[Any, Any, Any], current_user: UserDep, db: DbDep) -> Template:
    """The account's uploads, newest first, and the form to upload a file."""
    try:
        number = paging.page_number(request.query_params)
    except InvalidInput as exc:
        return _list_page(request, db, current_user, error=exc.message, status=400)
    return _list_page(request, db, current_user, number=number)


def _stage(db: Database, user: User, adapters: Adapters, file_name: str, body: bytes) -> UUID:
    with db.write() as conn:
        return uploads.stage_draft(
            conn, user.account_id, _region(conn, user), file_name, body, adapters.clock.now()
        ).id


@post("/uploads", request_max_body_size=MAX_FILE_BYTES)
async def upload_file(
    request: Request[Any, Any, Any], current_user: UserDep, db: DbDep, adapters: AdaptersDep
) -> Template | Redirect:
    """A file from the form (or dropped on the drop zone): read, kept as a draft, and
    shown as a preview. A file that cannot be read comes back with the reason (400)."""
    form = await request.form()
    try:
        sent = form.get("file")
        error, message = "no_file", None
        if isinstance(sent, UploadFile) and sent.filename:
            body = await sent.read()
            try:
                draft_id = await sync_to_thread(_stage, db, current_user, adapters, sent.filename, body)
            except InvalidInput as exc:
                error, message = "unreadable", exc.message
            else:
                return redirect(f"/uploads/drafts/{draft_id}")
    finally:
        await form.close()  # the spooled files go now, not when collected
    return await sync_to_thread(
        partial(_list_page, request, db, current_user, status=400, file_error=error, file_message=message)
    )


def _preview(
    request: Request[Any, Any, Any],
    db: Database,
    user: User,
    adapters: Adapters,
    draft_id: str,
    *,
    chosen: DraftOptions | None = None,
    error: str | None = None,
) -> Template:
    with db.read() as conn:
        draft = uploads.get_draft(conn, user.account_id, _region(conn, user), draft_id, adapters.clock.now())
    targets = chosen.targets if chosen and len(chosen.targets) == len(draft.columns) else draft.suggested
    return page(
        request,
        "upload_preview.html",
        status=400 if error else 200,
        draft=draft,
        row_count_text=formats(request).number(draft.row_count),
        columns=[
            (column, target, next((cells[n] for _, cells in draft.rows if cells[n]), ""))
            for n, (column, target) in enumerate(zip(draft.columns, targets, strict=True))
        ],
        fields=sorted(files.FIELDS),
        keep=files.KEEP,
        ignore=files.IGNORE,
        options=chosen or DraftOptions(targets=[], name=draft.file_name),
        error=error,
    )


@get("/uploads/drafts/{draft_id:str}", sync_to_thread=True)
def upload_preview(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    draft_id: FromPath[str],
) -> Template:
    """The file's first rows, a choice of field for each column, and the upload's options."""
    return _preview(request, db, current_user, adapters, draft_id)


@post("/uploads/drafts/{draft_id:str}", sync_to_thread=True)
def upload_confirm(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    draft_id: FromPath[str],
    data: Form,
) -> Template | Redirect:
    """The mapping confirmed: the upload is queued and its page follows it."""
    chosen = DraftOptions(
        targets=[data[f"column-{n}"] for n in range(_column_count(data))],
        name=data.get("name", "").strip() or None,
        enable_rego_lookups=data.get("enable_rego_lookups") == "on",
        monitor_start_date=data.get("monitor_start_date", "").strip() or None,
        monitor_end_date=data.get("monitor_end_date", "").strip() or None,
    )
    try:
        with db.write() as conn:
            upload = uploads.confirm_draft(
                conn,
                current_user.account_id,
                _region(conn, current_user),
                draft_id,
                chosen,
                settings.upload_chunk_rows,
                adapters.clock.now(),
            )
    except InvalidInput as exc:
        return _preview(request, db, current_user, adapters, draft_id, chosen=chosen, error=exc.message)
    return redirect(f"/uploads/{upload.id}")


def _column_count(form: dict[str, str]) -> int:
    count = 0
    while f"column-{count}" in form:
        count += 1
    return count


def _upload(db: Database, user: User, upload_id: str) -> tuple[Region, Upload]:
    """The account's upload, or 404: another account's upload is not found either."""
    try:
        with db.read() as conn:
            region = _region(conn, user)
            return region, uploads.get(conn, user.account_id, region, upload_id)
    except UploadForbidden:
        raise UploadNotFound("upload not found") from None


def _detail(
    request: Request[Any, Any, Any],
    db: Database,
    user: User,
    upload_id: str,
    now: datetime,
    settings: Settings | None = None,
) -> Template:
    """The upload's page, or with `settings` its live part, polled while the upload runs
    under the polling rule of web/live.py."""
    fragment = settings is not None
    try:
        number = paging.page_number(request.query_params)
        error = None
    except InvalidInput as exc:
        number, error = 1, exc.message
    opened = live.opened(request.query_params) if fragment else now
    paused = settings is not None and live.paused(opened, now, settings)
    region, upload = _upload(db, user, upload_id)
    with db.read() as conn:
        found = uploads.file_errors(
            conn,
            user.account_id,
            region,
            upload_id,
            offset=(number - 1) * ERRORS_PAGE_SIZE,
            limit=ERRORS_PAGE_SIZE,
        )
    polled = {"page": str(number)} if number > 1 else {}
    return page(
        request,
        "upload_live.html" if fragment else "upload.html",
        status=live.STOPPED if paused else 400 if error else 200,
        fragment=fragment,
        paused=paused,
        live_url=None
        if paused or upload.status in FINISHED
        else live.poll_url(f"/uploads/{upload.id}/progress", opened, polled),
        upload=_shown(upload, formats(request)),
        row_errors=found.errors,
        error_total=found.total,
        number=number,
        page_count=paging.page_count(found.total, ERRORS_PAGE_SIZE),
        error=error,
    )


@get("/uploads/{upload_id:str}", sync_to_thread=True)
def upload_detail(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    upload_id: FromPath[str],
) -> Template:
    """An upload: its progress (live while it runs), Cancel, and its errors."""
    return _detail(request, db, current_user, upload_id, adapters.clock.now())


@get("/uploads/{upload_id:str}/progress", sync_to_thread=True)
def upload_progress(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    upload_id: FromPath[str],
) -> Template:
    """The live part of the upload's page, polled by htmx every second until it is finished."""
    return _detail(request, db, current_user, upload_id, adapters.clock.now(), settings)


@post("/uploads/{upload_id:str}/cancel", sync_to_thread=True)
def upload_cancel(current_user: UserDep, db: DbDep, upload_id: FromPath[str]) -> Redirect:
    """Stop the upload; what was processed stays. Nothing more is created once this answers."""
    region, upload = _upload(db, current_user, upload_id)
    with db.write() as conn:
        uploads.cancel(conn, current_user.account_id, region, str(upload.id))
    return redirect(f"/uploads/{upload.id}")


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | int | None) -> str | int:
    """A cell a spreadsheet shows as text, never runs as a formula (a file's external id
    could start with `=`)."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return "" if value is None else value


def _error_rows(db: Database, user: User, region: Region, upload_id: str) -> Iterator[str]:
    """The CSV, a batch of errors at a time (never the whole list in memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "field", "external_id", "reason"])
    offset = 0
    while True:
        with db.read() as conn:
            found = uploads.file_errors(
                conn, user.account_id, region, upload_id, offset=offset, limit=CSV_BATCH
            )
        for e in found.errors:
            writer.writerow([e.row, _cell(e.field), _cell(e.external_id), _cell(e.reason)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        offset += CSV_BATCH
        if len(found.errors) < CSV_BATCH:
            return


@get("/uploads/{upload_id:str}/errors.csv", sync_to_thread=True)
def upload_errors_csv(current_user: UserDep, db: DbDep, upload_id: FromPath[str]) -> Stream:
    """Every error row of the upload as CSV: row, field, external_id, reason."""
    region, upload = _upload(db, current_user, upload_id)  # 404 before anything is sent
    return Stream(
        _error_rows(db, current_user, region, str(upload.id)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="upload-{upload.id}-errors.csv"',
            "Cache-Control": "no-store",
        },
    )


ROUTES = [
    upload_list,
    upload_file,
    upload_preview,
    upload_confirm,
    upload_detail,
    upload_progress,
    upload_cancel,
    upload_errors_csv,
]
