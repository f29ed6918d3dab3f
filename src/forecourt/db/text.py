"""Text matching in SQL, the same on both backends."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def contains(column: sa.ColumnElement[Any], text: str) -> sa.ColumnElement[bool]:
    """`column` contains `text`, ignoring case (on SQLite, for ASCII letters), with the
    LIKE wildcards in `text` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
