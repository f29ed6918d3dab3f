"""POST /v3/opportunity: an enquiry about a stock vehicle, stored as a lead."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import post
from litestar.params import JSONBody
from msgspec import Meta

from forecourt.api.autengo.deps import AccountDep
from forecourt.api.autengo.errors import ERRORS
from forecourt.api.deps import AppState
from forecourt.core.contacts.schemas import ContactFields, LongText
from forecourt.core.opportunities import service as opportunities
from forecourt.core.opportunities.schemas import Opportunity


class OpportunityPost(msgspec.Struct, rename="camel"):
    selling_id: Annotated[str, Meta(min_length=1, max_length=16)]
    customer: ContactFields
    request_text: LongText | None = None
    source_type: Annotated[int, Meta(ge=0, le=2**31 - 1)] | None = None


class OpportunityData(msgspec.Struct):
    opportunityId: int


class OpportunityEnvelope(msgspec.Struct):
    status: str
    data: OpportunityData


@post(
    "/opportunity",
    status_code=200,
    sync_to_thread=True,
    tags=["Autengo opportunities"],
    **ERRORS.documented(401, 404, 413),
)
def create_opportunity(
    state: AppState, account: AccountDep, data: JSONBody[OpportunityPost]
) -> OpportunityEnvelope:
    """404 when the sellingId is not in the account's stock. The customer is linked to
    the contact with the same email (else phone number), or created."""
    with state.db.write() as conn:
        asked = Opportunity(
            selling_id=data.selling_id,
            customer=data.customer,
            message=data.request_text,
            source_type=data.source_type,
        )
        opportunity_id = opportunities.create(conn, account.id, asked)
    return OpportunityEnvelope("success", OpportunityData(opportunity_id))
