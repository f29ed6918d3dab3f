"""`forecourt serve --processes N` and `forecourt worker --concurrency N` as real processes
on both backends: N API processes answer on one port, a killed one is replaced, uploads
are processed by worker processes, SIGTERM drains them all and exits 0, and N workers
run N jobs at once, none twice.

The command runs from a script (written into the test's folder) that adds two test hooks
before handing over to the real CLI: every answer names the process that gave it
(`X-Pid`), a `test.gate` job marks which process ran it, then waits for the test's
go-ahead, and an upload's job marks which process ran it. The script is a file so that
spawned processes import it too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import httpx
import pytest

from forecourt.db.engine import Database
from forecourt.jobs import queue
from tests.conftest import Tenant
from tests.e2e.test_serve_process import BOUNDED_WAIT, ServeProcess, _env, serving

SCRIPT = """
import os, sys, time
from pathlib import Path

from forecourt import bootstrap
from forecourt.core.uploads import tasks  # registers the upload's job, wrapped below
from forecourt.core.uploads.service import PROCESS_JOB
from forecourt.jobs.worker import HANDLERS, task

MARKS = Path(os.environ["TEST_MARKS"])


@task("test.gate")
def gate(ctx):
    (MARKS / f"started-{ctx.job.id}-{os.getpid()}").touch()
    deadline = time.monotonic() + 30
    while not (MARKS / "go").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("never told to go on")
        time.sleep(0.02)
    (MARKS / f"done-{ctx.job.id}-{os.getpid()}").touch()


def marked(handler):
    def run(ctx):
        (MARKS / f"ran-{ctx.job.id}-{os.getpid()}").touch()
        return handler(ctx)

    return run


HANDLERS[PROCESS_JOB] = marked(HANDLERS[PROCESS_JOB])

def answering_with_pid(build):
    def build_app(*args):
        inner = build(*args)

        async def with_pid(scope, receive, send):
            async def send_with_pid(message):
                if message["type"] == "http.response.start":
                    pid = (b"x-pid", str(os.getpid()).encode())
                    message = {**message, "headers": [*message.get("headers", []), pid]}
                await send(message)

            await inner(scope, receive, send_with_pid)

        return with_pid

    return build_app


# Several API processes, and the one process of `--processes 1`.
bootstrap.api_process = answering_with_pid(bootstrap.api_process)
bootstrap.serving = answering_with_pid(bootstrap.serving)

if __name__ == "__main__":
    from forecourt.cli.main import app

    app(sys.argv[1:])
"""
UPLOAD = "/v2/recapture/upload"


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    found = tmp_path / "marks"
    found.mkdir()
    return found


@pytest.fixture
def script(tmp_path: Path) -> list[str]:
    path = tmp_path / "forecourt_under_test.py"
    path.write_text(SCRIPT)
    return [sys.executable, str(path)]


def _wait_for(condition: Callable[[], bool], what: str, log: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + BOUNDED_WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}:\n{log()}")
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (killed but not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # gone between the open and the read
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _pid(base_url: str) -> int:
    """Which process answers a request on a new connection (each request must be answered)."""
    response = httpx.get(f"{base_url}/healthz", headers={"Connection": "close"}, timeout=10)
    assert response.status_code == 200, response.text
    return int(response.headers["x-pid"])


def _answering(server: ServeProcess, count: int, besides: AbstractSet[int] = frozenset()) -> set[int]:
    """The PIDs answering requests, asked until `count` of them are not in `besides`."""
    seen: set[int] = set()

    def enough() -> bool:
        seen.add(_pid(server.base_url))
        return len(seen - besides) >= count

    _wait_for(enough, f"{count} processes to answer", lambda: server.log)
    return seen - besides


def _marks(marks: Path, kind: str) -> list[tuple[int, int]]:
    """(job id, pid) of each `kind` mark ("started", "done" or "ran")."""
    found = []
    for path in marks.glob(f"{kind}-*"):
        _, job, pid = path.name.split("-")
        found.append((int(job), int(pid)))
    return sorted(found)


def _upload(client: httpx.Client, tenant: Tenant, rego: str) -> dict[str, Any]:
    """Upload one customer and follow the upload until a worker has processed it."""
    auth = {"params": {"region": "au"}, "headers": {"ApiKey": tenant.api_key}}
    body = {"customers": [{"rego": rego, "state": "VIC", "external_id": rego}]}
    posted = client.post(UPLOAD, json=body, **auth)  # type: ignore[arg-type]
    assert posted.status_code == 202, posted.text
    upload_id = posted.json()["upload"]["id"]
    seen: dict[str, Any] = {}

    def done() -> bool:
        seen.update(client.get(f"{UPLOAD}/{upload_id}", **auth).json()["upload"])  # type: ignore[arg-type]
        return bool(seen["status"] == "completed")

    _wait_for(done, f"upload {upload_id} to complete")
    return seen


@pytest.fixture
def several(
    tmp_path: Path, database_url: str, db: Database, script: list[str], marks: Path
) -> Iterator[ServeProcess]:
    """`serve` with 2 API processes and 1 worker process, on an emptied database."""
    env = {"FORECOURT_PROCESSES": "2", "TEST_MARKS": str(marks)}
    with serving(tmp_path, command=script, database_url=database_url, env=env) as server:
        yield server


def test_two_api_processes_answer_on_one_port_and_a_killed_one_is_replaced(
    several: ServeProcess, db: Database, tenant: Tenant, marks: Path
) -> None:
    several.wait_healthy()
    first = _answering(several, 2)
    assert several.proc.pid not in first  # the supervisor serves nothing itself

    # An upload is processed, by a worker process: the API processes run no jobs.
    with httpx.Client(base_url=several.base_url, timeout=10) as client:
        upload = _upload(client, tenant, "ABC123")
    assert (upload["total_processed_customers"], upload["total_errors"]) == (1, 0)
    [(_, worker)] = _marks(marks, "ran")
    assert worker not in first and worker != several.proc.pid

    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    # Every request keeps being answered; a new process takes the dead one's place.
    replacement = _answering(several, 1, besides=first)
    assert not _alive(victim)
    assert len(replacement) == 1 and replacement.isdisjoint(first)

    assert several.terminate() == 0, several.log
    for pid in first | replacement:
        assert not _alive(pid)


@pytest.mark.parametrize("cores", [1, 2])
def test_serve_runs_an_api_process_per_usable_core_by_default(
    cores: int, tmp_path: Path, database_url: str, db: Database, script: list[str], marks: Path
) -> None:
    """No FORECOURT_PROCESSES: as many API processes as cores it may use (taskset), and on
    one core a single process that also runs the jobs."""
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < cores:
        pytest.skip(f"{cores} cores needed, {len(usable)} usable")
    with db.write() as conn:
        job_id = queue.enqueue(conn, "test.gate", {})
    (marks / "go").touch()
    command = ["taskset", "--cpu-list", ",".join(map(str, usable[:cores])), *script]
    env: dict[str, str | None] = {"FORECOURT_PROCESSES": None, "TEST_MARKS": str(marks)}
    with serving(tmp_path, command=command, database_url=database_url, env=env) as server:
        server.wait_healthy()
        api = _answering(server, cores)
        assert {_pid(server.base_url) for _ in range(20)} <= api  # and no more than that
        _wait_for(lambda: bool(_marks(marks, "done")), "the job to be run", lambda: server.log)
        [(done, runner)] = _marks(marks, "done")
        assert server.terminate() == 0, server.log
    assert done == job_id
    if cores == 1:
        assert api == {server.proc.pid} and runner == server.proc.pid  # the embedded worker
    else:
        assert server.proc.pid not in api and runner not in api | {server.proc.pid}


def test_sigterm_drains_the_api_and_the_worker_processes_and_exits_0(
    several: ServeProcess, db: Database, marks: Path
) -> None:
    with db.write() as conn:
        job_id = queue.enqueue(conn, "test.gate", {})
    several.wait_healthy()
    api = _answering(several, 2)
    _wait_for(lambda: bool(_marks(marks, "started")), "a worker process to take the job", lambda: several.log)
    [(started_job, worker)] = _marks(marks, "started")
    assert started_job == job_id and worker not in api and worker != several.proc.pid

    several.proc.send_signal(signal.SIGTERM)
    _wait_for(lambda: not any(_alive(pid) for pid in api), "the API processes to stop", lambda: several.log)
    assert _alive(worker)  # still finishing its job
    (marks / "go").touch()
    assert several.terminate() == 0, several.log
    assert not _alive(worker)
    assert _marks(marks, "done") == [(job_id, worker)]
    with db.read() as conn:
        assert queue.get_state(conn, job_id) == (queue.DONE, 1, None)


def _descendants(pid: int) -> dict[int, int]:
    """The processes below `pid`, each with its depth (1: a child)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            parents.setdefault(parent, []).append(int(entry.name))
    found: dict[int, int] = {}
    todo = [(pid, 0)]
    while todo:
        parent, depth = todo.pop()
        for child in parents.get(parent, []):
            found[child] = depth + 1
            todo.append((child, depth + 1))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def test_a_worker_process_that_ran_the_upload_pipeline_stops_on_sigterm(
    tmp_path: Path, database_url: str, db: Database, script: list[str], marks: Path, tenant: Tenant
) -> None:
    # A worker process keeps the pipeline's child between uploads: SIGTERM still ends
    # the worker, and the child with it (the worker stops it: see pipeline.stop_child).
    env = {
        "FORECOURT_PROCESSES": "2",
        "TEST_MARKS": str(marks),
        "FORECOURT_UPLOAD_PIPELINE_ROWS": "1",
        "FORECOURT_UPLOAD_CHUNK_ROWS": "5",
    }
    with serving(tmp_path, command=script, database_url=database_url, env=env) as server:
        server.wait_healthy()
        auth = {"params": {"region": "au"}, "headers": {"ApiKey": tenant.api_key}}
        body = {"customers": [{"rego": f"PIPE{n:02d}", "state": "VIC"} for n in range(40)]}
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            posted = client.post(UPLOAD, json=body, **auth)  # type: ignore[arg-type]
            assert posted.status_code == 202, posted.text
            path = f"{UPLOAD}/{posted.json()['upload']['id']}"

            def completed() -> bool:
                upload = client.get(path, **auth).json()["upload"]  # type: ignore[arg-type]
                return bool(upload["status"] == "completed" and upload["total_processed_customers"] == 40)

            _wait_for(completed, "the upload to complete", lambda: server.log)
        tree = _descendants(server.proc.pid)
        children = [pid for pid, depth in tree.items() if depth == 2 and b"spawn_main" in _cmdline(pid)]
        assert children, f"no pipeline child under the worker\n{tree}"
        assert server.terminate() == 0, server.log
        # The resource trackers exit on their own once their last user is gone: polled.
        _wait_for(
            lambda: not any(_alive(pid) for pid in tree), "every process of serve to end", lambda: server.log
        )


def test_the_processes_of_a_serve_killed_with_9_stop_too(
    several: ServeProcess, db: Database, marks: Path
) -> None:
    """Nobody is left to supervise them: they stop rather than serve and take jobs on."""
    (marks / "go").touch()
    with db.write() as conn:
        queue.enqueue(conn, "test.gate", {})
    several.wait_healthy()
    api = _answering(several, 2)
    _wait_for(lambda: bool(_marks(marks, "done")), "a worker process to run the job", lambda: several.log)
    [(_, worker)] = _marks(marks, "done")

    several.proc.kill()
    several.proc.wait()
    _wait_for(
        lambda: not any(_alive(pid) for pid in api | {worker}), "its processes to stop", lambda: several.log
    )


def test_a_killed_worker_process_is_replaced(several: ServeProcess, db: Database, marks: Path) -> None:
    with db.write() as conn:
        first_job = queue.enqueue(conn, "test.gate", {})
    several.wait_healthy()
    _wait_for(lambda: bool(_marks(marks, "started")), "a worker process to take the job", lambda: several.log)
    [(_, worker)] = _marks(marks, "started")
    os.kill(worker, signal.SIGKILL)
    # A new worker process takes the next job (the killed one's comes back after its lease).
    (marks / "go").touch()
    with db.write() as conn:
        second_job = queue.enqueue(conn, "test.gate", {})
    _wait_for(
        lambda: any(job == second_job for job, _ in _marks(marks, "done")),
        "a new worker",
        lambda: several.log,
    )
    [(_, replacement)] = [(job, pid) for job, pid in _marks(marks, "done") if job == second_job]
    assert replacement != worker and not _alive(worker)
    assert several.terminate() == 0, several.log
    assert first_job not in {job for job, _ in _marks(marks, "done")}


def test_worker_concurrency_runs_that_many_jobs_at_once_none_twice(
    tmp_path: Path, database_url: str, db: Database, script: list[str], marks: Path
) -> None:
    with db.write() as conn:
        jobs = [queue.enqueue(conn, "test.gate", {}) for _ in range(6)]
    log_path = tmp_path / "worker.log"
    env = _env() | {"TEST_MARKS": str(marks)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*script, "--database-url", database_url, "worker", "--concurrency", "3"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # Three jobs are taken at once, by three processes, and wait there for the go-ahead.
        _wait_for(lambda: len(_marks(marks, "started")) == 3, "three jobs to start", log_path.read_text)
        started = _marks(marks, "started")
        assert len({pid for _, pid in started}) == 3
        (marks / "go").touch()
        _wait_for(lambda: len(_marks(marks, "done")) == 6, "all jobs to be done", log_path.read_text)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=BOUNDED_WAIT) == 0, log_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done = _marks(marks, "done")
    assert sorted(job for job, _ in done) == jobs  # each once
    assert len(_marks(marks, "started")) == 6  # and started once
    assert {pid for _, pid in done} == {pid for _, pid in started}  # by those three processes
    with db.read() as conn:
        assert all(queue.get_state(conn, job) == (queue.DONE, 1, None) for job in jobs)
    assert not any(_alive(pid) for _, pid in done)


def test_the_api_processes_share_one_rate_limit_budget(
    tmp_path: Path, database_url: str, db: Database, tenant: Tenant, script: list[str], marks: Path
) -> None:
    env = {"FORECOURT_PROCESSES": "2", "TEST_MARKS": str(marks), "FORECOURT_RATE_LIMIT_PER_MINUTE": "4"}
    with serving(tmp_path, command=script, database_url=database_url, env=env) as server:
        server.wait_healthy()
        answers: list[tuple[int, int]] = []  # (pid, status)

        def both_answered_past_the_budget() -> bool:
            response = httpx.get(
                f"{server.base_url}/v3/vehicle",
                headers={"X-Api-Key": tenant.api_key, "Connection": "close"},
                timeout=10,
            )
            answers.append((int(response.headers["x-pid"]), response.status_code))
            return len({pid for pid, _ in answers}) == 2 and len(answers) > 4

        _wait_for(both_answered_past_the_budget, "both processes to answer", lambda: server.log)
        assert server.terminate() == 0, server.log
    # Four requests in all were let through, whichever process took them.
    assert [status for _, status in answers] == [200] * 4 + [429] * (len(answers) - 4)


def test_processes_that_cannot_start_stop_serve_with_exit_3(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    """A bad setting found only when a process builds its app is not retried for ever."""
    env = {"FORECOURT_PROCESSES": "2", "FORECOURT_RATE_LIMIT_STORAGE": "bogus://"}
    with serving(tmp_path, database_url=database_url, env=env) as server:
        try:
            # Three interpreters start before one fails: on a loaded machine that alone
            # takes most of BOUNDED_WAIT.
            code = server.proc.wait(timeout=2 * BOUNDED_WAIT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve kept restarting processes that cannot start:\n{server.log}")
    assert code == 3, server.log
    assert "FORECOURT_RATE_LIMIT_STORAGE" in server.log
    assert "failed to start" in server.log
