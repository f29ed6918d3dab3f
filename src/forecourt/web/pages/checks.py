"""Checks: the account's Sync batches (vehicle checks by VIN or plate) with their
progress, and one batch's checks: per vehicle and resource, the status and what was
found."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from forecourt.core.checks import service as checks
from forecourt.core.checks.schemas import STATUSES, BatchNotFound, BatchProgress, Check
from forecourt.core.leads import service as leads
from forecourt.kit.errors import InvalidInput
from forecourt.kit.text import is_whole_number
from forecourt.web.views import AdaptersDep, DbDep, UserDep, language_of, page

BATCHES_PAGE = 25
CHECKS_PAGE = 50
SUMMARY_ITEMS = 6  # facts of a result shown in the table; the API has them all


def _offset(raw: str | None) -> int:
    if not raw:
        return 0
    if not is_whole_number(raw) or int(raw) > checks.MAX_OFFSET:
        raise InvalidInput("offset", f"offset must be a whole number up to {checks.MAX_OFFSET}")
    return int(raw)


class _When:
    """Times in the account's time zone, written for the person's language."""

    def __init__(self, time_zone: str, language: str) -> None:
        self.zone, self.language = ZoneInfo(time_zone), language

    def __call__(self, at: datetime | None) -> str | None:
        if at is None:
            return None
        return str(format_datetime(at.replace(tzinfo=UTC), "short", tzinfo=self.zone, locale=self.language))


def _batch(batch: BatchProgress, when: _When) -> dict[str, Any]:
    return {
        "id": batch.id,
        "vehicles": batch.vehicles,
        "checks": batch.checks,
        "pending": batch.pending,
        "done": batch.done,
        "failed": batch.failed,
        "finished": batch.finished_at is not None,
        "created": when(batch.created_at),
        "finished_at": when(batch.finished_at),
    }


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(_text, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def summary(result: list[dict[str, Any]]) -> list[str]:
    """What a check found, in a few words: the plain facts of its results (`key: value`),
    lists joined, nested objects left to the API."""
    facts = []
    for item in result:
        for key, value in item.items() if isinstance(item, dict) else ():
            if value is not None and not isinstance(value, dict) and not _nested(value):
                facts.append(f"{key}: {_text(value)}")
    return facts[:SUMMARY_ITEMS]


def _nested(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict | list) for item in value)


def _check(check: Check) -> dict[str, Any]:
    status = STATUSES.get(check.status_id) if check.status_id is not None else None
    return {
        "vin": check.vin,
        "plate": check.plate,
        "resource_id": check.resource_id,
        "state": "pending" if check.finished_at is None else "done" if status else "failed",
        "status": status.key if status else None,
        "status_text": status.description if status else None,
        "error": check.error,
        "summary": summary(check.result),
    }


@get("/checks", sync_to_thread=True)
def batch_list(request: Request[Any, Any, Any], current_user: UserDep, db: DbDep) -> Template:
    """The account's batches, newest first, a page at a time."""
    error: InvalidInput | None = None
    with db.read() as conn:
        when = _When(leads.settings(conn, current_user.account_id).time_zone, language_of(request))
        try:
            offset = _offset(request.query_params.get("offset"))
            found, more = checks.batches(conn, current_user.account_id, offset, BATCHES_PAGE)
        except InvalidInput as exc:
            error, offset, found, more = exc, 0, [], False
    return page(
        request,
        "checks.html",
        status=400 if error else 200,
        error=error,
        batches=[_batch(b, when) for b in found],
        offset=offset,
        limit=BATCHES_PAGE,
        more=more,
    )


@get("/checks/{batch_id:str}", sync_to_thread=True)
def batch_detail(
    request: Request[Any, Any, Any],
    current_user: UserDep,
    db: DbDep,
    adapters: AdaptersDep,
    batch_id: FromPath[str],
) -> Template:
    """One batch: its progress and its checks, by vehicle and resource."""
    try:
        batch_uuid = UUID(batch_id)
    except ValueError:
        raise BatchNotFound(f"No batch {batch_id}") from None
    error: InvalidInput | None = None
    try:
        offset = _offset(request.query_params.get("offset"))
    except InvalidInput as exc:  # the first page, saying the link was not right
        error, offset = exc, 0
    with db.read() as conn:
        when = _When(leads.settings(conn, current_user.account_id).time_zone, language_of(request))
        batch, found, more = checks.batch_checks(
            conn, current_user.account_id, batch_uuid, offset, CHECKS_PAGE
        )
    resources = {c.resource.resource_id: (c.resource.key, c.resource.description) for c in adapters.checkers}
    return page(
        request,
        "check_batch.html",
        status=400 if error else 200,
        error=error,
        batch=_batch(batch, when),
        checks=[_check(c) for c in found],
        resources=resources,
        offset=offset,
        limit=CHECKS_PAGE,
        more=more,
    )


ROUTES = [batch_list, batch_detail]
