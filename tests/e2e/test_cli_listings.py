"""`forecourt ingest-keys` and `forecourt listings ingest`, as an operator runs them."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from forecourt import bootstrap
from forecourt.api.recapture.schemas import event_body
from forecourt.cli.main import app
from forecourt.core.customers import service as customers
from forecourt.core.customers.schemas import Batch, CustomerFields
from forecourt.db.engine import Database
from tests.conftest import Cli, Tenant, loopback_server, loopback_url, running_server, settings_for

VIN = "1N4AL11D16N337720"
LISTING = {
    "source": "gumtree",
    "source_id": "G-1",
    "region": "au",
    "url": "https://www.gumtree.com.au/s-ad/1",
    "title": "2017 Mazda 3 Maxx",
    "price": 15990,
    "seller_type": "dealer",
    "listed_at": "2024-05-02",
}


def save_customer(
    db: Database, tenant: Tenant, *, vin: str | None = None, rego: str | None = None, state: str | None = None
) -> str:
    with db.write() as conn:
        record = customers.validate(CustomerFields(vin=vin, rego=rego, state=state), "au")
        return str(customers.put(conn, event_body, tenant.account.id, "au", Batch([record])).id)


def sightings_of(db: Database, tenant: Tenant, customer_id: str) -> list[str | None]:
    with db.read() as conn:
        return [s.listing_url for s in customers.get(conn, tenant.account.id, "au", customer_id).sightings]


def test_an_ingest_key_is_created_works_over_http_and_can_be_revoked(cli: Cli, http: httpx.Client) -> None:
    created = cli.ok("ingest-keys", "create")
    assert created["key"].startswith(f"fci_{created['prefix']}_")
    headers = {"Authorization": f"Bearer {created['key']}"}

    assert http.post("/ingest/v1/listings", json=[LISTING | {"vin": VIN}], headers=headers).status_code == 200
    assert cli.ok("ingest-keys", "revoke", created["prefix"]) == {"revoked": created["prefix"]}
    assert http.post("/ingest/v1/listings", json=[LISTING | {"vin": VIN}], headers=headers).status_code == 401
    assert cli.run("ingest-keys", "revoke", created["prefix"]).exit_code != 0


def test_a_jsonl_feed_is_ingested_and_matched(cli: Cli, db: Database, tenant: Tenant, tmp_path: Path) -> None:
    customer_id = save_customer(db, tenant, vin=VIN)
    feed = tmp_path / "feed.jsonl"
    lines = [LISTING | {"vin": VIN}, LISTING | {"source_id": "G-2", "vin": "BAD"}]
    lines += [LISTING | {"source_id": f"G-{i}", "plate": f"P{i}", "state": "VIC"} for i in range(3, 13)]
    feed.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")

    report = cli.ok("listings", "ingest", str(feed), "--batch-size", "4")

    assert {k: report[k] for k in ("received", "created", "rejected", "sightings")} == {
        "received": 12,
        "created": 11,
        "rejected": 1,
        "sightings": 1,
    }
    assert [(e["row"], e["source_id"], e["field"]) for e in report["errors"]] == [(2, "G-2", "vin")]
    assert sightings_of(db, tenant, customer_id) == ["https://www.gumtree.com.au/s-ad/1"]
    again = cli.ok("listings", "ingest", str(feed))
    assert (again["created"], again["unchanged"], again["sightings"]) == (0, 11, 0)


def test_a_csv_feed_is_ingested_and_matched(cli: Cli, db: Database, tenant: Tenant, tmp_path: Path) -> None:
    customer_id = save_customer(db, tenant, rego="ABC123", state="VIC")
    feed = tmp_path / "feed.csv"
    feed.write_text(
        "source,source_id,region,url,title,price,seller_type,vin,plate,state,listed_at\n"
        "gumtree,G-1,au,https://www.gumtree.com.au/s-ad/1,2017 Mazda 3,15990,dealer,,ABC 123,VIC,2024-05-02\n"
        "\n"
        "gumtree,G-2,au,https://www.gumtree.com.au/s-ad/2,,lots,auction,,XYZ9,NSW,someday\n",
        encoding="utf-8",
    )

    report = cli.ok("listings", "ingest", str(feed))

    assert (report["created"], report["rejected"], report["sightings"]) == (1, 1, 1)
    # Every error of the record, each a sentence naming its field, on the row a
    # spreadsheet shows (the header is row 1, the blank line counts).
    assert [(e["row"], e["source_id"], e["field"], e["message"]) for e in report["errors"]] == [
        (4, "G-2", "price", "price must be a whole number of dollars from 0 to 1,000,000,000,000"),
        (4, "G-2", "seller_type", "seller_type must be one of: private, dealer"),
        (
            4,
            "G-2",
            "listed_at",
            "listed_at must be a date (YYYY-MM-DD) or an ISO 8601 timestamp, got 'someday'",
        ),
    ]
    assert sightings_of(db, tenant, customer_id) == ["https://www.gumtree.com.au/s-ad/1"]


def test_a_csv_that_is_not_utf8_stops_with_a_message(cli: Cli, tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_bytes(
        b"source,source_id,region,url,plate,state\n"
        b"gumtree,G-1,au,https://www.gumtree.com.au/s-ad/1,ABC123,VIC\n"
        b"gumtree,G-2,au,https://www.gumtree.com.au/s-ad/2,Z\xe9Z1,VIC\n"
    )
    result = cli.run("listings", "ingest", str(feed))
    assert result.exit_code != 0
    assert "line 3 is not UTF-8" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_feed_is_ingested_through_a_running_server_with_the_files_rows(
    cli: Cli, db: Database, database_url: str, tenant: Tenant, tmp_path: Path
) -> None:
    customer_id = save_customer(db, tenant, rego="ABC123", state="VIC")
    key = cli.ok("ingest-keys", "create")["key"]
    feed = tmp_path / "feed.csv"
    feed.write_text(
        "source,source_id,region,url,price,plate,state\n"
        "gumtree,G-1,au,https://www.gumtree.com.au/s-ad/1,15990,ABC 123,VIC\n"
        "\n"
        "gumtree,G-2,au,https://www.gumtree.com.au/s-ad/2,lots,XYZ9,NSW\n"  # not read: the price
        "gumtree,G-3,au,https://www.gumtree.com.au/s-ad/3,9990,XYZ8,\n"  # refused by the server: no state
        "gumtree,G-4,au,https://www.gumtree.com.au/s-ad/4,8990,XYZ7,QLD\n",
        encoding="utf-8",
    )
    # A real server on loopback: --server mode is an HTTP client over the network.
    with running_server(bootstrap.app(settings_for(database_url), db)) as url:
        report = cli.ok(
            "listings", "ingest", str(feed), "--server", url, "--ingest-key", key, "--batch-size", "3"
        )
        refused = cli.run("listings", "ingest", str(feed), "--server", url, "--ingest-key", key + "x")

    assert {k: report[k] for k in ("received", "created", "rejected", "sightings")} == {
        "received": 4,
        "created": 2,
        "rejected": 2,
        "sightings": 1,
    }
    assert [(e["row"], e["source_id"], e["field"]) for e in report["errors"]] == [
        (4, "G-2", "price"),
        (5, "G-3", "state"),
    ]
    assert sightings_of(db, tenant, customer_id) == ["https://www.gumtree.com.au/s-ad/1"]
    assert refused.exit_code == 1 and "Invalid ingest key" in refused.output


def test_a_command_run_away_from_its_database_says_where_it_looked_and_creates_nothing(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    feed, customers = tmp_path / "feed.jsonl", tmp_path / "customers.csv"
    feed.write_text(json.dumps(LISTING | {"vin": VIN}) + "\n")
    customers.write_text("rego,state\nABC123,VIC\n")
    env = {"FORECOURT_DATABASE_URL": "sqlite:///var/forecourt.db"}  # the default, relative to here

    for command in (
        ["listings", "ingest", str(feed)],
        ["accounts", "list"],
        ["upload", str(customers), "--region", "au", "--api-key", "k"],
    ):
        result = CliRunner().invoke(app, command, env=env)
        assert result.exit_code == 1, result.output
        said = " ".join(result.output.split())
        assert f"no Forecourt database at {tmp_path / 'var' / 'forecourt.db'}" in said
        assert "--database-url" in said
    assert not (tmp_path / "var").exists()


class _BadGateway(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        page = b"<html><body>502 Bad Gateway</body></html>"
        self.send_response(502)
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("command", ["listings", "upload"])
def test_a_server_mode_answered_by_a_proxys_error_page_says_so(
    cli: Cli, tmp_path: Path, command: str
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(LISTING | {"vin": VIN}) + "\n")
    customers = tmp_path / "customers.csv"
    customers.write_text("rego,state\nABC123,VIC\n")
    with loopback_server(_BadGateway) as proxy:
        url = loopback_url(proxy)
        if command == "listings":
            result = cli.run("listings", "ingest", str(feed), "--server", url, "--ingest-key", "fci_x_y")
        else:
            result = cli.run("upload", str(customers), "--region", "au", "--api-key", "k", "--server", url)

    assert result.exit_code == 1, result.output  # a clean error, not a traceback
    assert "502: <html><body>502 Bad Gateway</body></html>" in result.output
