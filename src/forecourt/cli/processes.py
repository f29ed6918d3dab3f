"""Several processes: `forecourt serve --processes N` and `forecourt worker --concurrency N`.

uvicorn's process manager (`Multiprocess`) runs the API processes on one listening
socket, which the parent binds and hands to each: the kernel spreads the connections
over them. It restarts a process that dies or stops answering its health pings, and on
SIGTERM it stops every process and waits for each to drain. The same supervisor also
runs the background workers, each in a process of its own, so that a job (an upload's
Python work) never shares a GIL with the API. Processes are spawned, not forked: each
builds its own database engine and adapters through the composition root (bootstrap).
"""

from __future__ import annotations

import logging
import logging.config
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import SpawnProcess
from typing import Any

from litestar import Litestar
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from forecourt.cli import http, logs
from forecourt.config import Settings
from forecourt.db.engine import Database
from forecourt.kit import lifeline

log = logging.getLogger(__name__)
spawn = multiprocessing.get_context("spawn")
HEALTH_PING_SECONDS = 10


def setup_logging(settings: Settings) -> None:
    logging.config.dictConfig(logs.config(settings))


class ApiApp:
    """The app factory each API process calls once it has started (it is pickled into
    the process, so it carries the settings the command resolved, flags included)."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self.supervisor = os.getpid()  # read here, where it is made

    def __call__(self) -> Litestar:
        from forecourt import bootstrap

        setup_logging(self.settings)
        lifeline.follow_parent(self.supervisor)
        with _startup():
            return bootstrap.api_process(self.settings, self.processes)


@contextmanager
def _startup() -> Iterator[None]:
    """A process that cannot build what it runs (say, a bad setting) would fail the same
    way each time it was replaced: it exits with uvicorn's STARTUP_FAILURE instead, and
    the supervisor then stops everything rather than starting it again and again."""
    try:
        yield
    except Exception:
        log.exception("cannot start")
        sys.exit(STARTUP_FAILURE)


def work(settings: Settings, *, configure_logging: bool = True) -> None:
    """One worker: run jobs until SIGTERM or SIGINT; the job in hand is finished first."""
    # Here, not at the top: an API process imports this module to unpickle its app factory
    # and must answer the supervisor's first health ping before it builds the app.
    from forecourt import bootstrap
    from forecourt.core.uploads import pipeline

    if configure_logging:
        setup_logging(settings)
    database = Database.configured(settings)
    try:
        with _startup():
            runner = bootstrap.worker(settings, database, bootstrap.adapters(settings, database))
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: runner.stop.set())
        runner.run()
    finally:
        pipeline.stop_child()  # see there: else this process would never end
        database.dispose()


def _worker_process(settings: Settings, supervisor: int) -> None:
    """A worker process of the supervisor's, which stops with it."""
    lifeline.follow_parent(supervisor)
    work(settings)


def server_config(settings: Settings, application: Any, processes: int) -> http.ServeConfig:
    """uvicorn's settings for `forecourt serve`: the app itself in one process, or the
    factory (ApiApp) each of several processes calls."""
    return http.ServeConfig(
        application,
        factory=isinstance(application, ApiApp),
        workers=processes,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # each process configures logging itself (ApiApp, setup_logging)
        access_log=False,  # the API writes its own, without paths' values (api/access.py)
        # Slow or idle clients cannot hold the server: a request's head must arrive within
        # the header timeout, an idle connection is closed after the keep-alive timeout,
        # and requests beyond the connection cap (per process) get 503.
        http=http.HeadDeadlineProtocol,
        header_timeout=settings.header_timeout_seconds,
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections or None,
        # How long an API process may take to answer the supervisor's health ping before
        # it is killed as hung (uvicorn's default, 5 s, is less than a new process can
        # take to import everything on a busy machine, before it answers its first ping).
        timeout_worker_healthcheck=HEALTH_PING_SECONDS,
    )


class Supervisor(Multiprocess):
    """uvicorn's supervisor of `api` API processes, which also keeps `workers` worker
    processes running: a dead one is replaced, and SIGTERM stops (drains) them with the
    API processes."""

    def __init__(self, settings: Settings, sockets: list[socket.socket], api: int, workers: int) -> None:
        super().__init__(server_config(settings, ApiApp(settings, api), max(api, 1)), sockets)
        self.settings = settings
        self.processes_num = api  # 0 for `forecourt worker --concurrency N`
        self.worker_count = workers
        self.workers: list[SpawnProcess] = []

    def _start_worker(self) -> SpawnProcess:
        process = spawn.Process(
            target=_worker_process, args=(self.settings, os.getpid()), name="forecourt-worker"
        )
        process.start()
        log.info("started worker process [%s]", process.pid)
        return process

    def init_processes(self) -> None:
        super().init_processes()
        self.workers = [self._start_worker() for _ in range(self.worker_count)]

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        for idx, process in enumerate(self.workers):
            if self.should_exit.is_set():
                return
            if not process.is_alive():
                process.join()
                if process.exitcode == STARTUP_FAILURE:
                    log.error("worker process [%s] failed to start; stopping", process.pid)
                    self.should_exit.set()
                    return
                log.warning("worker process [%s] died (exit %s); replacing it", process.pid, process.exitcode)
                # Its job, if it had one, is taken up again when its lease lapses.
                self.workers[idx] = self._start_worker()

    def terminate_all(self) -> None:
        super().terminate_all()
        for process in self.workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: the job in hand is finished first

    def join_all(self) -> None:
        super().join_all()
        for process in self.workers:
            process.join()

    @property
    def failed_to_start(self) -> bool:
        """A process could not start (what it runs failed to build): the supervisor gave up."""
        exits = [p.exitcode for p in self.processes] + [p.exitcode for p in self.workers]
        return STARTUP_FAILURE in exits


def serve(settings: Settings, listening: socket.socket, processes: int, workers: int) -> int:
    """Run `processes` API processes on `listening` and `workers` worker processes until
    SIGTERM or SIGINT; the exit code."""
    listening.listen(2048)  # connections made while the processes start wait, not fail
    supervisor = Supervisor(settings, [listening], processes, workers)
    supervisor.run()
    return STARTUP_FAILURE if supervisor.failed_to_start else 0


def run_workers(settings: Settings, count: int) -> int:
    """`forecourt worker --concurrency N`: N worker processes, no API."""
    supervisor = Supervisor(settings, [], 0, count)
    supervisor.run()
    return 0
