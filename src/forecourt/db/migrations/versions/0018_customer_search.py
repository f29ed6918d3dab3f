"""customer search (the workspace's /customers): external id, surname, full name; and
the Today page's lead indexes (open leads not acted on; figures by creation time)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

The name indexes are on expressions (a key of additional_fields, lower-cased), which
SQLite's reflection cannot read: a later batch-mode migration of tracked_customers on
SQLite must create them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _lowered(key: str) -> sa.TextClause:
    """The key of additional_fields as lower-cased text: models.FieldText's expression."""
    if op.get_bind().dialect.name == "sqlite":
        return sa.text(f"lower(json_extract(additional_fields, '$.{key}'))")
    return sa.text(f"lower(additional_fields ->> '{key}')")


def upgrade() -> None:
    op.create_index(
        op.f("ix_tracked_customers_account_id_region_external_id"),
        "tracked_customers",
        ["account_id", "region", "external_id"],
    )
    for name, key in (
        ("ix_tracked_customers_last_name", "last_name"),
        ("ix_tracked_customers_full_name", "name"),
    ):
        op.create_index(name, "tracked_customers", ["account_id", "region", _lowered(key), "id"])

    waiting = sa.text("first_actioned_at IS NULL")
    op.create_index(
        "ix_leads_waiting",
        "leads",
        ["first_actioned_at", "account_id", "assignee_id", "created_at"],
        sqlite_where=waiting,
        postgresql_where=waiting,
    )
    op.create_index(
        "ix_leads_created_figures",
        "leads",
        ["account_id", "created_at", "assignee_id", "origin", "first_actioned_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_leads_created_figures", table_name="leads")
    op.drop_index("ix_leads_waiting", table_name="leads")
    op.drop_index("ix_tracked_customers_full_name", table_name="tracked_customers")
    op.drop_index("ix_tracked_customers_last_name", table_name="tracked_customers")
    op.drop_index(op.f("ix_tracked_customers_account_id_region_external_id"), table_name="tracked_customers")
