"""An upload's chunks validated a chunk ahead in a child process (core/uploads/pipeline.py):
the same customers and row errors as in one process, and none lost or written twice when
the child is killed or another worker moves the upload on. Real child processes; every
test runs on SQLite and, when FORECOURT_TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any
from uuid import UUID

import msgspec
import pytest
import sqlalchemy as sa

from forecourt import bootstrap
from forecourt.config import Settings
from forecourt.core.adapters import Adapters
from forecourt.core.uploads import pipeline
from forecourt.core.uploads import repository as upload_rows
from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import Upload, UploadRequest
from forecourt.core.uploads.tasks import run_chunk
from forecourt.db.engine import Database
from forecourt.db.models import tracked_customers, upload_errors
from tests.conftest import Tenant, make_tenant

CHUNK = 40
ROWS = 400  # ten chunks
BAD = {7, 95, 213, 399}  # rows (0-based) with no vehicle identity or a bad date
BOUNDED_WAIT = 60.0  # seconds; a safety net against hangs, never an assertion about speed


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pipeline is for two cores or more; these tests check it wherever they run.
    monkeypatch.setattr(pipeline, "usable_cores", lambda: 2)


def row(n: int) -> dict[str, Any]:
    if n in BAD:
        return {"external_id": f"E{n}"} if n % 2 else {"rego": f"B{n}", "state": "NSW", "sale_date": "soon"}
    customer: dict[str, Any] = {"rego": f"P{n:05d}", "state": "VIC", "external_id": f"E{n}"}
    if n % 3 == 0:
        customer |= {"vin": f"1HGCM82633A{n:06d}", "sale_date": f"2024-03-0{1 + n % 9}"}
    if n % 5 == 0:
        customer["additional_fields"] = {"name": f"Customer {n}", "visits": n}
    if n % 50 == 1:
        customer["rego"] = f"P{n - 1:05d}"  # the same vehicle as the row before: merged
    return customer


def stage(db: Database, tenant: Tenant) -> Upload:
    body = msgspec.json.encode({"customers": [row(n) for n in range(ROWS)]})
    with db.write() as conn:
        return uploads.create(
            conn, tenant.account.id, "au", msgspec.json.decode(body, type=UploadRequest), CHUNK
        )


def adapters(db: Database) -> Adapters:
    return bootstrap.adapters(Settings(), db)


def stored(
    db: Database, tenant: Tenant, upload_id: UUID
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The tenant's customers (without ids or timestamps) and the upload's row errors."""
    c = tracked_customers.c
    with db.read() as conn:
        customers = conn.execute(
            sa.select(
                c.rego, c.state, c.vin, c.external_id, c.sale_date, c.monitor_start_date, c.additional_fields
            )
            .where(c.account_id == tenant.account.id)
            .order_by(c.external_id)
        ).all()
        e = upload_errors.c
        errors = conn.execute(
            sa.select(e.row_no, e.external_id, e.reason).where(e.upload_id == upload_id).order_by(e.row_no)
        ).all()
    return [tuple(r) for r in customers], [tuple(r) for r in errors]


def counters(db: Database, upload_id: UUID) -> tuple[str, int, int]:
    with db.read() as conn:
        found = upload_rows.get_by_id(conn, upload_id)
    assert found is not None
    return found.status, found.total_processed_customers, found.total_errors


def started(ahead: pipeline.Pipeline) -> pipeline.Pipeline:
    """The pipeline, once its child is up (started by the first long upload of this
    process; until then chunks are prepared in the job's process)."""
    deadline = time.monotonic() + BOUNDED_WAIT
    while not ahead.ready():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.01)
    return ahead


def run_in_process(db: Database, upload: Upload) -> None:
    while not run_chunk(db, adapters(db), upload.id):
        pass


def test_a_long_upload_is_validated_in_a_child_while_the_job_writes(db: Database, tenant: Tenant) -> None:
    upload = stage(db, tenant)
    with pipeline.opened(db, upload.id, pipeline_rows=1) as ahead:
        assert ahead is not None
        started(ahead)
        while not run_chunk(db, adapters(db), upload.id, ahead=ahead):
            pass
    # Every chunk but the first (validated here while the second was handed over) came from the child.
    assert ahead.prepared_ahead == ROWS // CHUNK - 1
    assert ahead.child_pid is not None and ahead.child_pid != os.getpid()

    alone = make_tenant(db, "In One Process")
    reference = stage(db, alone)
    run_in_process(db, reference)
    assert stored(db, tenant, upload.id) == stored(db, alone, reference.id)
    assert counters(db, upload.id) == counters(db, reference.id) == ("completed", ROWS, len(BAD))


def test_a_child_killed_mid_upload_loses_and_duplicates_nothing(db: Database, tenant: Tenant) -> None:
    upload = stage(db, tenant)
    with pipeline.opened(db, upload.id, pipeline_rows=1) as ahead:
        assert ahead is not None
        started(ahead)
        while ahead.child_pid is None:  # until the child has handed back a chunk
            assert not run_chunk(db, adapters(db), upload.id, ahead=ahead)
        os.kill(ahead.child_pid, signal.SIGKILL)  # while it holds (or has just done) the next chunk
        while not run_chunk(db, adapters(db), upload.id, ahead=ahead):
            pass
        assert ahead.child is None  # it noticed, and prepared the rest here
    assert ahead.prepared_ahead < ROWS // CHUNK - 1

    customers, errors = stored(db, tenant, upload.id)
    merged = sum(1 for n in range(ROWS) if n % 50 == 1 and n - 1 not in BAD)
    assert len(customers) == len({c[3] for c in customers}) == ROWS - len(BAD) - merged
    assert [e[0] for e in errors] == sorted(n + 1 for n in BAD)
    assert counters(db, upload.id) == ("completed", ROWS, len(BAD))


def test_a_chunk_prepared_ahead_is_dropped_when_another_worker_wrote_it(db: Database, tenant: Tenant) -> None:
    upload = stage(db, tenant)
    with pipeline.opened(db, upload.id, pipeline_rows=1) as ahead:
        assert ahead is not None
        started(ahead)
        assert not run_chunk(db, adapters(db), upload.id, ahead=ahead)  # chunk 0; chunk 1 handed over
        assert not run_chunk(db, adapters(db), upload.id)  # another worker writes chunk 1
        while not run_chunk(db, adapters(db), upload.id, ahead=ahead):
            pass
    alone = make_tenant(db, "In One Process")
    reference = stage(db, alone)
    run_in_process(db, reference)
    assert stored(db, tenant, upload.id) == stored(db, alone, reference.id)
    assert counters(db, upload.id) == ("completed", ROWS, len(BAD))


@pytest.mark.parametrize(
    ("rows", "threshold", "cores", "used"),
    [
        (ROWS, 1, 2, True),
        (ROWS, ROWS + 1, 2, False),  # shorter than FORECOURT_UPLOAD_PIPELINE_ROWS
        (ROWS, 0, 2, False),  # turned off
        (ROWS, 1, 1, False),  # one core: nothing to overlap with
        (CHUNK, 1, 2, False),  # one chunk: nothing to prepare ahead
    ],
)
def test_the_pipeline_is_used_only_where_it_pays(
    db: Database,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    rows: int,
    threshold: int,
    cores: int,
    used: bool,
) -> None:
    monkeypatch.setattr(pipeline, "usable_cores", lambda: cores)
    body = msgspec.json.encode({"customers": [row(n) for n in range(rows)]})
    with db.write() as conn:
        upload = uploads.create(
            conn, tenant.account.id, "au", msgspec.json.decode(body, type=UploadRequest), CHUNK
        )
    with pipeline.opened(db, upload.id, threshold) as ahead:
        assert (ahead is not None) == used


ORPHAN_SCRIPT = """
import time
from forecourt.core.uploads import pipeline
print(pipeline.shared_child().started.result(timeout=60), flush=True)
time.sleep(600)
"""


def test_the_child_exits_when_the_jobs_process_is_killed() -> None:
    with subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True) as parent:
        try:
            assert parent.stdout is not None
            child = int(parent.stdout.readline())
            assert child != parent.pid and gone(child) is False
        finally:
            parent.kill()  # kill -9: no clean-up of its own
    deadline = time.monotonic() + BOUNDED_WAIT
    while not gone(child):
        assert time.monotonic() < deadline, f"the child {child} outlived its parent"
        time.sleep(0.05)


def gone(pid: int) -> bool:
    """Exited (a zombie waiting for whoever adopted it counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
