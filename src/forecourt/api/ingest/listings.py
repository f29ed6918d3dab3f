"""POST /ingest/v1/listings: a batch of listings as NDJSON or a JSON array."""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Request, Router, post
from litestar.di import NamedDependency, Provide
from sqlalchemy.engine import Connection

from forecourt.api.deps import AppState, bearer_token
from forecourt.api.ingest.errors import ERRORS, SECURITY_SCHEMES
from forecourt.api.openapi import success
from forecourt.api.ratelimit import guarded
from forecourt.config import Settings
from forecourt.core.accounts import service as accounts
from forecourt.core.listings import service as listings
from forecourt.core.listings.schemas import IngestReport, ListingFields
from forecourt.core.webhooks.schemas import EventRenderer
from forecourt.db.engine import Database
from forecourt.kit import collector
from forecourt.kit.errors import InvalidInput

IngestKeyDep = NamedDependency[None]


def provide_ingest_key(request: Request[Any, Any, Any], state: AppState) -> None:
    key = bearer_token(request.headers)

    def authenticate(conn: Connection) -> None:
        accounts.authenticate_ingest_key(conn, key)

    guarded(request, state.db, state.limiter, "ingest", accounts.ingest_key_prefix(key), authenticate)


def _ingest(db: Database, render: EventRenderer, body: bytes) -> IngestReport:
    text = body.lstrip()
    if not text:
        raise InvalidInput("body", "body: send listings as NDJSON or a JSON array")
    with collector.paused():
        # A JSON array starts with "["; anything else is read as one JSON object per line.
        items = listings.decode_array(text) if text.startswith(b"[") else listings.decode_ndjson(text)
        with db.write() as conn:
            return listings.ingest(conn, render, items)


@post(
    "/ingest/v1/listings",
    status_code=200,
    tags=["Ingest"],
    **ERRORS.documented(
        401,
        body=list[ListingFields],
        # The handler reads either: a JSON array, or one JSON object per line.
        media_types=("application/json", "application/x-ndjson"),
        body_description="Listings as a JSON array, or as NDJSON (one listing per line)",
        responses=success(IngestReport, description="Stored and matched; bad records listed"),
    ),
)
async def ingest_listings(
    request: Request[Any, Any, Any], state: AppState, ingest_key: IngestKeyDep
) -> IngestReport:
    """Store a batch of listings (one transaction) and match it against tracked customers.
    Each bad record is reported in `errors` by its row, once per bad field; the others are stored."""
    del ingest_key  # authenticated
    body = await request.body()
    report: IngestReport = await anyio.to_thread.run_sync(
        partial(_ingest, state.db, state.adapters.event_body, body)
    )
    return report


def router(settings: Settings) -> Router:
    return Router(
        path="/",
        route_handlers=[ingest_listings],
        dependencies={"ingest_key": Provide(provide_ingest_key, sync_to_thread=True)},
        security=[{name: []} for name in SECURITY_SCHEMES],
        request_max_body_size=settings.max_ingest_bytes,
    )
