"""Today: the signed-in user's start page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from forecourt.core.accounts import service as accounts
from forecourt.core.leads import service as leads
from forecourt.web.views import AdaptersDep, DbDep, UserDep, page


@get("/", sync_to_thread=True)
def today(
    request: Request[Any, Any, Any], current_user: UserDep, db: DbDep, adapters: AdaptersDep
) -> Template:
    """Today: the signed-in user's start page (new leads since yesterday: the account's
    for a manager, their own for a salesperson)."""
    assignee = None if current_user.role == "manager" else current_user.id
    with db.read() as conn:
        account = accounts.require_account(conn, current_user.account_id)
        new_leads = leads.new_since_yesterday(conn, current_user.account_id, adapters.clock.now(), assignee)
    return page(request, "today.html", account=account, new_leads=new_leads)


ROUTES = [today]
