"""Vehicle checks: the vehicles asked about validated, batches submitted as jobs (one
per resource), outcomes recorded, and the newest finished check of each vehicle read."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.engine import Connection

from forecourt.core.accounts.service import require_account
from forecourt.core.checks import repository
from forecourt.core.checks.repository import DONE, FAILED
from forecourt.core.checks.resources import Answer, Checker, Transient
from forecourt.core.checks.schemas import BatchNotFound, BatchProgress, Check, CheckedVehicle, Outcome
from forecourt.core.usage import repository as usage
from forecourt.jobs import queue
from forecourt.kit.dates import utcnow
from forecourt.kit.errors import InvalidInput, NotFound
from forecourt.kit.ids import new_id

RUN_JOB = "checks.run"
MAX_ATTEMPTS = 6  # a minute of retries (waits of 2, 4, 8, 16, 32 s) for a source that is down


def enabled(conn: Connection, account_id: UUID, checkers: Sequence[Checker]) -> list[Checker]:
    """The server's resources less those the account switched off."""
    off = repository.disabled(conn, account_id)
    return [c for c in checkers if c.resource.key not in off]


def switch(conn: Connection, account_id: UUID, key: str, on: bool, checkers: Sequence[Checker]) -> None:
    """Turn one of the server's resources on or off for an account."""
    require_account(conn, account_id)
    if key not in {c.resource.key for c in checkers}:
        known = ", ".join(c.resource.key for c in checkers)
        raise NotFound(f"No resource {key!r} on this server (it runs: {known})")
    repository.set_disabled(conn, account_id, key, off=not on)


def submit(
    conn: Connection,
    account_id: UUID,
    region: str,
    vehicles: Sequence[CheckedVehicle],
    checkers: Sequence[Checker],
) -> tuple[UUID, list[int]]:
    """A batch: a pending check per vehicle and resource that can check it (a VIN decoder
    is not asked about a bare plate), and a job per resource used; its id and those
    resources' ids."""
    pairs = [(c.resource.resource_id, v) for c in checkers for v in vehicles if c.can_check(region, v)]
    if not pairs:
        raise InvalidInput("vehicles", "No resource enabled for this account can check these vehicles")
    batch_id = new_id()
    repository.insert_batch(conn, batch_id, account_id, len(vehicles), pairs, utcnow())
    used = list(dict.fromkeys(r for r, _ in pairs))
    queue.enqueue_many(
        conn,
        RUN_JOB,
        [{"batch_id": str(batch_id), "resource_id": r} for r in used],
        max_attempts=MAX_ATTEMPTS,
    )
    return batch_id, used


def submit_batch(
    conn: Connection,
    account_id: UUID,
    region: str,
    vehicles: Sequence[CheckedVehicle],
    checkers: Sequence[Checker],
) -> tuple[BatchProgress, list[int]]:
    """A batch checked by every resource of the server's `checkers` that the account
    uses: its progress as queued, and the ids of the resources it uses."""
    batch_id, used = submit(conn, account_id, region, vehicles, enabled(conn, account_id, checkers))
    return progress(conn, account_id, batch_id), used


def progress(conn: Connection, account_id: UUID, batch_id: UUID) -> BatchProgress:
    found = repository.progress(conn, account_id, batch_id)
    if found is None:
        raise BatchNotFound(f"No batch {batch_id}")
    return found


def latest(
    conn: Connection, account_id: UUID, vehicles: Sequence[CheckedVehicle]
) -> dict[CheckedVehicle, list[Check]]:
    """Per vehicle that was ever checked, the newest finished check of each resource."""
    newest: dict[tuple[CheckedVehicle, int], Check] = {}
    for check in repository.finished_checks(conn, account_id, vehicles):
        key = (CheckedVehicle(check.vin, check.plate), check.resource_id)
        if key not in newest or (check.finished_at, check.id) > (newest[key].finished_at, newest[key].id):
            newest[key] = check
    found: dict[CheckedVehicle, list[Check]] = {}
    for (vehicle, _), check in sorted(newest.items(), key=lambda item: item[0][1]):
        found.setdefault(vehicle, []).append(check)
    return {v: found[v] for v in vehicles if v in found}


def record(
    conn: Connection,
    account_id: UUID,
    work: Sequence[tuple[int, CheckedVehicle]],
    answers: Sequence[Answer],
    last_try: bool,
    billed_as: str | None = None,
) -> list[str]:
    """Store the outcomes of a piece of work; those the source could not give now stay
    pending (unless this was the last try) and their reasons are returned. A paid
    source's lookups are counted against the account under `billed_as`."""
    now = utcnow()
    rows, later = [], []
    for (check_id, _), answer in zip(work, answers, strict=True):
        if isinstance(answer, Transient) and not last_try:
            later.append(answer.error)
            continue
        outcome = Outcome(None, [], answer.error) if isinstance(answer, Transient) else answer
        rows.append(
            {
                "id": check_id,
                "state": DONE if outcome.status_id is not None else FAILED,
                "status_id": outcome.status_id,
                "result": outcome.result,
                "error": outcome.error,
                "finished_at": now,
            }
        )
    repository.finish(conn, rows)
    if billed_as is not None:  # every lookup made costs, whatever it found
        made = sum(1 for _, v in work if v.plate)
        usage.add(conn, account_id, now.strftime("%Y-%m"), billed_as, made, len(later))
    return later


# --- The workspace's reads: a page of batches, a page of a batch's checks ---

MAX_PAGE = 100
MAX_OFFSET = 100_000


def _paging(offset: int, limit: int) -> None:
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput("offset", f"offset must be 0 to {MAX_OFFSET}")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit", f"limit must be 1 to {MAX_PAGE}")


def batches(
    conn: Connection, account_id: UUID, offset: int = 0, limit: int = 25
) -> tuple[list[BatchProgress], bool]:
    """A page of the account's batches with their progress, newest first; and whether
    more follow."""
    _paging(offset, limit)
    ids = repository.batch_ids(conn, account_id, offset, limit + 1)
    return repository.progress_of(conn, account_id, ids[:limit]), len(ids) > limit


def batch_checks(
    conn: Connection, account_id: UUID, batch_id: UUID, offset: int = 0, limit: int = 50
) -> tuple[BatchProgress, list[Check], bool]:
    """One of the account's batches: its progress and a page of its checks (by vehicle,
    then resource), and whether more follow. BatchNotFound for another account's."""
    _paging(offset, limit)
    batch = progress(conn, account_id, batch_id)
    found = repository.checks_of(conn, account_id, batch_id, offset, limit + 1)
    return batch, found[:limit], len(found) > limit
