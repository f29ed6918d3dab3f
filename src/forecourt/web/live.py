"""The one rule for the parts of a page that htmx polls (the leads' live inbox, an
upload's progress, Today's uploads): the page writes when it was opened into the
poll's address (`?opened=`), and once half the session's idle timeout has passed since,
the answer is 286, on which htmx stops polling, and the part says so. Each poll is a
request of the session, which restarts its idle time: without this a page left open
would keep its session alive for ever."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode

from forecourt.config import Settings
from forecourt.kit.errors import InvalidInput
from forecourt.web import auth

STOPPED = 286  # htmx stops polling on this status


def opened(params: Mapping[str, str]) -> datetime:
    """When the page was opened, as its poll's address says (naive UTC)."""
    try:
        at = datetime.fromisoformat(params.get("opened", ""))
    except ValueError:
        raise InvalidInput("opened", "opened must be a time") from None
    if at.tzinfo is not None:
        raise InvalidInput("opened", "opened must be a time")
    return at


def paused(opened_at: datetime, now: datetime, settings: Settings) -> bool:
    """Whether the poll should stop: half the idle timeout has passed since `opened_at`."""
    return now - opened_at >= auth.idle(settings) / 2


def poll_url(path: str, opened_at: datetime, params: Mapping[str, str] | None = None) -> str:
    """The address a part polls: its parameters and when the page was opened."""
    return f"{path}?" + urlencode({**(params or {}), "opened": opened_at.isoformat()})
