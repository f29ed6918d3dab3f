"""What a new sighting hands on (to webhooks, to reports)."""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID


class NewSighting(NamedTuple):
    account_id: UUID
    region: str
    customer_id: UUID
    listing_id: int
    lead_id: UUID
