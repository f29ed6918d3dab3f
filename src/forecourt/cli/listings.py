"""`forecourt listings ingest FILE`: a marketplace feed (JSONL or CSV) into the local
database, batch by batch, each batch stored and matched in one transaction."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import IO

from forecourt.cli import progress
from forecourt.core.errors import InvalidInput
from forecourt.core.listings import service as listings
from forecourt.core.listings.schemas import IngestReport
from forecourt.db.engine import Database

BATCH = 5000


def _lines(file: IO[bytes], advance: progress.Advance) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(file, start=1):
        advance(len(line))
        yield number, line


def _text(lines: Iterator[tuple[int, bytes]]) -> Iterator[str]:
    for number, line in lines:
        try:
            yield line.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("file", f"line {number} is not UTF-8; batches before it were stored") from None


def _records(path: Path, file: IO[bytes], advance: progress.Advance) -> Iterator[listings.Numbered]:
    lines = _lines(file, advance)
    if path.suffix.lower() == ".csv":
        yield from listings.from_rows(csv.DictReader(_text(lines)))
    else:
        for number, line in lines:
            if line.strip():
                yield listings.decode_line(number, line)


def ingest_file(db: Database, path: Path, batch_size: int = BATCH) -> IngestReport:
    report = IngestReport()
    with path.open("rb") as file, progress.bar(as_bytes=True) as bar:
        task = bar.add_task(f"ingesting {path.name}", total=path.stat().st_size)
        records = _records(path, file, lambda n: bar.advance(task, n))
        while batch := list(islice(records, batch_size)):
            with db.write() as conn:
                report.add(listings.ingest(conn, batch))
    return report
