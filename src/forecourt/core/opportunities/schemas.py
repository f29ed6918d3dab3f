"""An enquiry about a stock vehicle (an Autengo opportunity)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from forecourt.core.contacts.schemas import ContactFields, LongText


class OpportunityPost(msgspec.Struct, rename="camel"):
    selling_id: Annotated[str, Meta(min_length=1, max_length=16)]
    customer: ContactFields
    request_text: LongText | None = None
    source_type: Annotated[int, Meta(ge=0, le=2**31 - 1)] | None = None
