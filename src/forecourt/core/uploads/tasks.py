"""The job that processes an upload, one chunk per transaction."""

from __future__ import annotations

from uuid import UUID

from forecourt.core.uploads import service
from forecourt.jobs.worker import JobContext, JobInterrupted, task
from forecourt.providers.registration import from_settings


@task(service.PROCESS_JOB)
def process_upload(ctx: JobContext) -> None:
    upload_id = UUID(ctx.job.payload["upload_id"])
    lookup = from_settings(ctx.settings, ctx.db)
    while True:
        if ctx.stopping:
            raise JobInterrupted  # between chunks: the next worker carries on from here
        with ctx.db.write() as conn:
            done = service.process_next_chunk(conn, upload_id, lookup)
        if done:
            return
        ctx.heartbeat()
