"""The Kapture dialect: CRM customers pulled by date range, added, updated and read."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from forecourt.api.kapture.customers import add_update_customer, get_customer, pull_customers
from forecourt.api.kapture.deps import provide_account
from forecourt.api.kapture.errors import SECURITY_SCHEMES, render_error

# The vendor's paths have no common root.
PATH_PREFIXES = (
    "/ms/",
    "/select-customer-between-start-and-end-dates.html",
    "/search-customer-by-customer-id.html",
)


def router() -> Router:
    return Router(
        path="/",
        route_handlers=[pull_customers, add_update_customer, get_customer],
        dependencies={"account": Provide(provide_account, sync_to_thread=True)},
        security=[{name: []} for name in SECURITY_SCHEMES],
    )


__all__ = ["PATH_PREFIXES", "SECURITY_SCHEMES", "render_error", "router"]
