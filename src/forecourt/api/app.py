"""create_app(): mounts the dialects and the operator endpoints; no logic here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components
from litestar.plugins import PluginProtocol
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router

from forecourt import __version__
from forecourt.api import access, autengo, ingest, kapture, native, ops, recapture, sync
from forecourt.api.deps import provide_adapters, provide_db, provide_settings
from forecourt.api.errors import exception_handler
from forecourt.api.ratelimit import provide_limiter, rate_limit_headers
from forecourt.config import Settings
from forecourt.core.adapters import Adapters
from forecourt.core.ratelimits.service import Limiter
from forecourt.db.engine import Database
from forecourt.kit.errors import InvalidInput
from forecourt.kit.text import check_no_nul

ASSETS = Path(__file__).with_name("assets")
REDOC = "redoc.standalone.js"


def refuse_nul_in_url(request: Request[Any, Any, Any]) -> None:
    """One rule for text in the URL, before any handler: a NUL character (PostgreSQL can
    neither store nor compare one, SQLite would) is a 400, whatever the route."""
    check_no_nul("path", request.scope["path"])
    query = request.scope.get("query_string", b"")  # raw bytes: a NUL may come %-encoded
    if b"%00" in query or b"\x00" in query:
        raise InvalidInput("query", "the query string must not contain NUL characters")


def answer_options(allowed: dict[str, str], request: Request[Any, Any, Any]) -> Response[None] | None:
    """OPTIONS from the routes as finally built. Litestar 2 makes a path's OPTIONS handler
    with its first handler and keeps it as the handlers of other methods join, so its
    `Allow` named only some of them (litestar#4169, fixed in Litestar 3)."""
    methods = allowed.get(request.scope.get("path_template", ""))
    if request.method != "OPTIONS" or methods is None:
        return None
    return Response(None, status_code=204, headers={"Allow": methods})


def before_request(allowed: dict[str, str], request: Request[Any, Any, Any]) -> Response[None] | None:
    ops.request_routed(request)
    refuse_nul_in_url(request)
    return answer_options(allowed, request)


def create_app(
    settings: Settings,
    db: Database,
    adapters: Adapters,
    limiter: Limiter,
    on_startup: Sequence[Callable[[], Any]] = (),
    on_shutdown: Sequence[Callable[[], Any]] = (),
    plugins: Sequence[PluginProtocol] = (),
) -> Litestar:
    """Built by the composition root (bootstrap.app), which chooses the adapters and
    adds the other edges mounted beside the dialects (`plugins`: the web workspace)."""
    allowed: dict[str, str] = {}  # path template -> its methods, once the routes are built
    app = Litestar(
        route_handlers=[
            ops.healthz,
            ops.readyz,
            ops.MetricsController,
            recapture.router(settings),
            ingest.router(settings),
            autengo.router(),
            sync.router(),
            kapture.router(),
            native.router(),
            create_static_files_router(path="/docs/assets", directories=[ASSETS], include_in_schema=False),
        ],
        state=State({"db": db, "settings": settings, "adapters": adapters, "limiter": limiter}),
        dependencies={
            "db": Provide(provide_db, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "adapters": Provide(provide_adapters, sync_to_thread=False),
            "limiter": Provide(provide_limiter, sync_to_thread=False),
        },
        exception_handlers={
            Exception: exception_handler(
                [
                    (recapture.PATH_PREFIX, recapture.render_error),
                    (ingest.PATH_PREFIX, ingest.render_error),
                    (autengo.PATH_PREFIX, autengo.render_error),
                    (sync.PATH_PREFIX, sync.render_error),
                    *((prefix, kapture.render_error) for prefix in kapture.PATH_PREFIXES),
                    (native.PATH_PREFIX, native.render_error),
                ]
            )
        },
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Forecourt",
            version=__version__,
            components=Components(
                security_schemes={
                    **recapture.SECURITY_SCHEMES,
                    **ingest.SECURITY_SCHEMES,
                    **autengo.SECURITY_SCHEMES,
                    **sync.SECURITY_SCHEMES,
                    **kapture.SECURITY_SCHEMES,
                    **native.SECURITY_SCHEMES,
                }
            ),
            path="/docs",
            # The docs page works on a dealer network without internet: its script is
            # served from the package (redoc 2.5.4, MIT), and no web fonts are fetched.
            render_plugins=[
                RedocRenderPlugin(
                    js_url=f"/docs/assets/{REDOC}",
                    google_fonts=False,
                    favicon="<link rel='icon' href='data:,'>",
                ),
                JsonRenderPlugin(),
                YamlRenderPlugin(),
            ],
        ),
        before_request=partial(before_request, allowed),
        logging_config=None,  # the process configures logging (cli/logs.py), not the app
        on_startup=list(on_startup),
        on_shutdown=list(on_shutdown),
        plugins=list(plugins),
    )
    allowed.update(
        (route.path_format, ", ".join(sorted(route.methods)))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    )
    # Outermost, around routing too: a 404 has its request id like any other answer
    # (middleware= wraps only the routes that exist). No route middleware besides: any
    # would make Litestar wrap every route in an exception layer of its own.
    app.asgi_handler = access.middleware(
        app.asgi_handler, rate_limit_headers([(recapture.PATH_PREFIX, recapture.rate_limit_headers)])
    )
    return app
