"""`forecourt serve` as a real process: it starts, answers HTTP, and exits cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from forecourt.db import migrate
from forecourt.db.engine import Database
from forecourt.jobs import queue
from tests.conftest import DRAIN_SCRIPT

FORECOURT_BIN = Path(sys.executable).with_name("forecourt")
BOUNDED_WAIT = 30.0  # seconds; a safety net against hangs, never an assertion about speed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    """The caller's environment without FORECOURT_* settings that could leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORECOURT_")}
    env["FORECOURT_WORKER_POLL_SECONDS"] = "0.1"
    # One process, the embedded worker in it (test_serve_processes.py runs several).
    env["FORECOURT_PROCESSES"] = "1"
    return env


class ServeProcess:
    def __init__(
        self,
        tmp_path: Path,
        command: Sequence[str] = (str(FORECOURT_BIN),),
        database_url: str | None = None,
        env: dict[str, str | None] | None = None,  # None: the setting left out
    ) -> None:
        self.database_url = database_url or f"sqlite:///{tmp_path / 'x.db'}"
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "serve.log"
        args = ["serve", "--port", str(self.port), "--database-url", self.database_url]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [*command, *args],
                env={k: v for k, v in (_env() | (env or {})).items() if v is not None},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self) -> httpx.Response:
        """Poll /healthz until it answers 200 (bounded); fail early if the process dies."""
        deadline = time.monotonic() + BOUNDED_WAIT
        with httpx.Client(timeout=2) as client:  # one client: making one per poll costs more than a poll
            while True:
                if self.proc.poll() is not None:
                    pytest.fail(f"serve exited with {self.proc.returncode}:\n{self.log}")
                try:
                    response = client.get(f"{self.base_url}/healthz")
                    if response.status_code == 200:
                        return response
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"serve never became healthy:\n{self.log}")
                time.sleep(0.02)

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + BOUNDED_WAIT
        while not condition():
            if self.proc.poll() is not None:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"gave up waiting for {what}:\n{self.log}")
            time.sleep(0.01)

    def terminate(self) -> int:
        """SIGTERM, then the exit code (bounded wait; killed and failed if it hangs)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=BOUNDED_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"serve did not exit after SIGTERM:\n{self.log}")


@contextmanager
def serving(tmp_path: Path, **options: Any) -> Iterator[ServeProcess]:
    """A `forecourt serve` process, killed at the end if it is still running."""
    server = ServeProcess(tmp_path, **options)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    with serving(tmp_path) as server:
        yield server


def _cli(database_url: str, *args: str) -> Any:
    result = subprocess.run(
        [str(FORECOURT_BIN), "--database-url", database_url, *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=BOUNDED_WAIT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_serve_is_healthy_documents_its_api_and_exits_cleanly_on_sigterm(
    serve: ServeProcess,
) -> None:
    health = serve.wait_healthy()
    assert health.json() == {"status": "ok"}

    schema = httpx.get(f"{serve.base_url}/docs/openapi.json", timeout=10)
    assert schema.status_code == 200
    assert "/v2/recapture/customers" in schema.json()["paths"]

    code = serve.terminate()
    assert code == 0, serve.log


def test_account_created_by_the_cli_can_use_the_running_api(serve: ServeProcess) -> None:
    serve.wait_healthy()
    # The operator creates the tenant with a second process against the same database.
    created = _cli(serve.database_url, "accounts", "create", "--name", "Alpha Motors")
    url = f"{serve.base_url}/v2/recapture/customers"
    body = {"customer": {"rego": "ABC123", "state": "VIC"}}

    with httpx.Client(timeout=10) as client:
        response = client.put(url, params={"region": "au"}, headers={"ApiKey": created["api_key"]}, json=body)
        assert response.status_code in (200, 201), response.text
        payload = response.json()
        assert payload["success"] is True
        assert payload["customer"]["rego"] == "ABC123"
        assert payload["customer"]["state"] == "VIC"

        listed = client.get(url, params={"region": "au"}, headers={"ApiKey": created["api_key"]}).json()
        assert listed["success"] is True
        assert listed["total"] == 1

        # Without a valid key nothing is accepted.
        refused = client.put(url, params={"region": "au"}, headers={"ApiKey": "fck_nope_nope"}, json=body)
        assert refused.status_code == 401
        assert refused.json()["success"] is False

        # A key or a customer's details sent in a query string stay out of the log.
        client.get(url, params={"region": "au", "ApiKey": created["api_key"], "email": "jane@example.com"})

        # A key revoked from the CLI stops working on the running server.
        _cli(serve.database_url, "keys", "revoke", created["key_prefix"])
        revoked = client.put(url, params={"region": "au"}, headers={"ApiKey": created["api_key"]}, json=body)
        assert revoked.status_code == 401

    assert serve.terminate() == 0, serve.log
    assert "GET /v2/recapture/customers 401" in serve.log
    assert created["api_key"] not in serve.log
    assert "jane@example.com" not in serve.log


def test_sigterm_lets_the_embedded_worker_finish_its_job(tmp_path: Path) -> None:
    started, go = tmp_path / "started", tmp_path / "go"
    database_url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate.upgrade(database_url)
    db = Database(database_url)
    try:
        with db.write() as conn:
            job_id = queue.enqueue(conn, "test.slow", {})
        serve = ServeProcess(tmp_path, [sys.executable, "-c", DRAIN_SCRIPT, str(started), str(go)])
        try:
            serve.wait_healthy()
            serve.wait_until(started.exists, "the embedded worker to start the job")
            serve.proc.send_signal(signal.SIGTERM)
            # The server stops taking requests and waits for the job in hand...
            serve.wait_until(lambda: "Waiting for application shutdown" in serve.log, "the shutdown to begin")
            go.write_text("go")  # ...which may now finish.
            code = serve.terminate()
        finally:
            if serve.proc.poll() is None:
                serve.proc.kill()
                serve.proc.wait()
        assert code == 0, serve.log
        with db.read() as conn:
            assert queue.get_state(conn, job_id) == (queue.DONE, 1, None), serve.log
    finally:
        db.dispose()


def test_serve_on_a_busy_port_fails_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        database = tmp_path / "x.db"
        result = subprocess.run(
            [str(FORECOURT_BIN), "serve", "--port", str(port), "--database-url", f"sqlite:///{database}"],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=BOUNDED_WAIT,
            check=False,
        )

    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "worker" not in result.stderr  # no worker started, so none could take a job
    assert not database.exists()
