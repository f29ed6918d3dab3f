"""The workflow's rules, with no I/O: which status may follow which.

A lead moves forward: new → contacted → appointment → won or lost, and may skip a step
(a customer who buys on the first call goes from new to won). One step back is allowed,
appointment → contacted, for an appointment called off. A closed lead (won or lost)
changes only by being reopened, which takes it to contacted: it was worked, so it is
never new again. Lost needs a reason from the account's list."""

from __future__ import annotations

from collections.abc import Sequence

from forecourt.core.leads.schemas import CLOSED, STATUSES
from forecourt.kit.errors import Conflict, InvalidInput

NEXT: dict[str, tuple[str, ...]] = {
    "new": ("contacted", "appointment", "won", "lost"),
    "contacted": ("appointment", "won", "lost"),
    "appointment": ("contacted", "won", "lost"),
    "won": (),
    "lost": (),
}
REOPENED_TO = "contacted"


def check_move(current: str, wanted: str, reason: str | None, reasons: Sequence[str]) -> str | None:
    """The lost reason to store (None unless lost); raises when the move is not allowed."""
    if wanted not in STATUSES:
        raise InvalidInput("status", f"status must be one of {', '.join(STATUSES)}")
    if wanted == current:
        raise Conflict("status", f"the lead is already {current}")
    if current in CLOSED:
        raise Conflict("status", f"the lead is {current}: reopen it before changing its status")
    if wanted not in NEXT[current]:
        raise Conflict("status", f"a lead that is {current} cannot go back to {wanted}")
    if wanted != "lost":
        if reason is not None:
            raise InvalidInput("reason", "a reason is given only when a lead is lost")
        return None
    if reason not in reasons:
        raise InvalidInput("reason", f"a lost lead needs a reason, one of: {', '.join(reasons)}")
    return reason


def check_reopen(current: str) -> str:
    if current not in CLOSED:
        raise Conflict("status", f"the lead is {current}: only a won or lost lead is reopened")
    return REOPENED_TO
