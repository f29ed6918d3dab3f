"""`forecourt crm ...`: an account's CRM targets (ADF delivery) and its delivery log, as
JSON. The commands are declared in main.py; this module shapes what they print."""

from __future__ import annotations

from typing import Any

from forecourt.core.crm.schemas import Delivery, Target
from forecourt.kit.dates import format_timestamp


def _time(value: Any) -> str | None:
    return None if value is None else format_timestamp(value)


def target_json(target: Target) -> dict[str, Any]:
    return {
        "id": str(target.id),
        "account_id": str(target.account_id),
        "name": target.name,
        "channel": target.channel,
        "email" if target.channel == "email" else "url": target.address,
        "created_at": _time(target.created_at),
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "target_id": str(delivery.target_id),
        "lead_id": str(delivery.lead_id),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "response_status": delivery.response_status,
        "last_error": delivery.last_error,
        "created_at": _time(delivery.created_at),
        "last_attempt_at": _time(delivery.last_attempt_at),
        "delivered_at": _time(delivery.delivered_at),
    }
