"""Customer-list uploads: accept at once, process in chunks, cancel between chunks.

Guarantees (DESIGN.md, Background work): the request stores the list durably before it
is acknowledged; each chunk's customers, row errors and the counters are written in one
transaction, under a lock on the upload, so a crashed or duplicated worker never
double-counts or duplicates, and a cancel that has answered is never followed by writes.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from uuid import UUID

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.customers import service as customers
from forecourt.core.customers.schemas import Batch, CustomerFields, VehicleRecord
from forecourt.core.uploads import repository
from forecourt.core.uploads.schemas import (
    CANCELLED,
    FINISHED,
    QUEUED,
    EmptyUpload,
    RowError,
    RowErrorPage,
    Upload,
    UploadForbidden,
    UploadNotFound,
    UploadRequest,
)
from forecourt.core.webhooks.schemas import EventRenderer
from forecourt.jobs import queue
from forecourt.kit import paging
from forecourt.kit.dates import parse_date, utcnow
from forecourt.kit.errors import InvalidInput, invalid_from, not_theirs
from forecourt.kit.ids import new_id, parse_id
from forecourt.kit.text import check_no_nul
from forecourt.kit.vehicles import Region
from forecourt.providers.registration import RegistrationLookup

PROCESS_JOB = "uploads.process"
NAME_MAX = 255
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_any = msgspec.json.Decoder()
_customer = msgspec.json.Decoder(CustomerFields)
_customers = msgspec.json.Decoder(list[CustomerFields])


def create(
    conn: Connection, account_id: UUID, region: Region, request: UploadRequest, chunk_rows: int
) -> Upload:
    """Stage the list and queue its processing, in the caller's transaction."""
    if not request.customers:
        raise EmptyUpload("customers", "You must upload at least one customer")
    check_no_nul("name", request.name)
    if request.name is not None and len(request.name) > NAME_MAX:
        raise InvalidInput("name", f"name must be at most {NAME_MAX} characters")
    start = parse_date("monitor_start_date", request.monitor_start_date)
    end = parse_date("monitor_end_date", request.monitor_end_date)
    customers.check_window(start, end)
    upload = Upload(
        id=new_id(),
        account_id=account_id,
        region=region,
        name=request.name,
        enable_rego_lookups=request.enable_rego_lookups,
        monitor_start_date=start,
        monitor_end_date=end,
        status=QUEUED,
        chunk_size=chunk_rows,
        total_uploaded_customers=len(request.customers),
        total_processed_customers=0,
        total_errors=0,
        created_at=utcnow(),
        completed_at=None,
        cancelled_at=None,
    )
    repository.insert(conn, upload)
    rows = request.customers
    # A generator: one chunk's bytes in memory at a time, however long the list.
    repository.insert_chunks(
        conn,
        upload.id,
        (b"[" + b",".join(rows[i : i + chunk_rows]) + b"]" for i in range(0, len(rows), chunk_rows)),
    )
    queue.enqueue(conn, PROCESS_JOB, {"upload_id": str(upload.id)})
    return upload


def fail(conn: Connection, upload_id: UUID) -> None:
    """Give up on an upload whose processing failed every attempt: clients polling it
    see `failed` instead of waiting forever; what was processed stays."""
    repository.mark_failed(conn, upload_id)
    repository.delete_chunks(conn, upload_id)


def get(conn: Connection, account_id: UUID, region: Region, upload_id: str) -> Upload:
    parsed = parse_id(upload_id, UploadNotFound, "upload_id")
    upload = repository.get(conn, account_id, region, parsed)
    if upload is not None:
        return upload
    raise not_theirs(repository.owner_of(conn, parsed), account_id, "upload", UploadForbidden, UploadNotFound)


def cancel(conn: Connection, account_id: UUID, region: Region, upload_id: str) -> Upload:
    """Stop an upload. It waits for a chunk in progress (the lock), so once this returns
    nothing more is created from the upload."""
    upload = get(conn, account_id, region, upload_id)
    locked = repository.lock(conn, upload.id)
    if locked is None or locked.status in FINISHED:
        return locked or upload
    now = utcnow()
    repository.mark_cancelled(conn, upload.id, now)
    repository.delete_chunks(conn, upload.id)
    return msgspec.structs.replace(locked, status=CANCELLED, cancelled_at=now)


def errors(
    conn: Connection, account_id: UUID, region: Region, upload_id: str, *, offset: int, limit: int
) -> RowErrorPage:
    upload = get(conn, account_id, region, upload_id)
    offset, limit = paging.window(offset, limit)
    total, rows = repository.errors_page(conn, upload.id, offset=offset, limit=limit)
    return RowErrorPage(total=total, errors=rows)


def _external_id(raw: msgspec.Raw) -> str | None:
    try:
        value: Any = _any.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    external_id = value.get("external_id") if isinstance(value, dict) else None
    return _storable(external_id) if isinstance(external_id, str) else None


def _storable(external_id: str | None) -> str | None:
    """An external id as a row error can keep it, even the one that was refused."""
    return external_id.replace("\x00", "")[:255] if external_id else None


class _BadRow(NamedTuple):
    reason: str
    external_id: str | None


def _decode_rows(body: bytes) -> list[CustomerFields | _BadRow]:
    """The chunk's rows, decoded in one call when they are all well-formed (the usual
    case), else row by row so each bad row gets its own error. (The request only checked
    the envelope: a row's strings may hold bytes that are not UTF-8.)"""
    try:
        rows: list[CustomerFields | _BadRow] = list(_customers.decode(body))
    except (msgspec.ValidationError, UnicodeDecodeError):
        rows = []
        for raw in _raw_list.decode(body):
            try:
                rows.append(_customer.decode(raw))
            except msgspec.ValidationError as exc:
                reason = invalid_from(exc, default_field="customer").message
                rows.append(_BadRow(reason, _external_id(raw)))
            except UnicodeDecodeError:
                rows.append(_BadRow("customer: text that is not UTF-8", None))
    return rows


def _validate_rows(
    upload: Upload, body: bytes | None, first_row: int
) -> tuple[int, list[VehicleRecord], list[int], list[RowError]]:
    """How many rows the chunk has, its valid records with their row numbers, and the
    rows that are not valid."""
    decoded = _decode_rows(body) if body is not None else []
    window = (upload.monitor_start_date, upload.monitor_end_date)
    may_hold_nul = body is not None and b"\\u0000" in body
    records: list[VehicleRecord] = []
    row_numbers: list[int] = []
    failed: list[RowError] = []
    for row, fields in enumerate(decoded, start=first_row):
        if isinstance(fields, _BadRow):
            failed.append(RowError(row=row, external_id=fields.external_id, reason=fields.reason))
            continue
        try:
            records.append(
                customers.validate(fields, upload.region, default_window=window, may_hold_nul=may_hold_nul)
            )
            row_numbers.append(row)
        except InvalidInput as exc:
            failed.append(RowError(row=row, external_id=_storable(fields.external_id), reason=exc.message))
    return len(decoded), records, row_numbers, failed


class PreparedChunk(NamedTuple):
    """The next chunk of an upload, validated (and looked up) outside any write lock."""

    upload: Upload
    first_row: int  # the upload's cursor when prepared: applied only if still there
    chunk_no: int
    rows: int
    batch: Batch  # its valid rows' customers
    row_numbers: list[int]  # of each of those
    failed: list[RowError]


def prepare_chunk(conn: Connection, upload_id: UUID) -> PreparedChunk | None:
    """Read and validate the next chunk; None when the upload is finished or gone."""
    upload = repository.get_by_id(conn, upload_id)
    if upload is None or upload.status in FINISHED:
        return None
    first = upload.total_processed_customers
    chunk_no = first // upload.chunk_size
    body = repository.chunk_body(conn, upload.id, chunk_no)
    rows, records, row_numbers, failed = _validate_rows(upload, body, first + 1)
    return PreparedChunk(upload, first, chunk_no, rows, Batch(records), row_numbers, failed)


def look_up(chunk: PreparedChunk, lookup: RegistrationLookup) -> PreparedChunk:
    """Registration lookups for the chunk's rows, if the upload asked for them."""
    if not chunk.upload.enable_rego_lookups:
        return chunk
    batch = customers.look_up(chunk.batch, chunk.upload.region, lookup)
    assert batch.lookups is not None
    failed = chunk.failed + [
        RowError(row=chunk.row_numbers[i], external_id=batch.records[i].external_id, reason=reason)
        for i, reason in batch.lookups.failures.items()
    ]
    return chunk._replace(failed=sorted(failed, key=lambda e: e.row), batch=batch)


def apply_chunk(conn: Connection, render: EventRenderer, chunk: PreparedChunk) -> bool:
    """Write a prepared chunk: customers, row errors, usage and counters, under the
    upload's lock, unless a cancel or another worker got there first. True when the
    upload has nothing left to do."""
    upload = repository.lock(conn, chunk.upload.id)
    if upload is None or upload.status in FINISHED:
        return True
    if upload.total_processed_customers != chunk.first_row:
        return False  # another worker applied this chunk meanwhile; prepare the next one
    customers.apply(conn, render, upload.account_id, upload.region, chunk.batch, upload.id)
    repository.insert_errors(conn, upload.id, chunk.failed)
    repository.delete_chunks(conn, upload.id, up_to=chunk.chunk_no)
    processed = chunk.first_row + chunk.rows
    # No rows left to read means done, even if the counts disagree (nothing else could finish it).
    done = processed >= upload.total_uploaded_customers or chunk.rows == 0
    repository.advance(
        conn,
        upload.id,
        processed,
        upload.total_errors + len(chunk.failed),
        completed_at=utcnow() if done else None,
    )
    if done and upload.total_uploaded_customers >= customers.STATISTICS_AFTER:
        customers.refresh_statistics(conn)
    return done


IN_PROGRESS_SHOWN = 10


def in_progress(
    conn: Connection, account_id: UUID, region: Region, limit: int = IN_PROGRESS_SHOWN
) -> list[Upload]:
    """The account's uploads still queued or processing, oldest first, with their counters
    (the workspace's Today page)."""
    return repository.in_progress(conn, account_id, region, limit)
