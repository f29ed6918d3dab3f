"""Operator endpoints: health and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Response, get
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from forecourt.api.deps import DbDep

# Requests by route template and status, and a latency histogram, under forecourt_*.
prometheus = PrometheusConfig(app_name="forecourt", prefix="forecourt", group_path=True)


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


@get("/healthz", sync_to_thread=True, tags=["Operations"])
def healthz(db: DbDep) -> Response[Any]:
    """200 when the database answers, 503 otherwise."""
    if db.ping():
        return Response({"status": "ok"}, media_type=MediaType.JSON)
    return Response({"status": "unavailable"}, status_code=503, media_type=MediaType.JSON)
