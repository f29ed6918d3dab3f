"""POST /v3/opportunity: an enquiry about a stock vehicle, stored as a lead."""

from __future__ import annotations

import msgspec
from litestar import post
from litestar.params import JSONBody

from forecourt.api.autengo.deps import AccountDep
from forecourt.api.deps import DbDep
from forecourt.core.opportunities import service as opportunities
from forecourt.core.opportunities.schemas import OpportunityPost


class OpportunityData(msgspec.Struct):
    opportunityId: int


class OpportunityEnvelope(msgspec.Struct):
    status: str
    data: OpportunityData


@post("/opportunity", status_code=200, sync_to_thread=True, tags=["Autengo opportunities"])
def create_opportunity(
    db: DbDep, account: AccountDep, data: JSONBody[OpportunityPost]
) -> OpportunityEnvelope:
    """404 when the sellingId is not in the account's stock. The customer is linked to
    the contact with the same email (else phone number), or created."""
    with db.write() as conn:
        opportunity_id = opportunities.create(conn, account.id, data)
    return OpportunityEnvelope("success", OpportunityData(opportunity_id))
