"""Registration lookups: plate (and state) -> VIN, from a provider that may cost money.

`none` (the default) performs nothing; `http` asks an outside service. (The `file`
lookup answers from Forecourt's own database: core/registry/lookup.py.) The composition
root (bootstrap.py) picks one from the settings.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import NamedTuple, Protocol, runtime_checkable
from urllib.parse import quote

import httpx

from forecourt.kit.clock import Clock, backoff_seconds
from forecourt.kit.errors import InvalidInput
from forecourt.kit.vehicles import normalise_vin


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


def registration(vin: object, title: object) -> Outcome:
    """A VIN (and title) as a source gave them, checked."""
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


class CircuitBreaker:
    """After `threshold` failures in a row, fail fast for `cooldown` seconds, then try again."""

    def __init__(self, threshold: int, cooldown: float, clock: Clock) -> None:
        self.threshold, self.cooldown, self.clock = threshold, timedelta(seconds=cooldown), clock
        self.failures = 0
        self.open_until = clock.now()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            return self.clock.now() >= self.open_until

    def record(self, ok: bool) -> None:
        with self._lock:
            self.failures = 0 if ok else self.failures + 1
            if self.failures >= self.threshold:
                self.open_until = self.clock.now() + self.cooldown
                self.failures = 0


class HttpLookup:
    """An outside service: GET the URL template (`{plate}`, `{state}`, `{region}`), expect
    JSON with `vin` and optionally `vehicle_title`; 404 means the plate is unknown."""

    name = "http"
    billable = True
    retry_wait_seconds = 0.1  # then 0.2, 0.4 ...: a retry inside one lookup is quick

    def __init__(
        self,
        url_template: str,
        *,
        timeout: float,
        retries: int,
        breaker: CircuitBreaker,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url_template:
            raise ValueError("FORECOURT_REGISTRATION_HTTP_URL is required for the http lookup")
        self.template = url_template
        self.retries = retries
        self.breaker = breaker
        self.clock = clock
        self.client = httpx.Client(timeout=timeout, transport=transport)

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
                self.clock.sleep(self.retry_wait_seconds * backoff_seconds(attempt, cap=60))
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
            return registration(body.get("vin"), body.get("vehicle_title"))
        return LookupFailed(last_error)
