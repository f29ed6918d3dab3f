"""plate index only for customers with a VIN

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tracked_customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracked_customers_account_id_region_rego"))
        batch_op.create_index(
            "ix_tracked_customers_plate_with_vin",
            ["account_id", "region", "rego"],
            unique=False,
            sqlite_where=sa.text("vin IS NOT NULL"),
            postgresql_where=sa.text("vin IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("tracked_customers", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_tracked_customers_plate_with_vin",
            sqlite_where=sa.text("vin IS NOT NULL"),
            postgresql_where=sa.text("vin IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_tracked_customers_account_id_region_rego"),
            ["account_id", "region", "rego"],
            unique=False,
        )
