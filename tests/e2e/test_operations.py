"""Operator endpoints: health, Prometheus metrics, API docs."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Tenant


def _sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample whose labels include `labels` (0 when absent)."""
    for line in metrics.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


def test_healthz_reports_the_database_reachable(http: httpx.Client) -> None:
    response = http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_metrics_count_requests_by_route_and_status(http: httpx.Client, tenant: Tenant) -> None:
    before = http.get("/metrics").text
    for _ in range(3):
        http.get("/v2/recapture/customers", params={"region": "au"}, headers={"ApiKey": tenant.api_key})
    http.get("/v2/recapture/customers/nope", params={"region": "au"}, headers={"ApiKey": tenant.api_key})

    after = http.get("/metrics")

    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain")
    route = {"method": "GET", "path": "/v2/recapture/customers", "status_code": "200"}
    assert (
        _sample(after.text, "forecourt_requests_total", **route)
        - _sample(before, "forecourt_requests_total", **route)
        == 3
    )
    by_id = {"path": "/v2/recapture/customers/{customer_id}", "status_code": "404"}
    assert (
        _sample(after.text, "forecourt_requests_total", **by_id)
        - _sample(before, "forecourt_requests_total", **by_id)
        == 1
    )
    latency_count = _sample(after.text, "forecourt_request_duration_seconds_count", **route)
    assert latency_count >= 3
    assert "forecourt_request_duration_seconds_bucket" in after.text


def test_openapi_document_lists_the_recapture_endpoints(http: httpx.Client) -> None:
    spec = http.get("/docs/openapi.json").json()

    paths = spec["paths"]
    assert {"get", "put"} <= set(paths["/v2/recapture/customers"])
    assert {"get", "patch", "delete"} <= set(paths["/v2/recapture/customers/{customer_id}"])
    assert http.get("/docs").status_code == 200


def test_unknown_route_under_a_dialect_gets_its_envelope(http: httpx.Client) -> None:
    response = http.get("/v2/recapture/nothing-here")

    assert response.status_code == 404
    assert response.json()["success"] is False
