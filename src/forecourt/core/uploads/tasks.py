"""The job that processes an upload, one chunk per write transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.adapters import Adapters, Context
from forecourt.core.uploads import pipeline, service
from forecourt.db.engine import Database
from forecourt.jobs.worker import JobInterrupted, task


def _give_up(conn: Connection, payload: dict[str, Any]) -> None:
    # Clients polling the upload see `failed` instead of waiting forever.
    service.fail(conn, UUID(payload["upload_id"]))


@task(service.PROCESS_JOB, give_up=_give_up)
def process_upload(ctx: Context) -> None:
    upload_id = UUID(ctx.job.payload["upload_id"])
    with pipeline.opened(ctx.db, upload_id, ctx.adapters.upload_pipeline_rows) as ahead:
        while True:
            if ctx.stopping:
                raise JobInterrupted  # between chunks: the next worker carries on from here
            if run_chunk(ctx.db, ctx.adapters, upload_id, ctx.heartbeat, ahead):
                return  # done, or the lease was lost and another worker carries on
            if ctx.turn_over():
                raise JobInterrupted  # a chunk at least each turn; taken up again after the others


def run_chunk(
    db: Database,
    adapters: Adapters,
    upload_id: UUID,
    heartbeat: Callable[[Connection], bool] | None = None,
    ahead: pipeline.Pipeline | None = None,
) -> bool:
    """Process the upload's next chunk: validate and look up outside any write lock (an
    outside lookup service may be slow), then write it, and the job's `heartbeat`, in one
    short transaction. True when there is nothing more to do here: the upload is done,
    or the heartbeat says the lease went to another worker. With a pipeline (`ahead`),
    the chunk was validated in its child while the previous one was written."""
    if ahead is not None:
        chunk = ahead.next_chunk()
    else:
        with db.read() as conn:
            chunk = service.prepare_chunk(conn, upload_id)
    if chunk is None:
        return True
    chunk = service.look_up(chunk, adapters.lookup)
    with db.write() as conn:
        return service.apply_chunk(conn, adapters.event_body, chunk) or (
            heartbeat is not None and not heartbeat(conn)
        )
