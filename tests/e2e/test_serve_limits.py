"""Rate limits and slow clients against real servers: two `forecourt serve` processes on
one database share a budget; a lockout follows a key across addresses but an address's
only that address; and a server closes connections whose headers never finish, idle
ones, and answers 503 beyond its connection cap."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from forecourt import bootstrap
from forecourt.db.engine import Database
from tests.conftest import Tenant, running_server, settings_for
from tests.e2e.test_serve_process import BOUNDED_WAIT, FORECOURT_BIN, _env, _free_port

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: forecourt\r\n\r\n"


@contextmanager
def serving_many(count: int, database_url: str, logs: Path, **settings: str) -> Iterator[list[str]]:
    """`count` `forecourt serve` processes with these FORECOURT_* settings (no embedded
    worker), started together; yields their base URLs once all are healthy; killed after."""
    env = (
        _env()
        | {"FORECOURT_EMBEDDED_WORKER": "false"}
        | {f"FORECOURT_{k.upper()}": v for k, v in settings.items()}
    )
    procs: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        for n in range(count):
            port, log = _free_port(), logs / f"serve{n}.log"
            with log.open("wb") as out:
                command = [str(FORECOURT_BIN), "serve", "--port", str(port), "--database-url", database_url]
                proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            procs.append((proc, f"http://127.0.0.1:{port}", log))
        deadline = time.monotonic() + BOUNDED_WAIT
        with httpx.Client(timeout=2) as client:
            for proc, base, log in procs:
                while True:
                    if proc.poll() is not None:
                        pytest.fail(f"serve exited with {proc.returncode}:\n{log.read_text()}")
                    try:
                        if client.get(f"{base}/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        pytest.fail(f"serve never became healthy:\n{log.read_text()}")
                    time.sleep(0.02)
        yield [base for _, base, _ in procs]
    finally:
        for proc, _, _ in procs:
            proc.kill()
            proc.wait()


@contextmanager
def serving(database_url: str, logs: Path, **settings: str) -> Iterator[str]:
    with serving_many(1, database_url, logs, **settings) as (base,):
        yield base


def test_two_serve_processes_on_one_database_share_one_budget(
    db: Database, database_url: str, tenant: Tenant, tmp_path: Path
) -> None:
    with (
        serving_many(
            2, database_url, tmp_path, rate_limit_per_minute="4", rate_limit_storage="database"
        ) as bases,
        httpx.Client(timeout=10, headers={"X-Api-Key": tenant.api_key}) as client,
    ):
        answers = [client.get(f"{base}/v3/vehicle") for base in bases * 3]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429, 429]
    assert [a.headers["RateLimit"].split(";")[1] for a in answers] == [
        "r=3",
        "r=2",
        "r=1",
        "r=0",
        "r=0",
        "r=0",
    ]
    assert answers[-1].json()["status"] == "error"


def _client_from(address: str, key: str) -> httpx.Client:
    return httpx.Client(
        timeout=10, headers={"X-Api-Key": key}, transport=httpx.HTTPTransport(local_address=address)
    )


def test_a_lockout_follows_the_key_everywhere_and_the_address_nowhere_else(
    db: Database, database_url: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    settings = settings_for(database_url, auth_failure_limit=2)
    prefix = tenant.api_key.split("_")[1]
    with running_server(bootstrap.app(settings, db)) as base:
        url = f"{base}/v3/vehicle"
        with _client_from("127.0.0.1", f"fck_{prefix}_guess") as guesser:
            assert [guesser.get(url).status_code for _ in range(2)] == [401, 401]
        # The key is locked wherever it comes from, the right secret too...
        with _client_from("127.0.0.2", tenant.api_key) as owner:
            assert owner.get(url).status_code == 429
        # ...and the guessing address for any key; another address is not.
        with _client_from("127.0.0.1", other_tenant.api_key) as same_address:
            assert same_address.get(url).status_code == 429
        with _client_from("127.0.0.3", other_tenant.api_key) as elsewhere:
            assert elsewhere.get(url).status_code == 200


def _closed_by_server(sock: socket.socket) -> bool:
    """Wait (bounded) for the server to close the connection: True when it did."""
    sock.settimeout(BOUNDED_WAIT)
    try:
        while sock.recv(4096):
            pass  # an answer (a 400, or the keep-alive request's 200) before the close
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_slow_headers_and_idle_connections_are_closed(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'x.db'}"
    with serving(database_url, tmp_path, header_timeout_seconds="1", keep_alive_seconds="1") as base:
        port = int(base.rsplit(":", 1)[1])

        silent = socket.create_connection(("127.0.0.1", port))  # connects, sends nothing
        slowloris = socket.create_connection(("127.0.0.1", port))
        slowloris.sendall(b"GET /healthz HTTP/1.1\r\nHost: forecourt\r\n")  # and never the blank line
        idle = socket.create_connection(("127.0.0.1", port))
        idle.sendall(REQUEST)  # one whole request, then nothing more on the kept-alive connection

        # The slowloris keeps trickling header bytes; the server closes it all the same.
        deadline = time.monotonic() + BOUNDED_WAIT
        slowloris.settimeout(0.1)
        closed = False
        while not closed and time.monotonic() < deadline:
            try:
                slowloris.sendall(b"X-A: b\r\n")
                closed = slowloris.recv(1) == b""
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        assert closed, "a client trickling its headers held the connection"

        assert _closed_by_server(silent), "a silent connection was held"
        assert _closed_by_server(idle), "an idle kept-alive connection was held"
        for sock in (silent, slowloris, idle):
            sock.close()
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200


def test_requests_beyond_the_connection_cap_get_503(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'x.db'}"
    with serving(database_url, tmp_path, max_connections="3") as base:
        port = int(base.rsplit(":", 1)[1])
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        with httpx.Client(timeout=10) as client:
            # Two open, this one the third: at the cap.
            assert client.get(f"{base}/healthz").status_code == 503
            for sock in held:
                sock.close()
            deadline = time.monotonic() + BOUNDED_WAIT
            while client.get(f"{base}/healthz").status_code != 200:  # the server sees them go
                assert time.monotonic() < deadline, "connections closed by clients still counted"
                time.sleep(0.02)
