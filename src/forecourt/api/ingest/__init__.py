"""The listing ingestion API, for marketplace feeds run by the operator: /ingest/v1."""

from __future__ import annotations

from forecourt.api.ingest.errors import SECURITY_SCHEMES, render_error
from forecourt.api.ingest.listings import router

PATH_PREFIX = "/ingest/"

__all__ = ["PATH_PREFIX", "SECURITY_SCHEMES", "render_error", "router"]
