"""The composition root: the outside world's adapters built from the settings, handed to
the app and to the workers. The one place that chooses implementations; everything else
is given what it uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from limits.errors import ConfigurationError
from limits.storage import Storage, storage_from_string
from litestar import Litestar

from forecourt import web
from forecourt.api.app import create_app
from forecourt.api.recapture.schemas import event_body
from forecourt.config import Settings
from forecourt.core.adapters import Adapters
from forecourt.core.checks import tasks as checks_tasks
from forecourt.core.checks.resources import Checker, HttpCheck, ListingHistory, RegistrationCheck, VinDecode
from forecourt.core.crm import tasks as crm_tasks
from forecourt.core.leads import tasks as leads_tasks
from forecourt.core.notifications import tasks as notifications_tasks
from forecourt.core.ratelimits.service import Limiter
from forecourt.core.ratelimits.storage import DatabaseStorage, counters_beside
from forecourt.core.registry.lookup import FileLookup
from forecourt.core.uploads import tasks as uploads_tasks
from forecourt.core.webhooks import tasks as webhooks_tasks
from forecourt.db.engine import Database, sqlite_file
from forecourt.jobs.worker import HANDLERS, Worker
from forecourt.kit.clock import Clock, SystemClock
from forecourt.providers.check_service import HttpCheckService
from forecourt.providers.mail import mailer
from forecourt.providers.registration import CircuitBreaker, HttpLookup, NoLookup, RegistrationLookup
from forecourt.providers.webhooks import Destinations, HttpSender, parse_networks

# Importing a feature's tasks registers its job handlers with the worker.
TASKS = (checks_tasks, crm_tasks, leads_tasks, notifications_tasks, uploads_tasks, webhooks_tasks)


def registration_lookup(settings: Settings, db: Database, clock: Clock) -> RegistrationLookup:
    if settings.registration_lookup == "file":
        return FileLookup(db)
    if settings.registration_lookup == "http":
        return HttpLookup(
            settings.registration_http_url,
            timeout=settings.registration_http_timeout_seconds,
            retries=settings.registration_http_retries,
            breaker=CircuitBreaker(
                settings.registration_http_breaker_failures, settings.registration_http_breaker_seconds, clock
            ),
            clock=clock,
        )
    if settings.registration_lookup == "none":
        return NoLookup()
    raise ValueError(
        f"FORECOURT_REGISTRATION_LOOKUP must be none, file or http, not {settings.registration_lookup!r}"
    )


def checkers(settings: Settings, db: Database, lookup: RegistrationLookup) -> tuple[Checker, ...]:
    """The vehicle-check resources this server runs."""
    found: list[Checker] = [VinDecode()]
    if settings.registration_lookup != "none":
        found.append(RegistrationCheck(lookup))
    found.append(ListingHistory(db))
    if settings.check_http_url:
        service = HttpCheckService(settings.check_http_url, settings.check_http_timeout_seconds)
        found.append(
            HttpCheck(
                service,
                description=settings.check_http_description,
                resource_type=settings.check_http_resource_type,
                result_path=settings.check_http_result_path,
                status_path=settings.check_http_status_path,
            )
        )
    return tuple(found)


def adapters(settings: Settings, db: Database, clock: Clock | None = None) -> Adapters:
    """One set per process: the HTTP clients and the circuit breaker are shared by every
    request and job."""
    clock = clock or SystemClock()
    lookup = registration_lookup(settings, db, clock)
    return Adapters(
        clock=clock,
        lookup=lookup,
        checkers=checkers(settings, db, lookup),
        sender=HttpSender(
            settings.webhook_timeout_seconds,
            clock,
            Destinations(parse_networks(settings.webhook_allowed_networks)),
        ),
        event_body=event_body,
        mailer=mailer(
            settings.smtp_url, settings.mail_from, settings.smtp_timeout_seconds, settings.smtp_ca_file
        ),
        upload_pipeline_rows=settings.upload_pipeline_rows,
    )


def limiter(settings: Settings, db: Database, clock: Clock, processes: int = 1) -> Limiter:
    """Rate limits counted in the database (shared by every process on it), or in another
    store the `limits` library speaks to (`memory://`: this process only; `redis://...`).
    `auto` is the database on PostgreSQL, where processes scale out, and memory on SQLite,
    one process, where a counter write per request would queue reads behind every writer.
    Several API processes on one SQLite file (`processes`) share their counters in a file
    of their own beside it, which no upload holds."""
    return Limiter(
        _limit_storage(settings, db, clock, processes),
        clock,
        per_credential=settings.rate_limit_per_minute,
        per_address=settings.rate_limit_per_address_per_minute,
        failures=settings.auth_failure_limit,
        failure_window=settings.auth_failure_window_seconds,
    )


def _limit_storage(settings: Settings, db: Database, clock: Clock, processes: int) -> Storage:
    kind = settings.rate_limit_storage
    if kind == "auto":
        beside = sqlite_file(settings.database_url)
        if processes > 1 and beside is not None:
            return DatabaseStorage(counters_beside(beside), clock, separate=True)
        kind = "memory://" if db.is_sqlite else "database"
    if kind == "database":
        return DatabaseStorage(db, clock)
    try:
        found = storage_from_string(kind)
    except ConfigurationError as exc:
        raise ValueError(f"FORECOURT_RATE_LIMIT_STORAGE: {exc}") from None
    if not isinstance(found, Storage):  # an async+ storage
        raise ValueError("FORECOURT_RATE_LIMIT_STORAGE: use a synchronous storage (no async+)")
    return found


def worker(settings: Settings, db: Database, outside: Adapters) -> Worker:
    return Worker(db, settings, outside, clock=outside.clock, handlers=HANDLERS)


def app(
    settings: Settings,
    db: Database,
    outside: Adapters | None = None,
    on_startup: Sequence[Callable[[], Any]] = (),
    on_shutdown: Sequence[Callable[[], Any]] = (),
    processes: int = 1,
) -> Litestar:
    outside = outside or adapters(settings, db)
    return create_app(
        settings,
        db,
        outside,
        limiter(settings, db, outside.clock, processes),
        on_startup,
        on_shutdown,
        plugins=[web.plugin()],
    )


def api_process(settings: Settings, processes: int) -> Litestar:
    """What each API process of `forecourt serve --processes N` (N > 1) runs: the app
    alone, the jobs being run by worker processes beside it. The processes share their
    rate limits (`limiter`): counted in each process's memory, each would allow the whole
    budget, and the failed sign-ins that lock a key out, again."""
    db = Database.configured(settings)
    return app(settings, db, on_shutdown=[db.dispose], processes=processes)


def serving(settings: Settings, db: Database) -> Litestar:
    """What `forecourt serve --processes 1` runs: the app, with an embedded worker unless
    turned off."""
    outside = adapters(settings, db)
    if not settings.embedded_worker:
        return app(settings, db, outside)
    embedded = worker(settings, db, outside)
    return app(settings, db, outside, on_startup=[embedded.start_thread], on_shutdown=[embedded.shutdown])
