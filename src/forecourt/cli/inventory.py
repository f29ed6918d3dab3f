"""`forecourt inventory import FILE` and `forecourt demo`: vehicles into an account's
stock in the local database, batch by batch, each batch one transaction."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import msgspec

from forecourt.cli import progress
from forecourt.core.accounts.service import require_account
from forecourt.core.inventory import demo
from forecourt.core.inventory import service as inventory
from forecourt.db.engine import Database
from forecourt.kit.errors import InvalidInput

BATCH = 2000
Numbered = tuple[int, Any]


def _json_records(data: bytes) -> list[Any]:
    """A JSON array of vehicles, or a list answer of GET /v3/vehicle ({"list": [...]})."""
    try:
        decoded = msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("file", f"the file is not JSON: {exc}") from None
    records = decoded.get("list") if isinstance(decoded, dict) else decoded
    if not isinstance(records, list):
        raise InvalidInput("file", 'a JSON file must hold an array of vehicles or {"list": [...]}')
    return records


def _records(path: Path, file: IO[bytes], advance: progress.Advance) -> Iterator[Numbered]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = file.read()
        advance(len(data))
        yield from enumerate(_json_records(data), start=1)
    elif suffix == ".csv":
        # Row numbers as a spreadsheet shows them: the header is row 1, blank rows count.
        rows = csv.DictReader(progress.text_lines(progress.numbered_lines(file, advance)))
        for row in rows:
            yield rows.line_num, row
    else:  # JSON Lines
        for number, line in progress.numbered_lines(file, advance):
            if line.strip():
                try:
                    yield number, msgspec.json.decode(line)
                except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                    yield number, exc  # reported as that line's error


def import_records(
    db: Database, account_id: UUID, records: Iterable[Numbered], batch_size: int = BATCH
) -> inventory.ImportReport:
    with db.read() as conn:
        require_account(conn, account_id)
    report = inventory.ImportReport()
    numbered = iter(records)
    while batch := list(islice(numbered, batch_size)):
        broken = [(n, r) for n, r in batch if isinstance(r, Exception)]
        report.errors.extend(inventory.RecordError(n, "line", f"not JSON: {r}") for n, r in broken)
        with db.write() as conn:
            done = inventory.import_records(
                conn, account_id, [(n, r) for n, r in batch if not isinstance(r, Exception)]
            )
        report.created += done.created
        report.updated += done.updated
        report.errors.extend(done.errors)
    with db.autocommit() as conn:
        inventory.refresh_statistics(conn)
    return report


def import_file(
    db: Database, account_id: UUID, path: Path, batch_size: int = BATCH
) -> inventory.ImportReport:
    with path.open("rb") as file, progress.bar(as_bytes=True) as bar:
        task = bar.add_task(f"importing {path.name}", total=path.stat().st_size)
        records = _records(path, file, lambda n: bar.advance(task, n))
        return import_records(db, account_id, records, batch_size)


def fill_demo(db: Database, account_id: UUID, count: int, seed: int) -> inventory.ImportReport:
    with progress.bar() as bar:
        task = bar.add_task("generating stock", total=count)

        def counted() -> Iterator[Numbered]:
            for numbered in enumerate(demo.vehicles(count, seed), start=1):
                bar.advance(task)
                yield numbered

        return import_records(db, account_id, counted())
