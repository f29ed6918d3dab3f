"""The Autengo v3 dialect, mounted at /v3: inventory, contacts, opportunities, tokens."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from forecourt.api.autengo.auth import AuthController
from forecourt.api.autengo.contacts import ContactsController
from forecourt.api.autengo.deps import provide_account
from forecourt.api.autengo.errors import SECURITY, SECURITY_SCHEMES, render_error
from forecourt.api.autengo.opportunities import create_opportunity
from forecourt.api.autengo.vehicles import VehiclesController

PATH_PREFIX = "/v3/"


def router() -> Router:
    return Router(
        path="/v3",
        route_handlers=[VehiclesController, ContactsController, AuthController, create_opportunity],
        dependencies={
            "account": Provide(provide_account, sync_to_thread=True),
        },
        security=SECURITY,
    )


__all__ = ["PATH_PREFIX", "SECURITY_SCHEMES", "render_error", "router"]
