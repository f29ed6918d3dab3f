"""Inputs found in review that once broke the service: each now gets a clear 4xx or a
row error, and never a 500 or a stuck upload."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from forecourt import bootstrap
from forecourt.core.customers import service
from forecourt.core.customers.schemas import CustomerFields
from forecourt.core.registry.service import load_csv
from forecourt.db.engine import Database
from forecourt.db.models import jobs, registry_vehicles, tracked_customers, upload_chunks
from forecourt.kit.dates import utcnow
from tests.conftest import Tenant, app_client_for, run_jobs, settings_for

CUSTOMERS = "/v2/recapture/customers"
UPLOAD = "/v2/recapture/upload"


def _put(http: httpx.Client, tenant: Tenant, body: dict[str, Any], **headers: str) -> httpx.Response:
    return http.put(
        CUSTOMERS, params={"region": "au"}, headers={"ApiKey": tenant.api_key, **headers}, json=body
    )


def _upload(http: httpx.Client, tenant: Tenant, body: dict[str, Any]) -> httpx.Response:
    return http.post(UPLOAD, params={"region": "au"}, headers={"ApiKey": tenant.api_key}, json=body)


def _count(db: Database) -> int:
    with db.read() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(tracked_customers)) or 0


def test_two_vins_on_one_stored_plate_are_two_vehicles(db: Database, tenant: Tenant) -> None:
    with db.write() as conn:
        service.save_many(
            conn, tenant.account.id, "au", [service.validate(CustomerFields(rego="P1", state="VIC"), "au")]
        )
        batch = [
            service.validate(CustomerFields(rego="P1", state="VIC", vin=vin), "au")
            for vin in ("1N4AL11D16N337720", "4T1BE46K28U742135")
        ]
        first, second = service.save_many(conn, tenant.account.id, "au", batch).ids

    assert first != second
    with db.read() as conn:
        vins = set(conn.scalars(sa.select(tracked_customers.c.vin)))
    assert vins == {"1N4AL11D16N337720", "4T1BE46K28U742135"}


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_dates_past_the_calendar_are_refused(
    http: httpx.Client, tenant: Tenant, db: Database, when: str
) -> None:
    response = _put(http, tenant, {"customer": {"rego": "ABC123", "state": "VIC", "sale_date": when}})
    upload = _upload(http, tenant, {"customers": [{"rego": "ABC124", "state": "VIC", "sale_date": when}]})
    run_jobs(db)

    assert response.status_code == 400
    assert "sale_date" in response.json()["message"]
    state = http.get(
        f"{UPLOAD}/{upload.json()['upload']['id']}",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
    )
    assert (state.json()["upload"]["status"], state.json()["upload"]["total_errors"]) == ("completed", 1)


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        ({"rego": "ABC123", "state": "VIC", "external_id": "a\x00b"}, "external_id"),
        ({"rego": "ABC123", "state": "VIC", "additional_fields": {"k": "v\x00"}}, "additional_fields"),
        ({"rego": "ABC123", "state": "VIC", "additional_fields": {"k\x00": ["v"]}}, "additional_fields"),
    ],
)
def test_nul_characters_are_refused(
    http: httpx.Client, tenant: Tenant, db: Database, customer: dict[str, Any], field: str
) -> None:
    response = _put(http, tenant, {"customer": customer})

    assert response.status_code == 400
    assert field in response.json()["message"]
    assert _count(db) == 0


def test_bad_rows_with_odd_external_ids_do_not_block_an_upload(
    http: httpx.Client, tenant: Tenant, db: Database
) -> None:
    rows = [
        {"rego": "ABC123", "state": "XX", "external_id": "x" * 300},
        {"rego": "ABC124", "state": "VIC", "external_id": "nul\x00here"},
        {"rego": "ABC125", "state": "VIC", "external_id": "fine"},
        {"rego": "ABC126", "state": "VIC", "external_id": "nul-field", "additional_fields": {"k": "\x00"}},
    ]
    upload_id = _upload(http, tenant, {"customers": rows}).json()["upload"]["id"]

    run_jobs(db)

    state = http.get(
        f"{UPLOAD}/{upload_id}", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    ).json()
    errors = http.get(
        f"{UPLOAD}/{upload_id}/errors", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )
    assert (state["upload"]["status"], state["upload"]["total_errors"]) == ("completed", 3)
    assert [len(e["external_id"]) for e in errors.json()["errors"]] == [255, 7, 9]
    assert "additional_fields" in errors.json()["errors"][2]["reason"]
    assert _count(db) == 1


@pytest.mark.parametrize("name", ["n" * 256, "a\x00b"])
def test_upload_names_must_fit(http: httpx.Client, tenant: Tenant, name: str) -> None:
    response = _upload(http, tenant, {"name": name, "customers": [{"rego": "ABC123", "state": "VIC"}]})

    assert response.status_code == 400
    assert "name" in response.json()["message"]


@pytest.mark.parametrize("path", [CUSTOMERS, f"{UPLOAD}/00000000-0000-0000-0000-000000000000/errors"])
def test_huge_offsets_are_refused(http: httpx.Client, tenant: Tenant, path: str) -> None:
    response = http.get(path, params={"region": "au", "offset": 10**20}, headers={"ApiKey": tenant.api_key})

    assert response.status_code == 400
    assert "offset" in response.json()["message"]


def test_an_upload_whose_job_keeps_failing_ends_as_failed(
    http: httpx.Client, tenant: Tenant, db: Database
) -> None:
    upload_id = _upload(http, tenant, {"customers": [{"rego": "ABC123", "state": "VIC"}]}).json()["upload"][
        "id"
    ]
    with db.write() as conn:  # a damaged staged chunk: every attempt fails
        conn.execute(sa.update(upload_chunks).values(body=b"\xff not json"))
        conn.execute(sa.update(jobs).values(max_attempts=2))
    settings = settings_for("unused")
    worker = bootstrap.worker(settings, db, bootstrap.adapters(settings, db))

    for _ in range(2):
        with db.write() as conn:  # skip the retry backoff
            conn.execute(sa.update(jobs).values(run_after=utcnow() - timedelta(seconds=1)))
        assert worker.run_once() is True

    upload = http.get(f"{UPLOAD}/{upload_id}", params={"region": "au"}, headers={"ApiKey": tenant.api_key})
    assert upload.json()["upload"]["status"] == "failed"
    with db.read() as conn:
        assert conn.scalar(sa.select(jobs.c.state)) == "failed"


def test_an_idempotency_key_covers_the_region_too(http: httpx.Client, tenant: Tenant, db: Database) -> None:
    body = {"customer": {"vin": "1N4AL11D16N337720"}}
    nz = http.put(
        CUSTOMERS,
        params={"region": "nz"},
        headers={"ApiKey": tenant.api_key, "Idempotency-Key": "z"},
        json=body,
    )
    au = _put(http, tenant, body, **{"Idempotency-Key": "z"})

    assert nz.status_code == 200
    assert au.status_code == 422


def test_key_order_inside_additional_fields_does_not_make_a_different_request(
    http: httpx.Client, tenant: Tenant
) -> None:
    first = _put(
        http,
        tenant,
        {"customer": {"vin": "1N4AL11D16N337720", "additional_fields": {"a": 1, "b": 2}}},
        **{"Idempotency-Key": "o"},
    )
    again = _put(
        http,
        tenant,
        {"customer": {"vin": "1N4AL11D16N337720", "additional_fields": {"b": 2, "a": 1}}},
        **{"Idempotency-Key": "o"},
    )

    assert again.status_code == 200
    assert again.json() == first.json()


def test_a_replayed_put_does_not_pay_for_its_lookup_again(
    tenant: Tenant, db: Database, database_url: str, tmp_path: Path
) -> None:
    from forecourt.db.models import lookup_usage

    registry = tmp_path / "registry.csv"
    registry.write_text("ZEN407,VIC,1N4AL11D16N337720," + "T" * 300 + "\n")
    load_csv(db, registry)
    settings = settings_for(database_url, registration_lookup="file")
    body = {"enable_rego_lookups": True, "customer": {"rego": "ZEN407", "state": "VIC"}}
    with app_client_for(settings, db) as client:
        answers = [
            client.put(
                CUSTOMERS,
                params={"region": "au"},
                headers={"ApiKey": tenant.api_key, "Idempotency-Key": "l"},
                json=body,
            )
            for _ in range(2)
        ]

    assert answers[0].json() == answers[1].json()
    assert len(answers[0].json()["customer"]["vehicle_title"]) == 255  # a long title is cut to fit
    with db.read() as conn:
        assert conn.scalar(sa.select(lookup_usage.c.lookups)) == 1
        assert conn.scalar(sa.select(sa.func.length(registry_vehicles.c.vehicle_title))) == 255
