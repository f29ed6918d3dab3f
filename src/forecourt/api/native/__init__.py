"""Forecourt's own API, mounted at /v1: leads, their workflow and timeline, the account's
users, and the numbers a manager asks for (docs/leads.md, "The native API")."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from forecourt.api.native.deps import provide_account
from forecourt.api.native.errors import SECURITY_SCHEMES, render_error
from forecourt.api.native.leads import LeadsController
from forecourt.api.native.stats import lead_stats
from forecourt.api.native.users import list_users

PATH_PREFIX = "/v1/"


def router() -> Router:
    return Router(
        path="/v1",
        route_handlers=[LeadsController, list_users, lead_stats],
        dependencies={"account": Provide(provide_account, sync_to_thread=True)},
        security=[{name: []} for name in SECURITY_SCHEMES],
    )


__all__ = ["PATH_PREFIX", "SECURITY_SCHEMES", "render_error", "router"]
