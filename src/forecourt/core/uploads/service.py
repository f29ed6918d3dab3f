"""Customer-list uploads: accept at once, process in chunks, cancel between chunks.

Guarantees (DESIGN.md, Background work): the request stores the list durably before it
is acknowledged; each chunk's customers, row errors and the counters are written in one
transaction, under a lock on the upload, so a crashed or duplicated worker never
double-counts or duplicates, and a cancel that has answered is never followed by writes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

import msgspec
from sqlalchemy.engine import Connection

from forecourt.core.customers import service as customers
from forecourt.core.customers.schemas import Batch, CustomerFields, VehicleRecord
from forecourt.core.uploads import files, repository
from forecourt.core.uploads.schemas import (
    CANCELLED,
    FINISHED,
    QUEUED,
    Draft,
    DraftNotFound,
    DraftOptions,
    EmptyUpload,
    RowError,
    RowErrorPage,
    Upload,
    UploadForbidden,
    UploadNotFound,
    UploadPage,
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
    field: str | None


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
                invalid = invalid_from(exc, default_field="customer")
                rows.append(_BadRow(invalid.message, _external_id(raw), invalid.field))
            except UnicodeDecodeError:
                rows.append(_BadRow("customer: text that is not UTF-8", None, "customer"))
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
            failed.append(
                RowError(row=row, external_id=fields.external_id, reason=fields.reason, field=fields.field)
            )
            continue
        try:
            records.append(
                customers.validate(fields, upload.region, default_window=window, may_hold_nul=may_hold_nul)
            )
            row_numbers.append(row)
        except InvalidInput as exc:
            failed.append(
                RowError(
                    row=row, external_id=_storable(fields.external_id), reason=exc.message, field=exc.field
                )
            )
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


class RawChunk(NamedTuple):
    """A chunk as stored, to be validated (in this process or another: it pickles small)."""

    upload: Upload
    first_row: int  # the cursor it is to be applied at
    chunk_no: int
    body: bytes | None  # None: no such chunk (a cancel or another worker deleted it)


def unfinished(conn: Connection, upload_id: UUID) -> Upload | None:
    """The upload, unless it is finished or gone."""
    upload = repository.get_by_id(conn, upload_id)
    return None if upload is None or upload.status in FINISHED else upload


def chunk_at(conn: Connection, upload: Upload, first_row: int) -> RawChunk:
    """The stored chunk that starts at row `first_row` (0-based) of the upload."""
    chunk_no = first_row // upload.chunk_size
    return RawChunk(upload, first_row, chunk_no, repository.chunk_body(conn, upload.id, chunk_no))


def validate_chunk(raw: RawChunk) -> PreparedChunk:
    """Decode and validate a chunk: no database, so it may run in another process."""
    rows, records, row_numbers, failed = _validate_rows(raw.upload, raw.body, raw.first_row + 1)
    return PreparedChunk(raw.upload, raw.first_row, raw.chunk_no, rows, Batch(records), row_numbers, failed)


def prepare_chunk(conn: Connection, upload_id: UUID) -> PreparedChunk | None:
    """Read and validate the next chunk; None when the upload is finished or gone."""
    upload = unfinished(conn, upload_id)
    if upload is None:
        return None
    return validate_chunk(chunk_at(conn, upload, upload.total_processed_customers))


def look_up(chunk: PreparedChunk, lookup: RegistrationLookup) -> PreparedChunk:
    """Registration lookups for the chunk's rows, if the upload asked for them."""
    if not chunk.upload.enable_rego_lookups:
        return chunk
    batch = customers.look_up(chunk.batch, chunk.upload.region, lookup)
    assert batch.lookups is not None
    failed = chunk.failed + [
        RowError(
            row=chunk.row_numbers[i], external_id=batch.records[i].external_id, reason=reason, field="rego"
        )
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


# The workspace's uploads: a file is read and kept as a draft, shown with its first rows
# and a column mapping, and becomes an upload when the person confirms the mapping.

DRAFT_LIFETIME = timedelta(days=1)
PREVIEW_ROWS = 10
_NAME_CHARS = 120


class _Preview(msgspec.Struct):
    columns: list[str]
    rows: list[tuple[int, list[str]]]
    row_count: int


_preview = msgspec.json.Decoder(_Preview)
_row_numbers = msgspec.json.Decoder(list[int])


def list_page(conn: Connection, account_id: UUID, region: Region, *, offset: int, limit: int) -> UploadPage:
    """The account's uploads, newest first, a page at a time."""
    offset, limit = paging.window(offset, limit)
    total, found = repository.page(conn, account_id, region, offset=offset, limit=limit)
    return UploadPage(total=total, uploads=found)


def _safe_name(file_name: str) -> str:
    """The browser's file name, as a name without folders that a file system takes."""
    name = Path(file_name.replace("\\", "/").replace("\x00", "")).name.strip() or "file"
    suffix = Path(name).suffix[:10]
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - len(suffix)] + suffix


def stage_draft(
    conn: Connection, account_id: UUID, region: Region, file_name: str, body: bytes, now: datetime
) -> Draft:
    """Read a customer file (CSV, XLSX or JSON) and keep it as a draft of the account, for
    a day. InvalidInput when it cannot be read or holds no customers."""
    name = _safe_name(file_name)
    rows = files.read_rows(name, body)
    if not rows:
        raise EmptyUpload("file", f"{name}: the file holds no customers")
    columns = files.columns_of(rows)
    if not columns:
        raise InvalidInput("file", f"{name}: no columns found (the first row names them)")
    preview = _Preview(
        columns=columns,
        rows=[(n, [files.cell_text(row.get(c)) for c in columns]) for n, row in rows[:PREVIEW_ROWS]],
        row_count=len(rows),
    )
    repository.delete_expired_drafts(conn, now)
    draft_id = new_id()
    repository.insert_draft(
        conn,
        draft_id=draft_id,
        account_id=account_id,
        region=region,
        file_name=name,
        created_at=now,
        expires_at=now + DRAFT_LIFETIME,
        preview=msgspec.json.encode(preview),
        body=body,
    )
    return _draft(draft_id, name, now, now + DRAFT_LIFETIME, preview)


def _draft(draft_id: UUID, name: str, created: datetime, expires: datetime, preview: _Preview) -> Draft:
    return Draft(
        id=draft_id,
        file_name=name,
        created_at=created,
        expires_at=expires,
        columns=preview.columns,
        suggested=[files.default_target(c) for c in preview.columns],
        rows=preview.rows,
        row_count=preview.row_count,
    )


def get_draft(conn: Connection, account_id: UUID, region: Region, draft_id: str, now: datetime) -> Draft:
    """A draft of the account that has not expired, else DraftNotFound."""
    parsed = parse_id(draft_id, DraftNotFound, "draft_id")
    row = repository.draft(conn, account_id, region, parsed, now)
    if row is None:
        raise DraftNotFound("This file is no longer waiting: upload it again")
    return _draft(row.id, row.file_name, row.created_at, row.expires_at, _preview.decode(row.preview))


def check_mapping(columns: list[str], targets: list[str]) -> dict[str | None, str]:
    """The mapping the person chose, checked: a known target for every column, no
    customer field for two columns, and a column for the rego or the VIN."""
    if len(targets) != len(columns):
        raise InvalidInput("mapping", f"mapping: expected a choice for each of the {len(columns)} columns")
    chosen: dict[str, str] = {}
    for column, target in zip(columns, targets, strict=True):
        if target not in files.TARGETS:
            raise InvalidInput("mapping", f"mapping: {target!r} is not a customer field")
        if target in files.FIELDS:
            if target in chosen:
                raise InvalidInput(
                    "mapping", f"mapping: {target} is chosen for two columns, {chosen[target]} and {column}"
                )
            chosen[target] = column
    if "rego" not in chosen and "vin" not in chosen:
        raise InvalidInput("mapping", "mapping: choose the column that holds the rego or the VIN")
    return dict(zip(columns, targets, strict=True))


def confirm_draft(
    conn: Connection,
    account_id: UUID,
    region: Region,
    draft_id: str,
    options: DraftOptions,
    chunk_rows: int,
    now: datetime,
) -> Upload:
    """Turn a draft into an upload: its rows mapped as chosen, queued like any Recapture
    upload (`create`), the file's row numbers kept for the errors; the draft goes."""
    draft = get_draft(conn, account_id, region, draft_id, now)
    mapping = check_mapping(draft.columns, options.targets)
    body = repository.draft_body(conn, account_id, region, draft.id, now)
    assert body is not None  # read in this transaction, just after the draft
    customers, numbers = files.read_customers(draft.file_name, body, mapping)
    request = UploadRequest(
        customers=[msgspec.Raw(msgspec.json.encode(c)) for c in customers],
        name=options.name or draft.file_name,
        enable_rego_lookups=options.enable_rego_lookups,
        monitor_start_date=options.monitor_start_date or None,
        monitor_end_date=options.monitor_end_date or None,
    )
    upload = create(conn, account_id, region, request, chunk_rows)
    repository.insert_file(conn, upload.id, draft.file_name, msgspec.json.encode(numbers))
    repository.delete_draft(conn, account_id, draft.id)
    return upload


def file_errors(
    conn: Connection, account_id: UUID, region: Region, upload_id: str, *, offset: int, limit: int
) -> RowErrorPage:
    """An upload's row errors (`errors`), each naming the row of the file it came from
    when it came from a file (the header is row 1), as the CLI prints them."""
    found = errors(conn, account_id, region, upload_id, offset=offset, limit=limit)
    stored = repository.file_row_numbers(conn, parse_id(upload_id, UploadNotFound, "upload_id"))
    if stored is None or not found.errors:
        return found
    numbers = _row_numbers.decode(stored)
    return RowErrorPage(
        total=found.total,
        errors=[
            msgspec.structs.replace(e, row=numbers[e.row - 1]) if 0 < e.row <= len(numbers) else e
            for e in found.errors
        ],
    )


IN_PROGRESS_SHOWN = 10


def in_progress(
    conn: Connection, account_id: UUID, region: Region, limit: int = IN_PROGRESS_SHOWN
) -> list[Upload]:
    """The account's uploads still queued or processing, oldest first, with their counters
    (the workspace's Today page)."""
    return repository.in_progress(conn, account_id, region, limit)
