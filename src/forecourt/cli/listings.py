"""`forecourt listings ingest FILE`: a marketplace feed (JSONL or CSV), batch by batch,
each batch stored and matched in one transaction: in the local database, or with
`--server` through a running Forecourt's ingest API, like any feed."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO

import msgspec

from forecourt.cli import progress, remote
from forecourt.core.listings import service as listings
from forecourt.core.listings.schemas import IngestReport, ListingFields
from forecourt.core.webhooks.schemas import EventRenderer
from forecourt.db.engine import Database
from forecourt.kit import collector

BATCH = 5000


def _records(path: Path, file: IO[bytes], advance: progress.Advance) -> Iterator[listings.Numbered]:
    lines = progress.numbered_lines(file, advance)
    if path.suffix.lower() == ".csv":
        yield from listings.from_rows(csv.DictReader(progress.text_lines(lines)))
    else:
        for number, line in lines:
            if line.strip():
                yield listings.decode_line(number, line)


Ingest = Callable[[list[listings.Numbered]], IngestReport]


def _in_batches(path: Path, batch_size: int, ingest: Ingest) -> IngestReport:
    report = IngestReport()
    with path.open("rb") as file, progress.bar(as_bytes=True) as bar:
        task = bar.add_task(f"ingesting {path.name}", total=path.stat().st_size)
        records = _records(path, file, lambda n: bar.advance(task, n))
        while batch := list(islice(records, batch_size)):
            report.add(ingest(batch))
    return report


def ingest_file(db: Database, render: EventRenderer, path: Path, batch_size: int = BATCH) -> IngestReport:
    def ingest(batch: list[listings.Numbered]) -> IngestReport:
        with collector.paused(), db.write() as conn:
            return listings.ingest(conn, render, batch)

    return _in_batches(path, batch_size, ingest)


def via_server(server: str, ingest_key: str, path: Path, batch_size: int = BATCH) -> IngestReport:
    """Each batch as a JSON array to /ingest/v1/listings; the records that could not be read
    are reported here, and the server's rows are turned back into the file's."""
    with remote.client(server, {"Authorization": f"Bearer {ingest_key}"}) as client:

        def ingest(batch: list[listings.Numbered]) -> IngestReport:
            read = [(row, item) for row, item in batch if isinstance(item, ListingFields)]
            response = client.post("/ingest/v1/listings", content=msgspec.json.encode([f for _, f in read]))
            report = msgspec.json.decode(remote.checked(response, "error").content, type=IngestReport)
            for error in report.errors:
                error.row = read[error.row - 1][0]
            unread = [error for _, item in batch if not isinstance(item, ListingFields) for error in item]
            report.received += len(batch) - len(read)
            report.rejected += len(batch) - len(read)  # each unread record has its error(s)
            report.errors = sorted([*report.errors, *unread], key=lambda error: error.row)
            return report

        return _in_batches(path, batch_size, ingest)
