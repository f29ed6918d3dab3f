"""Checks: the account's Sync batches and their results."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from forecourt.web.views import DbDep, UserDep, page


@get("/checks", sync_to_thread=True)
def check_list(request: Request[Any, Any, Any], current_user: UserDep, db: DbDep) -> Template:
    return page(request, "today.html")


ROUTES = [check_list]
