"""Sending a webhook: an HTTP POST signed the Standard Webhooks way (standardwebhooks.com),
so receivers can verify it with that project's libraries in any language; only to
addresses the server may call on a tenant's behalf."""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from forecourt.kit.clock import Clock

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Outcome(NamedTuple):
    delivered: bool
    status: int | None  # the endpoint's HTTP status, None when it never answered
    error: str | None  # what a tenant may read: nothing about the server's own network
    # Not delivered, but the request may have reached the endpoint (the connection broke,
    # or the answer did not come in time, after it went out): for senders that send at
    # most once (ADF to a CRM). Nothing can have reached it when this is False.
    uncertain: bool = False


class WebhookSender(Protocol):
    def refusal(self, endpoint: str) -> str | None: ...

    def send(self, endpoint: str, secret: str, message_id: str, body: bytes) -> Outcome: ...

    def post(self, endpoint: str, body: bytes, headers: dict[str, str]) -> Outcome:
        """POST `body` once with `headers`, under the same rules as `send` (public
        addresses only, pinned to the addresses checked, no redirects)."""
        ...


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, fd00::/8` as networks; ValueError naming a bad one."""
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"FORECOURT_WEBHOOK_ALLOWED_NETWORKS: {exc}") from None


class Destinations:
    """Where a tenant may make the server send requests: public addresses, and the
    networks the operator allowed. A host is judged by every address it resolves to, so
    `127.1`, `2130706433`, `0x7f000001` and a name pointing inward are all caught."""

    def __init__(self, allowed: Sequence[Network] = ()) -> None:
        self.allowed = tuple(allowed)

    def refusal(self, url: str) -> str | None:
        """Why the server may not call `url`, or None. A name that does not resolve is
        not refused (it may resolve later; every delivery checks again)."""
        return self.check(url)[0]

    def check(self, url: str) -> tuple[str | None, list[str]]:
        """(why the server may not call `url` or None, the addresses checked, in the
        resolver's order: none when the name does not resolve now)."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "", parts.port or 443
            found = [str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]
        except (ValueError, UnicodeError, OSError):
            return None, []
        for text in found:
            address = ipaddress.ip_address(text.split("%")[0])  # drop an IPv6 zone
            if not self._may_call(address):
                return f"{host} is not a public address", []
        return None, list(dict.fromkeys(found))  # one per address (getaddrinfo repeats them)

    def _may_call(self, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed):
            return True
        return address.is_global and not address.is_multicast


def signed_headers(secret: str, message_id: str, body: bytes, now: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(message_id, now, body.decode())
    return {
        "content-type": "application/json",
        "user-agent": "Forecourt-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for the process's deliveries, made at the first: building one loads
    the CA bundle, which took most of a delivery's time when each client made its own
    (bench/latency.py --profile-listings)."""
    return httpx.create_ssl_context()


class HttpSender:
    def __init__(self, timeout: float, clock: Clock, destinations: Destinations) -> None:
        self.timeout, self.clock, self.destinations = timeout, clock, destinations

    def refusal(self, endpoint: str) -> str | None:
        return self.destinations.refusal(endpoint)

    def send(self, endpoint: str, secret: str, message_id: str, body: bytes) -> Outcome:
        """POST once; any 2xx is delivered. Redirects are not followed: a webhook endpoint
        should answer where it was registered (and a redirect could point inward)."""
        return self.post(
            endpoint, body, signed_headers(secret, message_id, body, self.clock.now().replace(tzinfo=UTC))
        )

    def post(self, endpoint: str, body: bytes, headers: dict[str, str]) -> Outcome:
        refused, addresses = self.destinations.check(endpoint)
        if refused is not None:
            return Outcome(False, None, "not sent: the endpoint does not resolve to a public address")
        headers = dict(headers)
        # To the addresses just checked, not to the name: resolved again by the HTTP
        # client, it could point inward by then (DNS rebinding). The name stays in the Host
        # header and, for https, in the TLS handshake and the certificate check. Each
        # address is tried in turn, as a connection to the name would (IPv6 first, say).
        url = httpx.URL(endpoint)
        headers["host"] = url.netloc.decode("ascii").rpartition("@")[2]
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        try:
            with httpx.Client(timeout=self.timeout, verify=tls_context()) as client:
                for address in addresses:
                    request = client.build_request(
                        "POST",
                        url.copy_with(host=address),
                        content=body,
                        headers=headers,
                        extensions=extensions,
                    )
                    try:
                        # Only the status counts: the answer's body is never read.
                        status = client.send(request, stream=True).status_code
                    except httpx.ConnectError:
                        continue  # nothing was sent: the next address
                    ok = 200 <= status < 300
                    return Outcome(ok, status, None if ok else f"HTTP {status}")
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            return Outcome(False, None, "Timeout: could not connect to the endpoint in time")
        except httpx.TimeoutException:  # writing the request or waiting for the answer
            return Outcome(False, None, "Timeout: the endpoint did not answer in time", uncertain=True)
        except (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError):
            return Outcome(False, None, "the connection broke before the endpoint answered", uncertain=True)
        except (httpx.HTTPError, httpx.InvalidURL):
            pass
        return Outcome(False, None, "could not connect to the endpoint")
