"""Contacts: the account's CRM contacts, found by name, email or phone; one contact's
details and its leads."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from forecourt.web.views import DbDep, UserDep, page


@get("/contacts", sync_to_thread=True)
def contact_list(request: Request[Any, Any, Any], current_user: UserDep, db: DbDep) -> Template:
    return page(request, "today.html")


ROUTES = [contact_list]
