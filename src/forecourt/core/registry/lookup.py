"""The `file` registration lookup: registration data the operator loaded into Forecourt's
own database with `forecourt registry load`."""

from __future__ import annotations

from collections.abc import Sequence

from forecourt.core.registry import repository
from forecourt.db.engine import Database
from forecourt.providers.registration import Outcome, PlateNotFound, PlateQuery, registration


class FileLookup:
    name = "file"
    billable = True

    def __init__(self, db: Database) -> None:
        self.db = db

    def lookup_many(self, queries: Sequence[PlateQuery]) -> list[Outcome]:
        with self.db.read() as conn:
            found = repository.find_many(conn, ((q.plate, q.state or "") for q in queries))
        outcomes: list[Outcome] = []
        for q in queries:
            hit = found.get((q.plate, q.state or ""))
            outcomes.append(registration(*hit) if hit else PlateNotFound("plate not found in the registry"))
        return outcomes
