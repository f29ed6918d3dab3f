"""How every list page reads where it is in its list, from the query string: `page`
(a page number from 1), `offset` (rows skipped) or a cursor (a position in a list kept
in order by time and id, as the leads' inbox is). A value that is not one is an
InvalidInput naming the parameter, so the page says which (400), never a 500."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from forecourt.kit.errors import InvalidInput

MAX_PAGE = 100_000


def _whole(raw: str) -> bool:
    # isascii: "²" is a digit to isdigit but not to int(); the length keeps int() cheap.
    return raw.isascii() and raw.isdigit() and len(raw) <= 12


def page_number(params: Mapping[str, str], name: str = "page") -> int:
    """`?page=`: a whole number from 1 (1 when not given)."""
    raw = params.get(name) or ""
    if raw == "":
        return 1
    if not _whole(raw) or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidInput(name, f"{name} must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def offset(params: Mapping[str, str], maximum: int, name: str = "offset") -> int:
    """`?offset=`: a whole number from 0 up to `maximum` (0 when not given)."""
    raw = params.get(name) or ""
    if raw == "":
        return 0
    if not _whole(raw) or int(raw) > maximum:
        raise InvalidInput(name, f"{name} must be a whole number up to {maximum}")
    return int(raw)


def page_count(total: int, size: int) -> int:
    """How many pages `total` rows fill (at least one, the empty one)."""
    return max(1, -(-total // size))


def cursor(params: Mapping[str, str], name: str) -> tuple[datetime, UUID] | None:
    """A position in a list as `cursor_of` wrote it: a naive UTC time and an id."""
    raw = params.get(name) or ""
    if raw == "":
        return None
    at, _, row_id = raw.rpartition("_")
    try:
        found = datetime.fromisoformat(at), UUID(row_id)
    except ValueError:
        raise InvalidInput(name, f"{name} is not a position in the list") from None
    if found[0].tzinfo is not None:
        raise InvalidInput(name, f"{name} is not a position in the list")
    return found


def cursor_of(at: datetime, row_id: UUID) -> str:
    return f"{at.isoformat()}_{row_id}"
