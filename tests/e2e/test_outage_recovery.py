"""The database goes away and comes back while the app serves: every dialect answers 503
with Retry-After meanwhile, and the same app answers again by itself afterwards, with no
restart. SQLite: the file made read-only (the immutable flag, which binds root too), then
writable. PostgreSQL: a TCP proxy between the app and the server cut and restored, which is
what clients see of a server restart (the shared test server itself is not restarted)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from forecourt.core.accounts import service as accounts
from forecourt.core.users import passwords
from forecourt.core.users import service as users
from forecourt.db import migrate
from forecourt.db.engine import Database
from tests.conftest import Tenant, app_client_for, listing_record, make_tenant, settings_for

VIN = "1N4AL11D16N337720"


@dataclass(frozen=True)
class Keys:
    tenant: Tenant
    basic: str  # Kapture's Basic credential
    ingest: str  # the operator's listing-feed key


def keys_for(db: Database, tenant: Tenant) -> Keys:
    with db.write() as conn:
        basic = accounts.issue_credential(conn, tenant.account.id, "basic").basic_token
        ingest = accounts.issue_ingest_key(conn)
    return Keys(tenant, basic, ingest)


def write_everywhere(client: httpx.Client, keys: Keys, n: int) -> dict[str, httpx.Response]:
    """One write in every dialect (the n-th: new data each time)."""
    api_key = keys.tenant.api_key
    return {
        "recapture": client.put(
            "/v2/recapture/customers",
            params={"region": "au"},
            headers={"ApiKey": api_key},
            json={"customer": {"rego": f"OUT{n:03d}", "state": "VIC"}},
        ),
        "autengo": client.post(
            "/v3/contact", headers={"X-Api-Key": api_key}, json={"firstName": f"Max{n}", "isPrivat": True}
        ),
        "kapture": client.post(
            "/ms/customer/customer/api/v1/add-update",
            headers={"Authorization": f"Basic {keys.basic}"},
            json={"customer_info": {"customer_name": f"Erika {n}"}, "contact_info": [{"phone": f"555{n}"}]},
        ),
        "sync": client.post(
            "/api/batch/scraping/",
            headers={"Authorization": f"Bearer {api_key}"},
            json={"vehicles": [{"vin": VIN, "plate": f"SYN{n:03d}"}]},
        ),
        "ingest": client.post(
            "/ingest/v1/listings",
            headers={"Authorization": f"Bearer {keys.ingest}"},
            json=[listing_record(f"L{n}", plate=f"LST{n:03d}", state="VIC")],
        ),
    }


WRITTEN = {"recapture": 200, "autengo": 201, "kapture": 200, "sync": 202, "ingest": 200}


def assert_unavailable_in_every_envelope(answers: dict[str, httpx.Response]) -> None:
    assert {name: (r.status_code, r.headers.get("Retry-After")) for name, r in answers.items()} == {
        name: (503, "5") for name in answers
    }
    assert answers["recapture"].json()["success"] is False
    assert answers["autengo"].json()["status"] == "error"
    assert answers["kapture"].json()["status"] == "failed"
    assert answers["sync"].json()["errorType"] == "serviceUnavailable"
    assert "unavailable" in answers["ingest"].json()["error"]


def assert_written(answers: dict[str, httpx.Response]) -> None:
    assert {name: r.status_code for name, r in answers.items()} == WRITTEN, {
        name: r.text for name, r in answers.items()
    }


def customer_regos(client: httpx.Client, tenant: Tenant) -> list[str]:
    response = client.get(
        "/v2/recapture/customers", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
    )
    assert response.status_code == 200, response.text
    return sorted(c["rego"] for c in response.json()["customers"])


# --- SQLite: the file read-only, then writable ------------------------------------------


@contextmanager
def read_only(database: Path) -> Iterator[None]:
    """The database file and its WAL made immutable (chattr +i): no process may write them,
    root included (the tests run as root, for whom chmod changes nothing), and writes
    through descriptors opened before fail as well, as on a volume remounted read-only. The
    shared-memory index is left alone: the kernel would kill a process writing its mapping."""
    files = [str(p) for p in (database, database.with_name(f"{database.name}-wal")) if p.exists()]
    if not shutil.which("chattr"):
        pytest.skip("chattr (e2fsprogs) is not installed")
    made = subprocess.run(["chattr", "+i", *files], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file immutable here (root on ext4/xfs/btrfs is needed): {made.stderr}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *files], check=True)


def test_a_sqlite_file_made_read_only_then_writable_again_is_served_again_without_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "forecourt.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    setup = Database(url)
    keys = keys_for(setup, make_tenant(setup, "Alpha Motors"))
    setup.dispose()
    db = Database(url)  # the app's: no connection open yet

    # SQLite's default rate-limit counters, in the process: a read needs no write.
    with app_client_for(settings_for(url, rate_limit_storage="auto"), db) as client:
        # Read-only before the app opened its first connection (as after a restart during
        # the outage): SQLite opens the file read-only and would keep it so for good.
        with read_only(path):
            during = write_everywhere(client, keys, 1)
            ready, alive = client.get("/readyz"), client.get("/healthz")
            regos = customer_regos(client, keys.tenant)  # reading still works

        assert_unavailable_in_every_envelope(during)
        assert (ready.status_code, ready.json()["reason"]) == (503, "the database is not writable")
        assert ready.headers["Retry-After"] == "5"
        assert alive.status_code == 200  # the process is alive: nothing to restart
        assert regos == []

        assert client.get("/readyz").status_code == 200
        assert_written(write_everywhere(client, keys, 2))

        # Read-only again while connections opened for writing are in use.
        with read_only(path):
            during = write_everywhere(client, keys, 3)
            ready = client.get("/readyz")

        assert_unavailable_in_every_envelope(during)
        assert ready.status_code == 503
        assert client.get("/readyz").status_code == 200
        assert_written(write_everywhere(client, keys, 4))
        # Nothing of the refused writes was kept.
        assert customer_regos(client, keys.tenant) == ["OUT002", "OUT004"]
    db.dispose()


# --- PostgreSQL: the server restarts ---------------------------------------------------


class TcpProxy:
    """A TCP proxy on loopback in front of `target`. `cut()` closes every connection through
    it and refuses new ones (what clients see while a server restarts); `restore()` listens
    on the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))  # SO_REUSEADDR: the port can be taken again
        self.port: int = self._listener.getsockname()[1]
        self._serve(self._listener)

    def _serve(self, listener: socket.socket) -> None:
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut: the listener is closed
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        self._close(source, sink)

    def _close(self, *sockets: socket.socket) -> None:
        for s in sockets:
            with self._lock:
                self._open.discard(s)
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def cut(self) -> None:
        self._close(self._listener)  # shutdown wakes the thread blocked in accept()
        with self._lock:
            through = list(self._open)
        self._close(*through)

    def restore(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._serve(self._listener)

    def close(self) -> None:
        self.cut()


def test_postgresql_restarting_is_503_everywhere_then_the_same_app_answers_again(
    database_url: str, db: Database, tenant: Tenant
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no server (its outage is the read-only file above)")
    keys = keys_for(db, tenant)
    where = re.search(r"@([^:/]+):(\d+)/", database_url)
    assert where, database_url
    proxy = TcpProxy((where.group(1), int(where.group(2))))
    url = database_url.replace(where.group(0), f"@127.0.0.1:{proxy.port}/")
    through_proxy = Database(url)
    try:
        with app_client_for(settings_for(url), through_proxy) as client:
            assert_written(write_everywhere(client, keys, 1))  # connections open through the proxy

            proxy.cut()
            during = write_everywhere(client, keys, 2)
            ready, alive = client.get("/readyz"), client.get("/healthz")
            reading = client.get(
                "/v2/recapture/customers", params={"region": "au"}, headers={"ApiKey": tenant.api_key}
            )

            assert_unavailable_in_every_envelope(during)
            assert (ready.status_code, ready.json()["reason"]) == (503, "the database is unreachable")
            assert (alive.status_code, reading.status_code) == (503, 503)

            proxy.restore()
            assert client.get("/readyz").status_code == 200  # at once: no restart, no wait
            assert_written(write_everywhere(client, keys, 3))

            # A restart between two requests: the pooled connections are dead, unnoticed
            # until used; the next request is served all the same (checked before use).
            proxy.cut()
            proxy.restore()
            assert_written(write_everywhere(client, keys, 4))
            assert customer_regos(client, tenant) == ["OUT001", "OUT003", "OUT004"]
    finally:
        through_proxy.dispose()
        proxy.close()


def test_readyz_is_503_on_a_postgresql_that_takes_no_writes(database_url: str, db: Database) -> None:
    """A standby, or `default_transaction_read_only`: reachable and migrated, but not ready."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: the read-only SQLite file is tested above")
    url = f"{database_url}?options=-c%20default_transaction_read_only%3Don"
    read_only_sessions = Database(url)
    try:
        with app_client_for(settings_for(url), read_only_sessions) as client:
            ready = client.get("/readyz")
    finally:
        read_only_sessions.dispose()

    assert (ready.status_code, ready.json()["reason"]) == (503, "the database is not writable")


# --- The workspace ---------------------------------------------------------------------


def test_the_workspace_answers_an_outage_with_a_page_and_signs_in_once_it_is_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passwords, "hasher", PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024),)))
    path = tmp_path / "forecourt.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    db = Database(url)
    tenant = make_tenant(db, "Alpha Motors")
    with db.write() as conn:
        new = users.check_new_user(tenant.account.id, "mia@alpha.example", "Mia", "manager")
        users.create_user(conn, new, "correct horse battery")
    form = {"email": "mia@alpha.example", "password": "correct horse battery"}

    with app_client_for(settings_for(url, rate_limit_storage="auto"), db) as client:
        page = client.get("/login", headers={"Accept-Language": "de"})
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        form["csrf"] = csrf.group(1)
        with read_only(path):  # the session cannot be written
            during = client.post("/login", data=form, headers={"Accept-Language": "de"})
        assert (during.status_code, during.headers["Retry-After"]) == (503, "5")
        assert "Forecourt ist nicht erreichbar" in during.text
        assert "forecourt_session" not in during.headers.get("set-cookie", "")

        after = client.post("/login", data=form)
        assert after.status_code == 303
        assert "Mia" in client.get("/").text
    db.dispose()
