"""Staff users of an account, who sign in to the workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal, get_args
from uuid import UUID

import msgspec

Role = Literal["manager", "sales"]
ROLES: Final[tuple[str, ...]] = get_args(Role)

SIGN_IN_REFUSED = "Invalid email or password"


class User(msgspec.Struct, frozen=True):
    """A user as the rest of Forecourt sees one: never with its password hash."""

    id: UUID
    account_id: UUID
    email: str  # lower-cased
    display_name: str
    role: Role
    active: bool
    created_at: datetime
    updated_at: datetime


class NewUser(msgspec.Struct, frozen=True):
    """A user as the operator asked for one, checked (service.check_new_user)."""

    account_id: UUID
    email: str
    display_name: str
    role: Role


class WithPassword(msgspec.Struct, frozen=True):
    """A user just created or reset, with the password generated for it: the one time it
    is shown (None when the operator chose the password)."""

    user: User
    password: str | None
