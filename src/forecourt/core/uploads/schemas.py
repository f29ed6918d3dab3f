"""Queued customer-list uploads: staged in chunks, processed by jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from forecourt.kit.errors import Forbidden, InvalidInput, NotFound
from forecourt.kit.vehicles import Region

UploadStatus = Literal["queued", "processing", "completed", "cancelled", "failed"]
QUEUED: UploadStatus = "queued"
PROCESSING: UploadStatus = "processing"
COMPLETED: UploadStatus = "completed"
CANCELLED: UploadStatus = "cancelled"
FAILED: UploadStatus = "failed"  # its job gave up (an unexpected error, every attempt)
FINISHED = (COMPLETED, CANCELLED, FAILED)


class EmptyUpload(InvalidInput):
    pass


class UploadNotFound(NotFound):
    pass


class UploadForbidden(Forbidden):
    pass


class UploadRequest(msgspec.Struct, kw_only=True):
    """The upload envelope as a client sends it; the customers stay raw JSON until a
    worker processes them, so a large list is never decoded in the request."""

    customers: list[msgspec.Raw]
    name: str | None = None
    enable_rego_lookups: bool = False
    monitor_start_date: str | None = None
    monitor_end_date: str | None = None


class Upload(msgspec.Struct, kw_only=True):
    id: UUID
    account_id: UUID
    region: Region
    name: str | None
    enable_rego_lookups: bool
    monitor_start_date: datetime | None
    monitor_end_date: datetime | None
    status: UploadStatus
    chunk_size: int
    total_uploaded_customers: int
    total_processed_customers: int
    total_errors: int
    created_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None


class RowError(msgspec.Struct, kw_only=True):
    row: int  # 1-based position in the uploaded list
    external_id: str | None
    reason: str
    field: str | None = None  # the field the reason is about, when one is named


class RowErrorPage(msgspec.Struct, kw_only=True):
    total: int
    errors: list[RowError]


class UploadPage(msgspec.Struct, kw_only=True):
    total: int
    uploads: list[Upload]


class DraftNotFound(NotFound):
    pass


class Draft(msgspec.Struct, kw_only=True):
    """A file uploaded in the workspace, read and waiting for its column mapping."""

    id: UUID
    file_name: str
    created_at: datetime
    expires_at: datetime
    columns: list[str]
    suggested: list[str]  # each column's target as the CLI would choose it (files.default_target)
    rows: list[tuple[int, list[str]]]  # the first rows: the file's row number, the cells as text
    row_count: int


class DraftOptions(msgspec.Struct, kw_only=True):
    """What the person chose on the preview: a target for each column (files.TARGETS), in
    the columns' order, and the upload's options (as the Recapture API takes them)."""

    targets: list[str]
    name: str | None = None
    enable_rego_lookups: bool = False
    monitor_start_date: str | None = None
    monitor_end_date: str | None = None
