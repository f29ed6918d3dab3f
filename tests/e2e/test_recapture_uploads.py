"""Recapture uploads over HTTP (the app in-process): queue, process (by a worker), follow,
cancel, errors."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from forecourt import bootstrap
from forecourt.config import Settings
from forecourt.core.registry.service import load_csv
from forecourt.db.engine import Database
from forecourt.db.models import idempotency_keys, lookup_usage, upload_chunks, uploads
from forecourt.kit.dates import utcnow
from tests.conftest import Tenant, app_client_for, run_jobs, settings_for

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UPLOAD = "/v2/recapture/upload"
CUSTOMERS = "/v2/recapture/customers"
SPEC_BODY: dict[str, Any] = {
    "name": "June 2022 New Customers",
    "enable_rego_lookups": False,
    "monitor_start_date": "2022-06-01",
    "monitor_end_date": "2023-06-01",
    "customers": [
        {
            "rego": "ZEN407",
            "state": "VIC",
            "external_id": "CUST-4821",
            "sale_date": "2022-06-15",
            "additional_fields": {"market_source": "dealer_crm", "customer_type": "vip"},
        }
    ],
}


def post_upload(
    http: httpx.Client, tenant: Tenant, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return http.post(
        UPLOAD, params={"region": "au"}, headers={"ApiKey": tenant.api_key, **(headers or {})}, json=body
    )


def queued(http: httpx.Client, tenant: Tenant, customers: list[Any], **envelope: Any) -> str:
    response = post_upload(http, tenant, {"customers": customers, **envelope})
    assert response.status_code == 202, response.text
    upload_id: str = response.json()["upload"]["id"]
    return upload_id


def get_upload(http: httpx.Client, tenant: Tenant, upload_id: str) -> dict[str, Any]:
    response = http.get(f"{UPLOAD}/{upload_id}", params={"region": "au"}, headers={"ApiKey": tenant.api_key})
    assert response.status_code == 200, response.text
    upload: dict[str, Any] = response.json()["upload"]
    return upload


def customers_of(http: httpx.Client, tenant: Tenant, upload_id: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, str | int] = {"region": "au", "limit": 500}
    if upload_id:
        params["upload_id"] = upload_id
    body = http.get(CUSTOMERS, params=params, headers={"ApiKey": tenant.api_key}).json()
    found: list[dict[str, Any]] = body["customers"]
    return found


def row_errors(http: httpx.Client, tenant: Tenant, upload_id: str, **params: Any) -> dict[str, Any]:
    response = http.get(
        f"{UPLOAD}/{upload_id}/errors", params={"region": "au", **params}, headers={"ApiKey": tenant.api_key}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_post_answers_202_at_once_with_the_spec_shape(
    http: httpx.Client, tenant: Tenant, db: Database
) -> None:
    response = post_upload(http, tenant, SPEC_BODY)

    assert response.status_code == 202
    body = response.json()
    assert body["success"] is True
    upload = body["upload"]
    assert list(upload)[:7] == [
        "id",
        "created_at",
        "enable_rego_lookups",
        "name",
        "total_uploaded_customers",
        "total_processed_customers",
        "total_errors",
    ]
    uuid.UUID(upload["id"])
    assert TIMESTAMP.match(upload["created_at"])
    assert upload["name"] == "June 2022 New Customers"
    assert upload["enable_rego_lookups"] is False
    assert (
        upload["total_uploaded_customers"],
        upload["total_processed_customers"],
        upload["total_errors"],
    ) == (1, 0, 0)
    assert (upload["status"], upload["completed_at"]) == ("queued", None)
    assert customers_of(http, tenant) == []  # nothing processed in the request


def test_a_worker_processes_the_upload_and_defaults_apply(
    http: httpx.Client, tenant: Tenant, db: Database
) -> None:
    upload_id = queued(
        http,
        tenant,
        [
            {"rego": "ZEN407", "state": "VIC", "external_id": "A"},
            {"vin": "1N4AL11D16N337720", "monitor_start_date": "2021-01-01", "external_id": "B"},
        ],
        monitor_start_date="2022-06-01",
        monitor_end_date="2023-06-01",
    )

    assert run_jobs(db) == 1

    upload = get_upload(http, tenant, upload_id)
    assert (
        upload["total_uploaded_customers"],
        upload["total_processed_customers"],
        upload["total_errors"],
    ) == (2, 2, 0)
    assert upload["status"] == "completed"
    assert TIMESTAMP.match(upload["completed_at"])
    found = {c["external_id"]: c for c in customers_of(http, tenant, upload_id)}
    assert found["A"]["monitor_start_date"] == "2022-06-01T00:00:00.000Z"
    assert found["A"]["monitor_end_date"] == "2023-06-01T00:00:00.000Z"
    assert found["B"]["monitor_start_date"] == "2021-01-01T00:00:00.000Z"  # its own wins
    assert found["B"]["monitor_end_date"] == "2023-06-01T00:00:00.000Z"
    with db.read() as conn:  # the staged body is gone once processed
        assert conn.scalar(sa.select(sa.func.count()).select_from(upload_chunks)) == 0


def test_bad_rows_are_counted_and_listed_without_failing_the_upload(
    http: httpx.Client, tenant: Tenant, db: Database
) -> None:
    customers: list[Any] = [
        {"rego": "GOOD01", "state": "NSW", "external_id": "ok-1"},
        {"external_id": "no-vehicle"},
        {"vin": "1N4AL11D16N33772", "external_id": "short-vin"},
        {"rego": "ABC123", "state": "XX", "external_id": "bad-state"},
        {"rego": "ABC124", "state": "VIC", "sale_date": "2022-02-30", "external_id": "bad-date"},
        {"rego": 42, "state": "VIC", "external_id": "wrong-type"},
        "not an object",
        {"vin": "4T1BE46K28U742135", "external_id": "ok-2"},
    ]
    upload_id = queued(http, tenant, customers)

    run_jobs(db)

    upload = get_upload(http, tenant, upload_id)
    assert (upload["total_processed_customers"], upload["total_errors"]) == (8, 6)
    errors = row_errors(http, tenant, upload_id)
    assert errors["success"] is True
    assert errors["total"] == 6
    by_row = {e["row"]: e for e in errors["errors"]}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7]
    assert by_row[2] == {"row": 2, "external_id": "no-vehicle", "reason": "Missing required properties"}
    assert "vin" in by_row[3]["reason"]
    assert "state" in by_row[4]["reason"]
    assert "sale_date" in by_row[5]["reason"]
    assert by_row[6]["external_id"] == "wrong-type"
    assert "rego" in by_row[6]["reason"]
    assert by_row[7]["external_id"] is None
    assert sorted(c["external_id"] for c in customers_of(http, tenant, upload_id)) == ["ok-1", "ok-2"]
    page = row_errors(http, tenant, upload_id, offset=2, limit=2)
    assert page["total"] == 6
    assert [e["row"] for e in page["errors"]] == [4, 5]


def test_resending_vehicles_updates_them_and_keeps_their_ids(
    http: httpx.Client, tenant: Tenant, db: Database
) -> None:
    first = queued(
        http, tenant, [{"rego": "AAA111", "state": "VIC", "external_id": "v1"}, {"vin": "1N4AL11D16N337720"}]
    )
    run_jobs(db)
    before = {c["rego"] or c["vin"]: c["id"] for c in customers_of(http, tenant)}

    second = queued(
        http,
        tenant,
        [
            {"rego": "AAA111", "state": "VIC", "external_id": "v2"},
            {"vin": "1N4AL11D16N337720", "external_id": "now-known"},
            # The same vehicle twice in one list: one customer, the later row wins.
            {"rego": "BBB222", "state": "QLD", "external_id": "early"},
            {"rego": "BBB222", "state": "QLD", "external_id": "late"},
        ],
    )
    run_jobs(db)

    after = customers_of(http, tenant)
    assert len(after) == 3
    ids = {c["rego"] or c["vin"]: c["id"] for c in after}
    assert ids["AAA111"] == before["AAA111"]
    assert ids["1N4AL11D16N337720"] == before["1N4AL11D16N337720"]
    assert {c["external_id"] for c in after} == {"v2", "now-known", "late"}
    assert len(customers_of(http, tenant, second)) == 3
    assert customers_of(http, tenant, first) == []  # they now belong to the later upload
    assert get_upload(http, tenant, second)["total_processed_customers"] == 4


def test_empty_list_is_refused(http: httpx.Client, tenant: Tenant, db: Database) -> None:
    response = post_upload(http, tenant, {"name": "nothing", "customers": []})

    assert response.status_code == 400
    assert response.json() == {"success": False, "message": "You must upload at least one customer"}
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(uploads)) == 0


@pytest.mark.parametrize(
    ("body", "mention"),
    [
        ({"name": "x"}, "customers"),
        ({"customers": "ZEN407"}, "customers"),
        ({"customers": [{}], "enable_rego_lookups": "yes"}, "enable_rego_lookups"),
        ({"customers": [{}], "monitor_start_date": "June"}, "monitor_start_date"),
        (
            {"customers": [{}], "monitor_start_date": "2023-01-01", "monitor_end_date": "2022-01-01"},
            "monitor_end_date",
        ),
        ({"customers": [{}], "name": 7}, "name"),
    ],
)
def test_a_bad_envelope_is_refused_naming_the_field(
    http: httpx.Client, tenant: Tenant, db: Database, body: dict[str, Any], mention: str
) -> None:
    response = post_upload(http, tenant, body)

    assert response.status_code == 400, response.text
    assert response.json()["success"] is False
    assert mention in response.json()["message"]
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(uploads)) == 0


@pytest.mark.parametrize(
    ("content", "mention"), [(b"", "body"), (b'{"customers": [', "JSON"), (b"[]", "object")]
)
def test_malformed_upload_bodies_get_400(
    http: httpx.Client, tenant: Tenant, content: bytes, mention: str
) -> None:
    response = http.post(
        UPLOAD,
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key, "Content-Type": "application/json"},
        content=content,
    )

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert mention in response.json()["message"]


def test_cancel_before_processing_stops_everything(http: httpx.Client, tenant: Tenant, db: Database) -> None:
    upload_id = queued(http, tenant, [{"rego": f"CAN{n:03d}", "state": "SA"} for n in range(10)])

    response = http.delete(
        f"{UPLOAD}/{upload_id}", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )
    run_jobs(db)

    assert response.status_code == 200
    cancelled = response.json()["upload"]
    assert response.json()["success"] is True
    assert (cancelled["status"], cancelled["total_processed_customers"]) == ("cancelled", 0)
    assert get_upload(http, tenant, upload_id) == cancelled
    assert customers_of(http, tenant) == []
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(upload_chunks)) == 0


def test_cancel_between_chunks_keeps_what_was_done_and_nothing_more(
    http: httpx.Client, tenant: Tenant, db: Database
) -> None:
    import msgspec

    from forecourt.core.uploads import service as uploads_service
    from forecourt.core.uploads.schemas import UploadRequest
    from forecourt.core.uploads.tasks import run_chunk

    customers = [{"rego": f"CHK{n:03d}", "state": "WA"} for n in range(12)]
    request = msgspec.json.decode(msgspec.json.encode({"customers": customers}), type=UploadRequest)
    with db.write() as conn:  # staged in chunks of 5, then one chunk done, as a worker would
        upload = uploads_service.create(conn, tenant.account.id, "au", request, chunk_rows=5)
    run_chunk(db, bootstrap.adapters(Settings(), db), upload.id)

    response = http.delete(
        f"{UPLOAD}/{upload.id}", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )
    run_jobs(db)

    answered = response.json()["upload"]
    assert (answered["status"], answered["total_processed_customers"]) == ("cancelled", 5)
    assert get_upload(http, tenant, str(upload.id)) == answered
    assert len(customers_of(http, tenant)) == 5


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_another_accounts_upload_is_forbidden(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant, db: Database, method: str
) -> None:
    theirs = queued(http, other_tenant, [{"rego": "THEIRS", "state": "VIC"}])

    response = http.request(
        method, f"{UPLOAD}/{theirs}", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )
    errors = http.get(
        f"{UPLOAD}/{theirs}/errors", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )

    assert response.status_code == errors.status_code == 403
    assert response.json() == {"success": False, "message": "You don't have permission to access that upload"}
    assert get_upload(http, other_tenant, theirs)["status"] == "queued"  # not cancelled
    run_jobs(db)
    assert customers_of(http, tenant) == []
    assert len(customers_of(http, other_tenant)) == 1


@pytest.mark.parametrize("upload_id", ["nope", str(uuid.uuid4())])
def test_unknown_upload_is_invalid_upload_id(http: httpx.Client, tenant: Tenant, upload_id: str) -> None:
    response = http.get(f"{UPLOAD}/{upload_id}", params={"region": "au"}, headers={"ApiKey": tenant.api_key})

    assert response.status_code == 404
    assert response.json() == {"success": False, "message": "Invalid Upload ID"}


def test_upload_needs_a_key_and_a_region(http: httpx.Client, tenant: Tenant) -> None:
    no_key = http.post(UPLOAD, params={"region": "au"}, json=SPEC_BODY)
    no_region = http.post(UPLOAD, headers={"ApiKey": tenant.api_key}, json=SPEC_BODY)

    assert no_key.status_code == 401
    assert no_region.status_code == 400
    assert "region" in no_region.json()["message"]


# --- idempotency ----------------------------------------------------------------------


def test_a_replayed_upload_gets_the_first_answer_and_creates_nothing(
    http: httpx.Client, tenant: Tenant, db: Database
) -> None:
    first = post_upload(http, tenant, SPEC_BODY, {"Idempotency-Key": "june-2022"})
    again = post_upload(http, tenant, SPEC_BODY, {"Idempotency-Key": "june-2022"})

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(uploads)) == 1


def test_the_same_key_with_another_body_is_422(http: httpx.Client, tenant: Tenant, db: Database) -> None:
    post_upload(http, tenant, SPEC_BODY, {"Idempotency-Key": "k1"})

    response = post_upload(http, tenant, SPEC_BODY | {"name": "Other"}, {"Idempotency-Key": "k1"})

    assert response.status_code == 422
    assert response.json()["success"] is False
    assert "Idempotency-Key" in response.json()["message"]
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(uploads)) == 1


def test_keys_belong_to_one_account(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant, db: Database
) -> None:
    mine = post_upload(http, tenant, SPEC_BODY, {"Idempotency-Key": "shared"})
    theirs = post_upload(http, other_tenant, SPEC_BODY, {"Idempotency-Key": "shared"})

    assert theirs.status_code == 202
    assert theirs.json()["upload"]["id"] != mine.json()["upload"]["id"]


def test_keys_expire_after_the_ttl(http: httpx.Client, tenant: Tenant, db: Database) -> None:
    first = post_upload(http, tenant, SPEC_BODY, {"Idempotency-Key": "old"})
    with db.write() as conn:
        conn.execute(sa.update(idempotency_keys).values(created_at=utcnow() - timedelta(hours=25)))

    again = post_upload(http, tenant, SPEC_BODY, {"Idempotency-Key": "old"})

    assert again.status_code == 202
    assert again.json()["upload"]["id"] != first.json()["upload"]["id"]


def test_a_replayed_customer_put_gets_the_first_answer(
    http: httpx.Client, tenant: Tenant, db: Database
) -> None:
    def put(body: dict[str, Any]) -> httpx.Response:
        return http.put(
            CUSTOMERS,
            params={"region": "au"},
            headers={"ApiKey": tenant.api_key, "Idempotency-Key": "c-1"},
            json=body,
        )

    first = put({"customer": {"rego": "IDEM01", "state": "VIC", "external_id": "one"}})
    http.patch(
        f"{CUSTOMERS}/{first.json()['customer']['id']}",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        json={"external_id": "changed since"},
    )
    replay = put({"customer": {"state": "VIC", "external_id": "one", "rego": "IDEM01"}})  # same, reordered
    other = put({"customer": {"rego": "IDEM02", "state": "VIC"}})

    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert other.status_code == 422
    assert len(customers_of(http, tenant)) == 1


def test_an_overlong_key_is_refused(http: httpx.Client, tenant: Tenant) -> None:
    response = post_upload(http, tenant, SPEC_BODY, {"Idempotency-Key": "k" * 300})

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["message"]


# --- size limit and registration lookups -----------------------------------------------


@pytest.fixture
def lookup_client(db: Database, database_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    """A client of the app whose registration lookups answer from a loaded registry file,
    with a small upload limit."""
    registry = tmp_path / "registry.csv"
    registry.write_text(
        "plate,state,vin,vehicle_title\nZEN407,VIC,1N4AL11D16N337720,2019 Toyota Camry Ascent\n"
    )
    load_csv(db, registry)
    settings = settings_for(database_url, registration_lookup="file", max_upload_bytes=20_000)
    with app_client_for(settings, db) as client:
        yield client


def _usage(db: Database) -> list[tuple[str, int, int]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(lookup_usage.c.provider, lookup_usage.c.lookups, lookup_usage.c.failures)
        )
        return [(r.provider, r.lookups, r.failures) for r in rows]


def test_an_oversize_upload_gets_413(lookup_client: httpx.Client, tenant: Tenant, db: Database) -> None:
    customers = [{"rego": f"BIG{n:04d}", "state": "VIC", "external_id": "x" * 50} for n in range(400)]

    response = lookup_client.post(
        UPLOAD,
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        json={"customers": customers},
    )

    assert response.status_code == 413
    assert response.json()["success"] is False
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(uploads)) == 0


def test_upload_lookups_fill_vins_count_usage_and_report_failures(
    lookup_client: httpx.Client, tenant: Tenant, db: Database, database_url: str
) -> None:
    upload_id = queued(
        lookup_client,
        tenant,
        [
            {"rego": "ZEN407", "state": "VIC", "external_id": "known"},
            {"rego": "NOP999", "state": "VIC", "external_id": "unknown"},
            {"rego": "HAS001", "state": "VIC", "vin": "4T1BE46K28U742135", "external_id": "has-vin"},
        ],
        enable_rego_lookups=True,
    )
    run_jobs(db, settings_for(database_url, registration_lookup="file"))

    found = {c["external_id"]: c for c in customers_of(lookup_client, tenant, upload_id)}
    errors = row_errors(lookup_client, tenant, upload_id)["errors"]
    upload = get_upload(lookup_client, tenant, upload_id)

    assert found["known"]["vin"] == "1N4AL11D16N337720"
    assert found["known"]["vehicle_title"] == "2019 Toyota Camry Ascent"
    assert found["unknown"]["vin"] is None  # kept, without a VIN
    assert found["has-vin"]["vin"] == "4T1BE46K28U742135"
    assert errors == [
        {
            "row": 2,
            "external_id": "unknown",
            "reason": "registration lookup failed: plate not found in the registry",
        }
    ]
    assert (upload["total_processed_customers"], upload["total_errors"]) == (3, 1)
    assert _usage(db) == [("file", 2, 1)]


def test_no_lookups_unless_asked(
    lookup_client: httpx.Client, tenant: Tenant, db: Database, database_url: str
) -> None:
    upload_id = queued(lookup_client, tenant, [{"rego": "ZEN407", "state": "VIC"}])
    run_jobs(db, settings_for(database_url, registration_lookup="file"))
    (customer,) = customers_of(lookup_client, tenant, upload_id)

    assert customer["vin"] is None
    assert _usage(db) == []


def test_lookups_when_the_server_has_none_say_so(http: httpx.Client, tenant: Tenant, db: Database) -> None:
    upload_id = queued(http, tenant, [{"rego": "ZEN407", "state": "VIC"}], enable_rego_lookups=True)
    run_jobs(db)

    (error,) = row_errors(http, tenant, upload_id)["errors"]
    assert "not enabled" in error["reason"]
    assert len(customers_of(http, tenant, upload_id)) == 1
    assert _usage(db) == []


def test_single_put_looks_up_too(lookup_client: httpx.Client, tenant: Tenant, db: Database) -> None:
    def put(customer: dict[str, Any]) -> dict[str, Any]:
        response = lookup_client.put(
            CUSTOMERS,
            params={"region": "au"},
            headers={"ApiKey": tenant.api_key},
            json={"enable_rego_lookups": True, "customer": customer},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    known = put({"rego": "ZEN407", "state": "VIC"})
    unknown = put({"rego": "NOP999", "state": "VIC"})

    assert known["customer"]["vin"] == "1N4AL11D16N337720"
    assert "lookup_error" not in known
    assert unknown["customer"]["vin"] is None
    assert unknown["lookup_error"] == "registration lookup failed: plate not found in the registry"
    assert _usage(db) == [("file", 2, 1)]
