"""The CLI's `--server` modes talk to a running Forecourt as any client does."""

from __future__ import annotations

import httpx

TIMEOUT_SECONDS = 300  # a large upload or listings batch is one request


def client(server: str, headers: dict[str, str]) -> httpx.Client:
    return httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=TIMEOUT_SECONDS)


def checked(response: httpx.Response, message_key: str) -> httpx.Response:
    """The response if it succeeded; else RuntimeError with its status and the message of
    the dialect's envelope (`message_key`), or its text when it is not JSON (a proxy's page)."""
    if response.status_code < 400:
        return response
    try:
        message = response.json().get(message_key) or response.text
    except (ValueError, AttributeError):
        message = response.text
    raise RuntimeError(f"{response.status_code}: {message[:500]}")
