"""A tenant cannot make the server call inside its own networks: webhook endpoints on
loopback, private, link-local, multicast, unspecified or reserved addresses, in every
form an address can be written, are refused when registered and when delivered, unless
the operator allowed the network (FORECOURT_WEBHOOK_ALLOWED_NETWORKS)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from forecourt.config import Settings
from forecourt.db.engine import Database
from forecourt.providers.webhooks import parse_networks
from tests.conftest import (
    Tenant,
    app_client_for,
    loopback_server,
    loopback_url,
    run_jobs,
    settings_for,
)

INSIDE = [
    "http://127.0.0.1/hook",
    "http://localhost:8080/hook",
    "http://[::1]/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one number
    "http://0x7f000001/hook",  # ... in hexadecimal
    "http://127.1/hook",  # ... shortened
    "http://0.0.0.0/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "https://10.1.2.3/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.10/hook",
    "https://[fd00::1]/hook",  # IPv6 unique local
    "https://[fe80::1]/hook",  # IPv6 link-local
    "http://224.0.0.1/hook",  # multicast
    "http://240.0.0.1/hook",  # reserved
]


@pytest.fixture
def guarded(db: Database, database_url: str) -> Iterator[TestClient[Litestar]]:
    """The app as an operator runs it by default: no inside network allowed."""
    with app_client_for(settings_for(database_url, webhook_allowed_networks=""), db) as client:
        yield client


def _create(client: httpx.Client, tenant: Tenant, endpoint: str) -> httpx.Response:
    return client.post(
        "/v2/webhooks",
        params={"region": "au"},
        headers={"ApiKey": tenant.api_key},
        json={"name": "CRM", "endpoint": endpoint},
    )


@pytest.mark.parametrize("endpoint", INSIDE)
def test_an_endpoint_inside_is_refused_at_registration(
    guarded: TestClient[Litestar], tenant: Tenant, endpoint: str
) -> None:
    response = _create(guarded, tenant, endpoint)

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False
    assert body["message"].startswith("endpoint must be a public address")
    assert guarded.get("/v2/webhooks", headers={"ApiKey": tenant.api_key}).json()["webhooks"] == []


def test_a_public_address_and_an_unresolvable_name_are_accepted(
    guarded: TestClient[Litestar], tenant: Tenant
) -> None:
    assert _create(guarded, tenant, "https://93.184.216.34/hook").status_code == 200
    # Not resolvable here (no outside DNS): judged again at every delivery.
    assert _create(guarded, tenant, "https://crm.dealer.invalid/hook").status_code == 200


def test_an_allowed_network_may_be_used(db: Database, database_url: str, tenant: Tenant) -> None:
    settings = settings_for(database_url, webhook_allowed_networks="10.0.0.0/8, fd00::/8")
    with app_client_for(settings, db) as client:
        assert _create(client, tenant, "https://10.1.2.3/hook").status_code == 200
        assert _create(client, tenant, "https://[fd00::1]/hook").status_code == 200
        assert _create(client, tenant, "https://192.168.1.10/hook").status_code == 400


class _Counter(BaseHTTPRequestHandler):
    hits = 0

    def do_POST(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_delivery_to_an_endpoint_now_inside_is_not_sent(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    """Registered while the operator allowed loopback; delivered after that was taken
    back (as a name that later resolves inward would be): nothing reaches the endpoint,
    and the log says no more than that."""
    _Counter.hits = 0
    with loopback_server(_Counter) as server:
        created = _create(http, tenant, f"{loopback_url(server)}/hook").json()["webhook"]
        http.post(f"/v2/webhooks/{created['id']}/ping", headers={"ApiKey": tenant.api_key})

        assert run_jobs(db, Settings(webhook_allowed_networks="")) == 1
        assert _Counter.hits == 0
    (refused,) = http.get(
        f"/v2/webhooks/{created['id']}/deliveries", headers={"ApiKey": tenant.api_key}
    ).json()["deliveries"]

    assert (refused["status"], refused["attempts"], refused["response_status"]) == ("pending", 1, None)
    assert refused["last_error"] == "not sent: the endpoint does not resolve to a public address"


def test_an_endpoint_that_does_not_answer_is_logged_without_network_detail(
    http: httpx.Client, db: Database, tenant: Tenant
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    created = _create(http, tenant, f"http://127.0.0.1:{port}/hook").json()["webhook"]
    http.post(f"/v2/webhooks/{created['id']}/ping", headers={"ApiKey": tenant.api_key})

    run_jobs(db)

    (delivery,) = http.get(
        f"/v2/webhooks/{created['id']}/deliveries", headers={"ApiKey": tenant.api_key}
    ).json()["deliveries"]
    assert (delivery["status"], delivery["last_error"]) == ("pending", "could not connect to the endpoint")


def test_a_bad_allowed_network_setting_is_named() -> None:
    with pytest.raises(ValueError, match="FORECOURT_WEBHOOK_ALLOWED_NETWORKS"):
        parse_networks("10.0.0.0/8, not-a-network")


class _Host(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_POST(self) -> None:
        type(self).seen.append(self.headers["Host"])
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_delivery_goes_to_the_address_checked_not_to_a_rebound_name(
    http: httpx.Client, db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name whose DNS answer changes between the server's check and the connection
    (DNS rebinding) cannot redirect the delivery: it is sent to the address checked, with
    the name in its Host header. The DNS is the one stand-in: it answers 127.0.0.1 (allowed
    here) to the first two questions, at registration and at delivery, and 127.0.0.2,
    where nothing listens, to any question after."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "hooks.rebind.test":
            return real(host, port, *args, **kwargs)
        asked.append(host)
        return real("127.0.0.1" if len(asked) <= 2 else "127.0.0.2", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    _Host.seen = []
    with loopback_server(_Host) as server:
        port = server.server_address[1]
        created = _create(http, tenant, f"http://hooks.rebind.test:{port}/hook").json()["webhook"]
        http.post(f"/v2/webhooks/{created['id']}/ping", headers={"ApiKey": tenant.api_key})
        run_jobs(db)

    assert _Host.seen == [f"hooks.rebind.test:{port}"]
    assert len(asked) == 2  # the HTTP client never asked the DNS again


def test_a_name_with_several_addresses_is_delivered_to_the_first_that_answers(
    http: httpx.Client, db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a connection to the name would: its first address (127.0.0.2, nothing listens)
    refuses, the next one (127.0.0.1) takes the delivery. The DNS is the stand-in."""
    real = socket.getaddrinfo

    def two_addresses(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "hooks.twice.test":
            return real(host, port, *args, **kwargs)
        return [*real("127.0.0.2", port, *args, **kwargs), *real("127.0.0.1", port, *args, **kwargs)]

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    _Host.seen = []
    with loopback_server(_Host) as server:
        port = server.server_address[1]
        created = _create(http, tenant, f"http://hooks.twice.test:{port}/hook").json()["webhook"]
        http.post(f"/v2/webhooks/{created['id']}/ping", headers={"ApiKey": tenant.api_key})
        run_jobs(db)

    assert _Host.seen == [f"hooks.twice.test:{port}"]
