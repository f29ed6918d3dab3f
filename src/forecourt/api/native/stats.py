"""/v1/stats: the numbers a manager asks for, over leads created in a time range
(definitions in core/leads/stats.py and docs/leads.md)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from forecourt.api.deps import AppState
from forecourt.api.native.deps import AccountDep
from forecourt.api.native.errors import ERRORS
from forecourt.api.native.schemas import STATS_PARAMETERS, StatsOut, stats_out, stats_range
from forecourt.core.leads import stats


@get(
    "/stats",
    sync_to_thread=True,
    tags=["Native: numbers"],
    **ERRORS.documented(401, parameters=STATS_PARAMETERS),
)
def lead_stats(request: Request[Any, Any, Any], state: AppState, account: AccountDep) -> StatsOut:
    """Speed-to-lead (created to first action: median and 90th percentile in seconds, per
    user and per origin, leads never actioned counted apart), leads by status, and the won
    rate by origin, over the leads created in [since, until)."""
    since, until = stats_range(request.query_params)
    with state.db.read() as conn:
        return stats_out(stats.lead_stats(conn, account.id, state.adapters.clock.now(), since, until))
