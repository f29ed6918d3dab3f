"""An upload's chunks validated one ahead, in a process of their own, while the job writes.

A chunk's per-row work (decode, validate, normalise: no database) runs in a child process
while the job writes the chunk before it, so that on two cores or more the two overlap.
Only the job reads and writes the database: the child is handed a chunk's stored bytes
and hands back its customers as msgpack (several times cheaper to cross the pipe than
pickled objects). A chunk prepared ahead is used only if the upload's cursor is where it
was predicted (`apply_chunk` checks it again, under the upload's lock), so a cancel or
another worker that moved the upload on just makes it dropped. One chunk ahead at most,
for memory. The child is the process's, kept from one upload to the next; until it is up
chunks are prepared in the job's process. If it dies, the chunk is prepared in the job's
process, and so is the rest of the upload: the child never wrote anything, so nothing is
lost or written twice."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import NamedTuple
from uuid import UUID

import msgspec

from forecourt.config import usable_cores
from forecourt.core.customers.schemas import Batch, VehicleRecord
from forecourt.core.uploads import service
from forecourt.core.uploads.schemas import RowError
from forecourt.db.engine import Database
from forecourt.kit import lifeline

log = logging.getLogger(__name__)


class _Prepared(msgspec.Struct, array_like=True):
    """What the writer needs of a validated chunk, as it crosses from the child."""

    pid: int  # the child's: tests and logs see which process prepared it
    rows: int
    records: list[VehicleRecord]
    row_numbers: list[int]
    failed: list[RowError]


_prepared = msgspec.msgpack.Decoder(_Prepared)


def _prepare(raw: service.RawChunk) -> bytes:
    """In the child: validate the chunk and encode the result."""
    chunk = service.validate_chunk(raw)
    return msgspec.msgpack.encode(
        _Prepared(os.getpid(), chunk.rows, chunk.batch.records, chunk.row_numbers, chunk.failed)
    )


def _child_setup(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the job, not its helper, decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The pool's queue never tells the child its parent is gone (it holds both ends of its
    # pipe): after a `kill -9` of the job's process it would wait for ever.
    lifeline.follow_parent(parent)


class _Child:
    """The process that prepares chunks: one per job-running process, started by its first
    long upload and kept for the next ones (its start, half a second of imports, or
    seconds on a busy machine, is paid once). Until it is up, chunks are prepared here."""

    def __init__(self) -> None:
        # Spawned, not forked: the job's process holds database connections and threads.
        self.pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_setup,
            initargs=(os.getpid(),),
        )
        self.started: Future[int] = self.pool.submit(os.getpid)
        self.broken = False

    def ready(self) -> bool:
        return not self.broken and self.started.done()

    def stop(self) -> None:
        self.broken = True
        self.pool.shutdown(wait=False, cancel_futures=True)


_child: _Child | None = None


def shared_child() -> _Child:
    """This process's child, started now if there is none (or it died)."""
    global _child
    if _child is None or _child.broken:
        _child = _Child()
    return _child


def stop_child() -> None:
    """Stop this process's child, if it has one, and wait for it (a fraction of a second).
    A process that multiprocessing started (a worker of `forecourt serve`) must call it
    before it ends: on the way out, multiprocessing waits for the process's children
    before concurrent.futures tells the pool's child to stop, so each would wait for the
    other forever."""
    global _child
    if _child is not None:
        _child.broken = True
        _child.pool.shutdown(wait=True, cancel_futures=True)
        _child = None


class _Ahead(NamedTuple):
    raw: service.RawChunk
    future: Future[bytes]


class Pipeline:
    """The upload's next chunks: the one to write now, and the following one being
    prepared in the child meanwhile."""

    def __init__(self, db: Database, upload_id: UUID) -> None:
        self.db = db
        self.upload_id = upload_id
        self.child: _Child | None = shared_child()  # None once it died under this upload
        self.ahead: _Ahead | None = None
        self.prepared_ahead = 0  # chunks the child prepared and the job used
        self.child_pid: int | None = None  # the child's process id, once it prepared one

    def ready(self) -> bool:
        """Whether the child is up, taking chunks."""
        return self.child is not None and self.child.ready()

    def next_chunk(self) -> service.PreparedChunk | None:
        """The chunk at the upload's cursor, validated; None when the upload is finished
        or gone. Before it is validated (here, if the child did not), the chunk after it
        is handed to the child."""
        ahead, self.ahead = self.ahead, None
        with self.db.read() as conn:
            upload = service.unfinished(conn, self.upload_id)
            if upload is None:
                return None
            first = upload.total_processed_customers
            if ahead is None or ahead.raw.first_row != first:
                ahead = None  # nothing ahead, or the upload moved on without us: drop it
                raw = service.chunk_at(conn, upload, first)
            else:
                raw = ahead.raw
            following = first + upload.chunk_size
            if following < upload.total_uploaded_customers and self.ready():
                self._submit(service.chunk_at(conn, upload, following))
        chunk = self._result(ahead) if ahead is not None else service.validate_chunk(raw)
        return chunk._replace(upload=upload)  # with today's counters, not the prediction's

    def _submit(self, raw: service.RawChunk) -> None:
        assert self.child is not None
        try:
            self.ahead = _Ahead(raw, self.child.pool.submit(_prepare, raw))
        except BrokenProcessPool:
            self._lost()

    def _result(self, ahead: _Ahead) -> service.PreparedChunk:
        try:
            prepared = _prepared.decode(ahead.future.result())
        except BrokenProcessPool:
            self._lost()
            return service.validate_chunk(ahead.raw)
        self.prepared_ahead += 1
        self.child_pid = prepared.pid
        raw = ahead.raw
        return service.PreparedChunk(
            raw.upload,
            raw.first_row,
            raw.chunk_no,
            prepared.rows,
            Batch(prepared.records),
            prepared.row_numbers,
            prepared.failed,
        )

    def _lost(self) -> None:
        log.warning(
            "upload %s: the process preparing its chunks stopped; preparing them here", self.upload_id
        )
        if self.child is not None:
            self.child.stop()  # the next long upload starts another
        self.child = None
        self.ahead = None

    def close(self) -> None:
        """Drop a chunk prepared ahead and not used (a cancel, SIGTERM, the end)."""
        if self.ahead is not None:
            self.ahead.future.cancel()
            self.ahead = None


def worth_it(total_rows: int, chunk_rows: int, pipeline_rows: int) -> bool:
    """A child pays off for an upload of several chunks, at least `pipeline_rows` long
    (its start, about half a second of imports, is paid once), on two cores or more."""
    return 0 < pipeline_rows <= total_rows and total_rows > chunk_rows and usable_cores() > 1


@contextmanager
def opened(db: Database, upload_id: UUID, pipeline_rows: int) -> Iterator[Pipeline | None]:
    """A pipeline for the upload when it is worth it (`worth_it`), else None; closed after."""
    with db.read() as conn:
        upload = service.unfinished(conn, upload_id)
    if upload is None or not worth_it(upload.total_uploaded_customers, upload.chunk_size, pipeline_rows):
        yield None
        return
    pipeline = Pipeline(db, upload_id)
    try:
        yield pipeline
    finally:
        pipeline.close()
