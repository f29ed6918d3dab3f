"""Registration lookups: plate (and state) -> VIN, from a provider that may cost money.

`none` (the default) performs nothing; `file` answers from registration data the
operator loaded with `forecourt registry load`; `http` asks an outside service.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple, Protocol, runtime_checkable
from urllib.parse import quote

import httpx

from forecourt.config import Settings
from forecourt.kit.errors import InvalidInput
from forecourt.core.registry import repository as registry
from forecourt.kit.vehicles import normalise_vin
from forecourt.db.engine import Database


class PlateQuery(NamedTuple):
    plate: str
    state: str | None
    region: str


class Registration(NamedTuple):
    vin: str
    vehicle_title: str | None


class LookupFailed(Exception):
    """The lookup gave no VIN; the message says why, for the dealer to read."""


class PlateNotFound(LookupFailed):
    """The lookup worked and the plate is not registered (as opposed to a service that
    could not answer)."""


Outcome = Registration | LookupFailed


@runtime_checkable
class RegistrationLookup(Protocol):
    name: str
    billable: bool  # whether each lookup is counted against the account

    def lookup_many(self, queries: Sequence[PlateQuery]) -> list[Outcome]: ...


def _registration(vin: object, title: object) -> Outcome:
    if not isinstance(vin, str):
        return LookupFailed("registration lookup returned no VIN")
    try:
        return Registration(normalise_vin(vin), title[:255] if isinstance(title, str) and title else None)
    except InvalidInput:
        return LookupFailed(f"registration lookup returned an invalid VIN {vin!r}")


class NoLookup:
    name = "none"
    billable = False

    def lookup_many(self, queries: Sequence[PlateQuery]) -> list[Outcome]:
        return [LookupFailed("registration lookups are not enabled on this server")] * len(queries)


class FileLookup:
    """Registration data loaded by the operator into Forecourt's own database."""

    name = "file"
    billable = True

    def __init__(self, db: Database) -> None:
        self.db = db

    def lookup_many(self, queries: Sequence[PlateQuery]) -> list[Outcome]:
        with self.db.read() as conn:
            found = registry.find_many(conn, ((q.plate, q.state or "") for q in queries))
        outcomes: list[Outcome] = []
        for q in queries:
            hit = found.get((q.plate, q.state or ""))
            outcomes.append(_registration(*hit) if hit else PlateNotFound("plate not found in the registry"))
        return outcomes


class CircuitBreaker:
    """After `threshold` failures in a row, fail fast for `cooldown` seconds, then try again."""

    def __init__(self, threshold: int, cooldown: float) -> None:
        self.threshold, self.cooldown = threshold, cooldown
        self.failures = 0
        self.open_until = 0.0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            return time.monotonic() >= self.open_until

    def record(self, ok: bool) -> None:
        with self._lock:
            self.failures = 0 if ok else self.failures + 1
            if self.failures >= self.threshold:
                self.open_until = time.monotonic() + self.cooldown
                self.failures = 0


class HttpLookup:
    """An outside service: GET the URL template (`{plate}`, `{state}`, `{region}`), expect
    JSON with `vin` and optionally `vehicle_title`; 404 means the plate is unknown."""

    name = "http"
    billable = True
    backoff_seconds = 0.2

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        if not settings.registration_http_url:
            raise ValueError("FORECOURT_REGISTRATION_HTTP_URL is required for the http lookup")
        self.template = settings.registration_http_url
        self.retries = settings.registration_http_retries
        self.breaker = CircuitBreaker(
            settings.registration_http_breaker_failures, settings.registration_http_breaker_seconds
        )
        self.client = httpx.Client(timeout=settings.registration_http_timeout_seconds, transport=transport)

    def lookup_many(self, queries: Sequence[PlateQuery]) -> list[Outcome]:
        return [self.lookup(q) for q in queries]

    def lookup(self, query: PlateQuery) -> Outcome:
        url = self.template.format(
            plate=quote(query.plate), state=quote(query.state or ""), region=quote(query.region)
        )
        last_error = "no attempt made"
        for attempt in range(self.retries + 1):
            if not self.breaker.allow():
                return LookupFailed("registration service unavailable (circuit open)")
            if attempt:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                response = self.client.get(url)
            except httpx.HTTPError as exc:
                last_error = f"registration service unreachable: {type(exc).__name__}"
                self.breaker.record(ok=False)
                continue
            if response.status_code == 404:
                self.breaker.record(ok=True)
                return PlateNotFound("plate not found by the registration service")
            if response.status_code >= 500 or response.status_code == 429:
                last_error = f"registration service answered {response.status_code}"
                self.breaker.record(ok=False)
                continue
            self.breaker.record(ok=True)
            if response.status_code != 200:
                return LookupFailed(f"registration service answered {response.status_code}")
            try:
                body = response.json()
            except ValueError:
                return LookupFailed("registration service answered with invalid JSON")
            if not isinstance(body, dict):
                return LookupFailed("registration service answered with unexpected JSON")
            return _registration(body.get("vin"), body.get("vehicle_title"))
        return LookupFailed(last_error)


@lru_cache(maxsize=8)
def from_settings(settings: Settings, db: Database) -> RegistrationLookup:
    """The provider the settings name, one per process (and database): its HTTP client
    and circuit breaker are shared by every request and job."""
    if settings.registration_lookup == "file":
        return FileLookup(db)
    if settings.registration_lookup == "http":
        return HttpLookup(settings)
    if settings.registration_lookup == "none":
        return NoLookup()
    raise ValueError(
        f"FORECOURT_REGISTRATION_LOOKUP must be none, file or http, not {settings.registration_lookup!r}"
    )
