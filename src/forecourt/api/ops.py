"""Operator endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

import sqlalchemy as sa
from litestar import MediaType, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.prometheus import PrometheusController
from litestar.types import Scope
from prometheus_client import Counter, Gauge, Histogram

from forecourt.api.deps import AppState
from forecourt.api.errors import RETRY_AFTER_SECONDS, PlainError
from forecourt.api.openapi import Errors, success
from forecourt.db import migrate

# Requests by route template and status, and a latency histogram, under forecourt_*: the
# names, labels and help of Litestar's Prometheus middleware (`group_path`), recorded by
# the API's one wrapper (api/access.py) and the app's `before_request` instead of a
# middleware layer of their own. Requests no route took (404) are not counted.
_APP = "forecourt"
_LABELS = ("method", "path", "status_code", "app_name")
_REQUESTS = Counter("forecourt_requests_total", "Total requests", _LABELS)
_ERRORS = Counter("forecourt_requests_error_total", "Total errors in requests", _LABELS)
_DURATION = Histogram("forecourt_request_duration_seconds", "Request duration, in seconds", _LABELS)
_IN_PROGRESS = Gauge(
    "forecourt_requests_in_progress",
    "Total requests currently in progress",
    _LABELS,
    multiprocess_mode="livesum",
)
_COUNTED = "forecourt.in_progress"  # in the scope: the gauge's labels, once raised


def request_routed(request: Request[Any, Any, Any]) -> None:
    """A route took the request: it is in progress until `request_done`."""
    labels = (request.method, request.scope["path_template"], "200", _APP)
    request.scope[_COUNTED] = labels  # type: ignore[literal-required]
    _IN_PROGRESS.labels(*labels).inc()


def request_done(scope: Scope, method: str, status: int, seconds: float) -> None:
    in_progress: tuple[str, ...] | None = scope.get(_COUNTED)  # type: ignore[assignment]
    if in_progress is not None:
        _IN_PROGRESS.labels(*in_progress).dec()
    path = scope.get("path_template")
    if path is None:
        return
    labels = (method, path, str(status), _APP)
    if status >= 500:
        _ERRORS.labels(*labels).inc()
    _REQUESTS.labels(*labels).inc()
    _DURATION.labels(*labels).observe(seconds)


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


class _Health(TypedDict):
    status: Literal["ok", "ready", "unavailable"]


class Health(_Health, total=False):  # `NotRequired` would be lost to postponed annotations
    reason: str


ERRORS = Errors(PlainError)


def _documented(description: str) -> dict[str, Any]:
    return ERRORS.documented(
        responses={
            **success(Health, description=description),
            503: ResponseSpec(Health, description="Not now: try again after Retry-After seconds"),
        }
    )


@get("/healthz", sync_to_thread=True, tags=["Operations"], **_documented("Alive"))
def healthz(state: AppState) -> Response[Any]:
    """Liveness: 200 when the database answers, 503 otherwise."""
    if state.db.ping():
        return Response({"status": "ok"}, media_type=MediaType.JSON)
    return Response(
        {"status": "unavailable"},
        status_code=503,
        media_type=MediaType.JSON,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@get("/readyz", sync_to_thread=True, tags=["Operations"], **_documented("Ready"))
def readyz(state: AppState) -> Response[Any]:
    """Readiness: 200 when the database answers with the schema this code needs and takes
    writes; 503 with the reason otherwise (send no traffic here until it is 200)."""
    try:
        with state.db.engine.connect() as conn:  # one connection for both questions
            if not migrate.at_head(conn):
                reason = "the database schema is not current: run `forecourt db upgrade`"
            elif not state.db.writable(conn):
                reason = "the database is not writable"
            else:
                reason = None
    except sa.exc.SQLAlchemyError:
        reason = "the database is unreachable"
    if reason is None:
        return Response({"status": "ready"}, media_type=MediaType.JSON)
    return Response(
        {"status": "unavailable", "reason": reason},
        status_code=503,
        media_type=MediaType.JSON,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
