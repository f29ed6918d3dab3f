"""the leads inbox: an account's leads by assignee, newest first

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_leads_account_id_assignee_id_created_at",
        "leads",
        ["account_id", "assignee_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_leads_account_id_assignee_id_created_at", table_name="leads")
