"""`forecourt listings ingest FILE`: a marketplace feed (JSONL or CSV) into the local
database, batch by batch, each batch stored and matched in one transaction."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import IO

from forecourt.cli import progress
from forecourt.core.listings import service as listings
from forecourt.core.listings.schemas import IngestReport
from forecourt.core.webhooks.schemas import EventRenderer
from forecourt.db.engine import Database

BATCH = 5000


def _records(path: Path, file: IO[bytes], advance: progress.Advance) -> Iterator[listings.Numbered]:
    lines = progress.numbered_lines(file, advance)
    if path.suffix.lower() == ".csv":
        yield from listings.from_rows(csv.DictReader(progress.text_lines(lines)))
    else:
        for number, line in lines:
            if line.strip():
                yield listings.decode_line(number, line)


def ingest_file(db: Database, render: EventRenderer, path: Path, batch_size: int = BATCH) -> IngestReport:
    report = IngestReport()
    with path.open("rb") as file, progress.bar(as_bytes=True) as bar:
        task = bar.add_task(f"ingesting {path.name}", total=path.stat().st_size)
        records = _records(path, file, lambda n: bar.advance(task, n))
        while batch := list(islice(records, batch_size)):
            with db.write() as conn:
                report.add(listings.ingest(conn, render, batch))
    return report
