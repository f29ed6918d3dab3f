"""One typed Settings object, read from FORECOURT_* environment variables and flags.

Every field here must be documented in docs/configuration.md (a test checks it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import msgspec

ENV_PREFIX = "FORECOURT_"


@dataclass(frozen=True)
class Settings:
    # The URLs may hold passwords: kept out of the settings' repr.
    database_url: str = field(default="sqlite:///var/forecourt.db", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 1024 * 1024 * 1024
    upload_chunk_rows: int = 10000
    # An upload of at least this many rows (and more than one chunk), on two cores or more,
    # is validated a chunk ahead in a process of its own while the job writes (0: never).
    upload_pipeline_rows: int = 20000
    embedded_worker: bool = True
    # Each process's PostgreSQL connections (docs/deployment.md): its pool, and whether
    # psycopg prepares statements (not through a PgBouncer that cannot keep them).
    database_pool_size: int = 5
    database_max_overflow: int = 10
    database_pool_timeout_seconds: float = 30.0
    database_prepared_statements: bool = True
    # `forecourt serve`'s API processes (0: one per core) and the worker processes that
    # run jobs beside them, or that `forecourt worker` runs (docs/operations.md).
    processes: int = 0
    worker_concurrency: int = 1
    worker_poll_seconds: float = 0.2
    job_lease_seconds: int = 60
    job_turn_seconds: float = 0.5
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"
    idempotency_ttl_hours: int = 24
    registration_lookup: str = "none"
    registration_http_url: str = ""
    registration_http_timeout_seconds: float = 5.0
    registration_http_retries: int = 2
    registration_http_breaker_failures: int = 5
    registration_http_breaker_seconds: float = 30.0
    max_ingest_bytes: int = 64 * 1024 * 1024
    webhook_timeout_seconds: float = 10.0
    webhook_allowed_networks: str = ""
    check_http_url: str = ""
    check_http_description: str = "External check service"
    check_http_resource_type: int = 6
    check_http_result_path: str = ""
    check_http_status_path: str = ""
    check_http_timeout_seconds: float = 5.0
    rate_limit_per_minute: int = 600
    rate_limit_per_address_per_minute: int = 1200
    rate_limit_storage: str = "auto"
    auth_failure_limit: int = 10
    auth_failure_window_seconds: int = 900
    header_timeout_seconds: float = 10.0
    keep_alive_seconds: int = 5
    max_connections: int = 1000
    smtp_url: str = field(default="", repr=False)
    mail_from: str = ""
    smtp_timeout_seconds: float = 10.0
    smtp_ca_file: str = ""
    # The workspace (web/): sessions idle this long end; cookies Secure: auto, true or false.
    session_idle_minutes: int = 60
    session_cookie_secure: Literal["auto", "true", "false"] = "auto"

    # Lead routing and notifications (docs/leads.md): links in emails, routing's batches.
    public_url: str = ""
    lead_routing_batch: int = 1000

    @classmethod
    def load(cls, environ: Mapping[str, str] = os.environ, **overrides: Any) -> Settings:
        """Defaults, then FORECOURT_* variables, then explicit overrides (CLI flags).

        Overrides that are None mean "flag not given" and are skipped.
        """
        values: dict[str, Any] = {}
        for f in fields(cls):
            env_name = ENV_PREFIX + f.name.upper()
            if env_name in environ:
                values[f.name] = environ[env_name]
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(f"Invalid setting: {exc}") from exc

    @property
    def api_processes(self) -> int:
        """How many API processes `forecourt serve` runs: `processes`, or one per core
        this process may use."""
        return self.processes or usable_cores()

    @staticmethod
    def env_names() -> list[str]:
        return [ENV_PREFIX + f.name.upper() for f in fields(Settings)]


def usable_cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(1, len(usable))
