"""An operator's outside check service (fines, stolen or write-off registers, ...): GET a
URL template with `{vin}`, `{plate}` and `{region}`, read a JSON answer."""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import quote

import httpx


class Answer(NamedTuple):
    body: Any  # the JSON answer; None when the service knows nothing of the vehicle (404)


class Refused(NamedTuple):
    """The service answered, but not with something usable."""

    error: str


class Unavailable(NamedTuple):
    """The service could not answer now: try again later."""

    error: str


Reply = Answer | Refused | Unavailable


class HttpCheckService:
    def __init__(
        self, url_template: str, timeout: float, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.template = url_template
        self.host = httpx.URL(url_template).host or None
        self.client = httpx.Client(timeout=timeout, transport=transport)

    def fetch(self, vin: str, plate: str, region: str) -> Reply:
        url = self.template.format(vin=quote(vin), plate=quote(plate), region=quote(region))
        try:
            response = self.client.get(url)
        except httpx.HTTPError as exc:
            return Unavailable(f"check service unreachable: {type(exc).__name__}")
        if response.status_code == 404:
            return Answer(None)
        if response.status_code >= 500 or response.status_code == 429:
            return Unavailable(f"check service answered {response.status_code}")
        if response.status_code != 200:
            return Refused(f"check service answered {response.status_code}")
        try:
            return Answer(response.json())
        except ValueError:
            return Refused("check service answered with invalid JSON")
