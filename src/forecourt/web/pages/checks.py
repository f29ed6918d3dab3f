"""Checks: the account's Sync batches (vehicle checks by VIN or plate) with their
progress, and one batch's checks: per vehicle and resource, the status and what was
found."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from forecourt.core.checks import service as checks
from forecourt.core.checks.schemas import STATUSES, BatchProgress, Check
from forecourt.core.leads import service as leads
from forecourt.kit.errors import InvalidInput
from forecourt.web import paging
from forecourt.web.format import Formats
from forecourt.web.views import AdaptersDep, DbDep, UserDep, formats, page, path_id

BATCHES_PAGE = 25
CHECKS_PAGE = 50
SUMMARY_ITEMS = 6  # facts of a result shown in the table; the API has them all


def _batch(batch: BatchProgress, fmt: Formats) -> dict[str, Any]:
    return {
        "id": batch.id,
        "vehicles": batch.vehicles,
        "checks": batch.checks,
        "pending": batch.pending,
        "done": batch.done,
        "failed": batch.failed,
        "finished": batch.finished_at is not None,
        "created": fmt.when(batch.created_at, "short"),
        "finished_at": fmt.when(batch.finished_at, "short"),
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
        fmt = formats(request, leads.settings(conn, current_user.account_id).time_zone)
        try:
            offset = paging.offset(request.query_params, checks.MAX_OFFSET)
            found, more = checks.batches(conn, current_user.account_id, offset, BATCHES_PAGE)
        except InvalidInput as exc:
            error, offset, found, more = exc, 0, [], False
    return page(
        request,
        "checks.html",
        status=400 if error else 200,
        error=error,
        batches=[_batch(b, fmt) for b in found],
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
    batch_uuid = path_id(batch_id)
    error: InvalidInput | None = None
    try:
        offset = paging.offset(request.query_params, checks.MAX_OFFSET)
    except InvalidInput as exc:  # the first page, saying the link was not right
        error, offset = exc, 0
    with db.read() as conn:
        fmt = formats(request, leads.settings(conn, current_user.account_id).time_zone)
        batch, found, more = checks.batch_checks(
            conn, current_user.account_id, batch_uuid, offset, CHECKS_PAGE
        )
    resources = {c.resource.resource_id: (c.resource.key, c.resource.description) for c in adapters.checkers}
    return page(
        request,
        "check_batch.html",
        status=400 if error else 200,
        error=error,
        batch=_batch(batch, fmt),
        checks=[_check(c) for c in found],
        resources=resources,
        offset=offset,
        limit=CHECKS_PAGE,
        more=more,
    )


ROUTES = [batch_list, batch_detail]
