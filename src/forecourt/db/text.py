"""Text matching in SQL, the same on both backends."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def contains(column: sa.ColumnElement[Any], text: str) -> sa.ColumnElement[bool]:
    """`column` contains `text`, ignoring case (on SQLite, for ASCII letters), with the
    LIKE wildcards in `text` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def starts_with(expression: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    """`expression` starts with `prefix` (compared as it is: lower-case both for any
    case), as a range that a B-tree index on the expression answers. Not LIKE: SQLite
    takes an index for LIKE only on a plain column, and PostgreSQL only under the C
    collation or with a pattern operator class."""
    stem = prefix.rstrip(_LAST)  # no character follows the last one: drop it from the bound
    if not stem:
        return expression >= prefix
    after = stem[:-1] + chr(ord(stem[-1]) + 1)
    return sa.and_(expression >= prefix, expression < after)


_LAST = chr(0x10FFFF)
