"""Operator endpoints: health, Prometheus metrics, API docs."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from forecourt.db.engine import Database
from tests.conftest import Tenant, app_client_for, settings_for


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


def test_the_docs_page_needs_nothing_from_the_internet(http: httpx.Client) -> None:
    """A dealer network may have no internet: the page and everything it loads come from
    the server itself."""
    page = http.get("/docs")
    loaded = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    script = http.get("/docs/assets/redoc.standalone.js")

    assert page.status_code == 200
    assert loaded and all(url.startswith(("/", "data:")) for url in loaded), loaded
    assert "/docs/assets/redoc.standalone.js" in loaded
    assert (script.status_code, script.headers["content-type"].split(";")[0]) == (200, "text/javascript")


def test_unknown_route_under_a_dialect_gets_its_envelope(http: httpx.Client) -> None:
    response = http.get("/v2/recapture/nothing-here")

    assert response.status_code == 404
    assert response.json()["success"] is False


def test_readyz_is_200_on_a_current_schema(http: httpx.Client) -> None:
    response = http.get("/readyz")

    assert (response.status_code, response.json()) == (200, {"status": "ready"})


def test_readyz_is_503_on_a_database_not_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with app_client_for(settings_for(url), Database(url)) as client:
        healthz, readyz = client.get("/healthz"), client.get("/readyz")

    assert healthz.status_code == 200  # alive: the process is not stuck
    assert (readyz.status_code, readyz.headers["Retry-After"]) == (503, "5")
    assert "forecourt db upgrade" in readyz.json()["reason"]


def _unreachable(database_url: str, tmp_path: Path) -> str:
    """The same backend, but nowhere to be reached: a folder as the SQLite file, a port
    nobody listens on for PostgreSQL."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}"
    return re.sub(r"@[^/]+/", "@127.0.0.1:1/", database_url)


def test_every_dialect_answers_503_in_its_envelope_while_the_database_is_away(
    database_url: str, tmp_path: Path
) -> None:
    url = _unreachable(database_url, tmp_path)
    key = "fck_0123456789ab_secret"
    with app_client_for(settings_for(url), Database(url)) as client:
        answers = {
            "healthz": client.get("/healthz"),
            "readyz": client.get("/readyz"),
            "recapture": client.get(
                "/v2/recapture/customers", params={"region": "au"}, headers={"ApiKey": key}
            ),
            "autengo": client.get("/v3/vehicle", headers={"X-Api-Key": key}),
            "sync": client.get("/api/resources", headers={"Authorization": f"Bearer {key}"}),
            "kapture": client.post(
                "/ms/customer-search/customer-search/api/v1", headers={"Authorization": "Basic YTpi"}, json={}
            ),
            "ingest": client.post(
                "/ingest/v1/listings", headers={"Authorization": f"Bearer {key}"}, content=b"[]"
            ),
        }

    assert {name: (r.status_code, r.headers.get("Retry-After")) for name, r in answers.items()} == {
        name: (503, "5") for name in answers
    }
    assert answers["recapture"].json()["success"] is False
    assert answers["autengo"].json()["status"] == "error"
    assert answers["sync"].json()["errorType"] == "serviceUnavailable"
    assert answers["kapture"].json()["status"] == "failed"
    assert "unavailable" in answers["ingest"].json()["error"]
