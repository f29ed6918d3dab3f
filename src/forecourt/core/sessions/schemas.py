"""A signed-in session as the workspace sees one."""

from __future__ import annotations

from datetime import datetime

import msgspec

from forecourt.core.users.schemas import User


class Session(msgspec.Struct, frozen=True):
    """A live session and its (active) user. `token` is what the cookie holds; only its
    digest is stored."""

    token: str
    user: User
    created_at: datetime
    expires_at: datetime
