"""contact search (the workspace's /contacts): the start of the first name, the surname
or the full name, lower-cased, from an index each

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01

The indexes are on expressions (lower(column)), which SQLite's reflection cannot read:
a later batch-mode migration of parties on SQLite must create them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("first_name", "last_name", "name")


def upgrade() -> None:
    for column in COLUMNS:
        # The same expression as models.py's and the queries': lower(column).
        op.create_index(f"ix_parties_{column}", "parties", ["account_id", sa.text(f"lower({column})"), "id"])


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_index(f"ix_parties_{column}", table_name="parties")
