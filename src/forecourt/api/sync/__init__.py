"""The Sync batch dialect, mounted at /api: vehicle checks by VIN and plate."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from forecourt.api.sync.checks import ChecksController
from forecourt.api.sync.deps import provide_account
from forecourt.api.sync.errors import SECURITY_SCHEMES, render_error

PATH_PREFIX = "/api/"


def router() -> Router:
    return Router(
        path="/",
        route_handlers=[ChecksController],
        dependencies={"account": Provide(provide_account, sync_to_thread=True)},
        security=[{name: []} for name in SECURITY_SCHEMES],
    )


__all__ = ["PATH_PREFIX", "SECURITY_SCHEMES", "render_error", "router"]
