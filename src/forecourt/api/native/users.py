"""/v1/users: the account's staff, so that a client can assign leads and read the numbers."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from forecourt.api.deps import AppState
from forecourt.api.native.deps import AccountDep
from forecourt.api.native.errors import ERRORS
from forecourt.api.native.schemas import UserList, check_names, user_out
from forecourt.core.users import service as users


@get("/users", sync_to_thread=True, tags=["Native: users"], **ERRORS.documented(401))
def list_users(request: Request[Any, Any, Any], state: AppState, account: AccountDep) -> UserList:
    """Every user of the account, active or not, by email."""
    check_names(request.query_params, ())
    with state.db.read() as conn:
        return UserList([user_out(user) for user in users.list_users(conn, account.id)])
