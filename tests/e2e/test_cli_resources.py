"""`forecourt resources` as an operator uses it: switching a Sync check resource off and
on again for one account, seen through the API (GET /api/resources and new batches)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from forecourt.db.engine import Database
from tests.conftest import Cli, Tenant, run_jobs
from tests.e2e.test_sync_batch import (
    VIN,
    bearer,
    call,
    car,
    infos,
    read,
    resources,
    submit,
)


def enabled(http: httpx.Client, tenant: Tenant) -> dict[str, bool]:
    return {key: r["enabled"] for key, r in resources(http, tenant).items()}


def test_a_disabled_resource_is_skipped_by_new_batches_until_enabled_again(
    http: httpx.Client, db: Database, tenant: Tenant, cli: Cli
) -> None:
    account = str(tenant.account.id)
    assert cli.ok("resources", "disable", account, "vin-decode") == {
        "account_id": account,
        "resource": "vin-decode",
        "enabled": False,
    }
    assert enabled(http, tenant) == {"vin-decode": False, "listing-history": True}
    skipped = submit(http, tenant, car(vin=VIN))
    assert (skipped["resources"], skipped["checks"]) == ([3], 1)
    run_jobs(db)
    assert sorted(infos(http, tenant, car(vin=VIN))) == [3]

    assert cli.ok("resources", "enable", account, "vin-decode")["enabled"] is True
    assert enabled(http, tenant) == {"vin-decode": True, "listing-history": True}
    checked = submit(http, tenant, car(vin=VIN))
    assert (checked["resources"], checked["checks"]) == ([1, 3], 2)
    run_jobs(db)
    assert sorted(infos(http, tenant, car(vin=VIN))) == [1, 3]


def test_disabling_twice_then_enabling_once_turns_it_back_on(
    http: httpx.Client, tenant: Tenant, cli: Cli
) -> None:
    account = str(tenant.account.id)
    cli.ok("resources", "disable", account, "listing-history")
    cli.ok("resources", "disable", account, "listing-history")
    assert enabled(http, tenant)["listing-history"] is False
    cli.ok("resources", "enable", account, "listing-history")
    assert enabled(http, tenant)["listing-history"] is True


def test_a_resource_is_switched_off_for_one_account_only(
    http: httpx.Client, tenant: Tenant, other_tenant: Tenant, cli: Cli
) -> None:
    cli.ok("resources", "disable", str(tenant.account.id), "vin-decode")
    assert enabled(http, other_tenant) == {"vin-decode": True, "listing-history": True}
    assert submit(http, other_tenant, car(vin=VIN))["resources"] == [1, 3]


def test_resources_list_shows_what_the_server_runs_and_what_an_account_uses(tenant: Tenant, cli: Cli) -> None:
    listed = cli.ok("resources", "list")
    assert [(r["resourceId"], r["key"]) for r in listed] == [(1, "vin-decode"), (3, "listing-history")]
    assert all("enabled" not in r for r in listed)

    cli.ok("resources", "disable", str(tenant.account.id), "listing-history")
    for_account = cli.ok("resources", "list", "--account", str(tenant.account.id))
    assert {r["key"]: r["enabled"] for r in for_account} == {"vin-decode": True, "listing-history": False}


@pytest.mark.parametrize("command", ["enable", "disable"])
@pytest.mark.parametrize(
    ("account", "key", "message"),
    [
        ("tenant", "nope", "No resource 'nope'"),
        ("tenant", "VIN-DECODE", "No resource 'VIN-DECODE'"),
        ("tenant", "http", "No resource 'http'"),  # not configured on this server
        ("missing", "vin-decode", "No account with id"),
    ],
)
def test_an_unknown_resource_or_account_is_refused(
    http: httpx.Client, tenant: Tenant, cli: Cli, command: str, account: str, key: str, message: str
) -> None:
    account_id = str(tenant.account.id) if account == "tenant" else str(uuid.uuid4())
    result = cli.run("resources", command, account_id, key)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""
    assert enabled(http, tenant) == {"vin-decode": True, "listing-history": True}


def test_a_malformed_account_id_is_a_usage_error(cli: Cli) -> None:
    result = cli.run("resources", "disable", "not-a-uuid", "vin-decode")
    assert result.exit_code == 2
    assert "not-a-uuid" in result.stderr


def test_with_every_resource_disabled_a_batch_is_refused_but_old_results_still_read(
    http: httpx.Client, db: Database, tenant: Tenant, cli: Cli
) -> None:
    submit(http, tenant, car(vin=VIN))
    run_jobs(db)
    for key in ("vin-decode", "listing-history"):
        cli.ok("resources", "disable", str(tenant.account.id), key)

    response = call(http, "submit", {"vehicles": [car(vin=VIN)]}, bearer(tenant))
    assert response.status_code == 400
    assert (response.json()["errorType"], response.json()["error"]) == ("badRequest", "BadRequest")
    assert run_jobs(db) == 0
    assert sorted(infos(http, tenant, car(vin=VIN))) == [1, 3]
    assert len(read(http, tenant, car(vin=VIN), endpoint="query")) == 1


def test_a_batch_no_enabled_resource_can_check_is_refused(
    http: httpx.Client, db: Database, tenant: Tenant, cli: Cli
) -> None:
    """Only vin-decode is on and the vehicle is a bare plate: nothing can be checked, so
    nothing is queued (a batch would otherwise stay "processing" for ever)."""
    cli.ok("resources", "disable", str(tenant.account.id), "listing-history")
    response = call(http, "submit", {"vehicles": [car(plate="ABC123")]}, bearer(tenant))
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] == "badRequest"
    assert "can check" in response.json()["message"]
    assert run_jobs(db) == 0
