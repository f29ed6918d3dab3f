"""Emails as the outbox keeps them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

# pending: to be sent (again); sending: the message is being handed to the server (DATA),
# or its worker died during that; sent: the server took it; failed: given up, never
# taken; unknown: the worker died, or the connection broke, after the message went out,
# so it may have been taken and is not sent again (at most once).
PENDING, SENDING, SENT, FAILED, UNKNOWN = "pending", "sending", "sent", "failed", "unknown"


class OutgoingEmail(msgspec.Struct, kw_only=True):
    id: UUID
    account_id: UUID
    key: str  # the caller's event: one email per key and account
    recipient: str
    subject: str
    text: str
    html: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
