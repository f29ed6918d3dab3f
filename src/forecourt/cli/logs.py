"""What `forecourt serve` logs: uvicorn's configuration, with the query string left out
of every access-log line (a client may put a key or a customer's details there)."""

from __future__ import annotations

import copy
import logging
from typing import Any


class NoQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's access record: (client, method, path with query, http version, status).
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, asked, _ = args[2].partition("?")
            record.args = (*args[:2], path + ("?..." if asked else ""), *args[3:])
        return True


def uvicorn_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"no_query_string": {"()": NoQueryString}}
    config["handlers"]["access"]["filters"] = ["no_query_string"]
    return config
