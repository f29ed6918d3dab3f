"""An enquiry about a stock vehicle (an Autengo opportunity)."""

from __future__ import annotations

import msgspec

from forecourt.core.contacts.schemas import ContactFields


class Opportunity(msgspec.Struct, frozen=True, kw_only=True):
    selling_id: str  # the stock vehicle asked about
    customer: ContactFields  # who asked: found by email or phone, else created
    message: str | None = None
    source_type: int | None = None
