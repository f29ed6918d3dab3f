"""Operator endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

import sqlalchemy as sa
from litestar import MediaType, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from forecourt.api.deps import DbDep
from forecourt.api.errors import RETRY_AFTER_SECONDS, PlainError
from forecourt.api.openapi import Errors, success
from forecourt.db import migrate

# Requests by route template and status, and a latency histogram, under forecourt_*.
prometheus = PrometheusConfig(app_name="forecourt", prefix="forecourt", group_path=True)


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
def healthz(db: DbDep) -> Response[Any]:
    """Liveness: 200 when the database answers, 503 otherwise."""
    if db.ping():
        return Response({"status": "ok"}, media_type=MediaType.JSON)
    return Response(
        {"status": "unavailable"},
        status_code=503,
        media_type=MediaType.JSON,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@get("/readyz", sync_to_thread=True, tags=["Operations"], **_documented("Ready"))
def readyz(db: DbDep) -> Response[Any]:
    """Readiness: 200 when the database answers with the schema this code needs and takes
    writes; 503 with the reason otherwise (send no traffic here until it is 200)."""
    try:
        with db.engine.connect() as conn:  # one connection for both questions
            if not migrate.at_head(conn):
                reason = "the database schema is not current: run `forecourt db upgrade`"
            elif not db.writable(conn):
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
