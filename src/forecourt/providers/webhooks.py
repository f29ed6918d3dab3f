"""Sending a webhook: an HTTP POST signed the Standard Webhooks way (standardwebhooks.com),
so receivers can verify it with that project's libraries in any language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple, Protocol

import httpx
from standardwebhooks.webhooks import Webhook

from forecourt.kit.clock import Clock


class Outcome(NamedTuple):
    delivered: bool
    status: int | None  # the endpoint's HTTP status, None when it never answered
    error: str | None


class WebhookSender(Protocol):
    def send(self, endpoint: str, secret: str, message_id: str, body: bytes) -> Outcome: ...


def signed_headers(secret: str, message_id: str, body: bytes, now: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(message_id, now, body.decode())
    return {
        "content-type": "application/json",
        "user-agent": "Forecourt-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


class HttpSender:
    def __init__(self, timeout: float, clock: Clock) -> None:
        self.timeout, self.clock = timeout, clock

    def send(self, endpoint: str, secret: str, message_id: str, body: bytes) -> Outcome:
        """POST once; any 2xx is delivered. Redirects are not followed: a webhook endpoint
        should answer where it was registered."""
        headers = signed_headers(secret, message_id, body, self.clock.now().replace(tzinfo=UTC))
        try:
            # Only the status counts: the answer's body is never read.
            with httpx.stream(
                "POST", endpoint, content=body, headers=headers, timeout=self.timeout
            ) as response:
                status = response.status_code
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
        ok = 200 <= status < 300
        return Outcome(ok, status, None if ok else f"HTTP {status}")
