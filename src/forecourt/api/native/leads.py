"""/v1/leads: list an account's leads, read one with its timeline, move it through the
workflow, add a note. Changes are made as the API (actor `api`)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, get, patch, post
from litestar.params import Parameter

from forecourt.api.deps import AppState
from forecourt.api.native.deps import AccountDep
from forecourt.api.native.errors import ERRORS
from forecourt.api.native.schemas import (
    LIST_PARAMETERS,
    EventOut,
    LeadDetailOut,
    LeadList,
    LeadPatch,
    NoteIn,
    decode_body,
    detail_out,
    encode_cursor,
    event_out,
    lead_out,
    lead_query,
    parse_id,
)
from forecourt.core.leads import service as leads
from forecourt.core.leads.schemas import API

LeadId = Annotated[str, Parameter(description="The lead's id (a UUID)", schema_extra={"format": "uuid"})]


class LeadsController(Controller):
    path = "/leads"
    tags = ["Native: leads"]

    @get(
        "/",
        sync_to_thread=True,
        **ERRORS.documented(401, parameters=LIST_PARAMETERS),
    )
    def list_leads(self, request: Request[Any, Any, Any], state: AppState, account: AccountDep) -> LeadList:
        """The account's leads, newest first, a page at a time: every filter given must
        hold. Page on with the answer's `next_cursor` until it is null; leads made
        meanwhile never shift a page (they are newer than the cursor)."""
        query = lead_query(request.query_params)
        with state.db.read() as conn:
            found = leads.list_page(conn, account.id, query)
        cursor = None if found.next_after is None else encode_cursor(found.next_after)
        return LeadList([lead_out(lead) for lead in found.leads], cursor)

    @get("/{lead_id:str}", sync_to_thread=True, **ERRORS.documented(401, 404))
    def get_lead(self, state: AppState, account: AccountDep, lead_id: LeadId) -> LeadDetailOut:
        """The lead, what it is about (the tracked customer and listing of a sighting; the
        CRM party and stock vehicle of an opportunity or enquiry) and its timeline."""
        wanted = parse_id("id", lead_id)
        with state.db.read() as conn:
            return detail_out(leads.detail(conn, account.id, wanted))

    @patch("/{lead_id:str}", status_code=200, **ERRORS.documented(401, 404, 409, body=LeadPatch))
    async def change_lead(
        self,
        request: Request[Any, Any, Any],
        state: AppState,
        account: AccountDep,
        lead_id: LeadId,
    ) -> LeadDetailOut:
        """Reopen a won or lost lead (`reopen: true`, to contacted), move its status
        (`status`, with `reason` from the account's list when lost), assign it (`assignee`,
        an active user of the account); together they are made in that order, all or
        none. A move the workflow does not allow is 409."""
        wanted = parse_id("id", lead_id)
        asked: LeadPatch = decode_body(await request.body(), LeadPatch)

        def change() -> LeadDetailOut:
            with state.db.write() as conn:
                leads.change(
                    conn,
                    account.id,
                    wanted,
                    API,
                    state.adapters.clock.now(),
                    reopen_it=asked.reopen is True,
                    status=asked.status or None,
                    reason=asked.reason or None,
                    assignee_id=asked.assignee or None,
                    public_url=state.settings.public_url,
                )
                return detail_out(leads.detail(conn, account.id, wanted))

        result: LeadDetailOut = await anyio.to_thread.run_sync(change)
        return result

    @post("/{lead_id:str}/notes", status_code=201, **ERRORS.documented(401, 404, body=NoteIn))
    async def add_note(
        self,
        request: Request[Any, Any, Any],
        state: AppState,
        account: AccountDep,
        lead_id: LeadId,
    ) -> EventOut:
        """A note on the lead's timeline (its first action, if no one had acted on it)."""
        wanted = parse_id("id", lead_id)
        note: NoteIn = decode_body(await request.body(), NoteIn)

        def add() -> EventOut:
            with state.db.write() as conn:
                added = leads.add_note(conn, account.id, wanted, note.text, API, state.adapters.clock.now())
            return event_out(added)

        result: EventOut = await anyio.to_thread.run_sync(add)
        return result
