"""What `forecourt serve` and `forecourt worker` log, and how: plain lines or JSON objects
(FORECOURT_LOG_FORMAT), each naming the request it was written for. Requests are logged
by the API itself (api/access.py), without their values; uvicorn's access log is off."""

from __future__ import annotations

import logging
from typing import Any

from forecourt.config import Settings
from forecourt.kit import request_ids


class RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_ids.current.get()
        return True


FORMATTERS = {
    "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    },
}


def config(settings: Settings) -> dict[str, Any]:
    """One dictConfig for Forecourt's loggers and uvicorn's, on standard error."""
    level = settings.log_level.upper()
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": settings.log_format,
        "filters": ["request_id"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestId}},
        "formatters": {settings.log_format: FORMATTERS[settings.log_format]},
        "handlers": {"default": handler},
        "root": {"level": level, "handlers": ["default"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": ["default"], "propagate": False},
            # Off: the API logs requests itself. (Said here too, as an API process of
            # several configures logging after uvicorn, which would turn it back on.)
            "uvicorn.access": {"handlers": [], "propagate": False},
            # httpx logs each outbound request's full URL, and a webhook's or a lookup
            # service's URL may hold a token: only its warnings are kept.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }
