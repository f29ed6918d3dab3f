"""Text matching in SQL, the same on both backends."""

from __future__ import annotations

import string
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


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
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def lowered(conn: Connection, text: str) -> str:
    """`text` as the backend's SQL `lower()` makes it, to compare with `lower(column)`:
    SQLite's lowers ASCII letters only (so "Özil" is stored lowered as "Özil", and found
    by "ÖZ" but not by "öz"); PostgreSQL's, all letters, as Python's."""
    return text.translate(_ASCII_LOWER) if conn.dialect.name == "sqlite" else text.lower()
