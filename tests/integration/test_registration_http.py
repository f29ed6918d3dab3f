"""The `http` registration lookup against a real HTTP service on loopback (a stand-in
for the outside registration service, which tests cannot reach)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from forecourt import bootstrap
from forecourt.config import Settings
from forecourt.db.engine import Database
from forecourt.providers.registration import HttpLookup, LookupFailed, PlateQuery, Registration
from tests.conftest import MovableClock, loopback_server, loopback_url

CAMRY = {"vin": "1n4al11d16n337720", "vehicle_title": "2019 Toyota Camry Ascent"}


class RegistrationService(BaseHTTPRequestHandler):
    calls: Counter[str] = Counter()
    released = threading.Event()  # set when the test is over

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        plate, state = query["plate"][0], query.get("state", [""])[0]
        self.calls[plate] += 1
        if plate == "SLOW":  # never answers: the client has given up by the time the test is over
            self.released.wait(timeout=30)
            return None
        if (plate == "FLAKY" and self.calls[plate] == 1) or plate == "BROKEN":
            return self._answer(503, {"error": "try later"})
        if plate == "NOTFOUND":
            return self._answer(404, {"error": "unknown plate"})
        if plate == "BADVIN":
            return self._answer(200, {"vin": "NOT-A-VIN"})
        return self._answer(200, CAMRY | {"state_seen": state})

    def _answer(self, status: int, body: object) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def service_url() -> Iterator[str]:
    RegistrationService.calls = Counter()
    RegistrationService.released = threading.Event()
    with loopback_server(RegistrationService) as server:
        yield f"{loopback_url(server)}/lookup?plate={{plate}}&state={{state}}"
        RegistrationService.released.set()


def _lookup(url: str, clock: MovableClock | None = None, **overrides: Any) -> HttpLookup:
    """The lookup as the composition root builds it from the settings; its retries wait
    on `clock` (which a test moves instead of waiting)."""
    defaults: dict[str, Any] = {
        "registration_lookup": "http",
        "registration_http_url": url,
        "registration_http_timeout_seconds": 0.2,
    }
    settings = Settings(**(defaults | overrides))
    lookup = bootstrap.registration_lookup(settings, Database("sqlite://"), clock or MovableClock())
    assert isinstance(lookup, HttpLookup)
    return lookup


def test_a_known_plate_gives_its_vin_and_title(service_url: str) -> None:
    (outcome,) = _lookup(service_url).lookup_many([PlateQuery("ZEN407", "VIC", "au")])

    assert outcome == Registration("1N4AL11D16N337720", "2019 Toyota Camry Ascent")


def test_an_unknown_plate_fails_without_retrying(service_url: str) -> None:
    (outcome,) = _lookup(service_url).lookup_many([PlateQuery("NOTFOUND", "VIC", "au")])

    assert isinstance(outcome, LookupFailed)
    assert "not found" in str(outcome)
    assert RegistrationService.calls["NOTFOUND"] == 1


def test_a_transient_failure_is_retried(service_url: str) -> None:
    (outcome,) = _lookup(service_url).lookup_many([PlateQuery("FLAKY", "NSW", "au")])

    assert isinstance(outcome, Registration)
    assert RegistrationService.calls["FLAKY"] == 2


@pytest.mark.parametrize(
    ("plate", "reason"), [("BROKEN", "503"), ("SLOW", "Timeout"), ("BADVIN", "invalid VIN")]
)
def test_failures_say_why(service_url: str, plate: str, reason: str) -> None:
    # SLOW never answers while the test runs, so any timeout times out: a short one is enough.
    timeout = 0.05 if plate == "SLOW" else 0.2
    lookup = _lookup(service_url, registration_http_retries=1, registration_http_timeout_seconds=timeout)
    (outcome,) = lookup.lookup_many([PlateQuery(plate, "VIC", "au")])

    assert isinstance(outcome, LookupFailed)
    assert reason in str(outcome)


def test_the_circuit_opens_after_repeated_failures_and_fails_fast(service_url: str) -> None:
    lookup = _lookup(
        service_url,
        registration_http_retries=0,
        registration_http_breaker_failures=3,
        registration_http_breaker_seconds=60,
    )

    outcomes = lookup.lookup_many(
        [PlateQuery("BROKEN", "VIC", "au")] * 3 + [PlateQuery("ZEN407", "VIC", "au")]
    )

    assert all(isinstance(o, LookupFailed) for o in outcomes)
    assert "circuit open" in str(outcomes[-1])
    assert RegistrationService.calls["BROKEN"] == 3
    assert RegistrationService.calls["ZEN407"] == 0  # never sent while the circuit is open


def test_the_circuit_closes_again_after_its_cooldown(service_url: str) -> None:
    clock = MovableClock()
    lookup = _lookup(
        service_url,
        clock,
        registration_http_retries=0,
        registration_http_breaker_failures=1,
        registration_http_breaker_seconds=30,
    )
    lookup.lookup_many([PlateQuery("BROKEN", "VIC", "au")])
    clock.advance(29)
    (still_open,) = lookup.lookup_many([PlateQuery("ZEN407", "VIC", "au")])
    clock.advance(1)
    (outcome,) = lookup.lookup_many([PlateQuery("ZEN407", "VIC", "au")])

    assert "circuit open" in str(still_open)
    assert isinstance(outcome, Registration)
    assert RegistrationService.calls["ZEN407"] == 1


def test_the_http_lookup_needs_a_url() -> None:
    with pytest.raises(ValueError, match="FORECOURT_REGISTRATION_HTTP_URL"):
        bootstrap.registration_lookup(
            Settings(registration_lookup="http"), Database("sqlite://"), MovableClock()
        )
