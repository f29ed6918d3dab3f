"""The Recapture dialect, mounted at /v2/recapture (and its webhooks at /v2/webhooks)."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from forecourt.api.recapture.customers import CustomersController
from forecourt.api.recapture.deps import provide_account, provide_region
from forecourt.api.recapture.errors import SECURITY_SCHEMES, render_error
from forecourt.api.recapture.headers import rate_limit_headers
from forecourt.api.recapture.uploads import UploadsController
from forecourt.api.recapture.webhooks import WebhooksController
from forecourt.config import Settings

PATH_PREFIX = "/v2/"


def router(settings: Settings) -> Router:
    uploads = Router(
        path="/",
        route_handlers=[UploadsController],
        # Customer lists are big; they are streamed to disk, never held in memory whole.
        request_max_body_size=settings.max_upload_bytes,
    )
    return Router(
        path="/",
        route_handlers=[CustomersController, WebhooksController, uploads],
        dependencies={
            "account": Provide(provide_account, sync_to_thread=True),
            "region": Provide(provide_region, sync_to_thread=False),
        },
        security=[{name: []} for name in SECURITY_SCHEMES],
    )


__all__ = ["PATH_PREFIX", "SECURITY_SCHEMES", "rate_limit_headers", "render_error", "router"]
