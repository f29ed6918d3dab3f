"""crm parties for kapture

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("is_organisation", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("is_channel_partner", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_index(batch_op.f("ix_parties_account_id_created_at"))
        batch_op.create_index(
            batch_op.f("ix_parties_account_id_created_at_id"),
            ["account_id", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parties_account_id_created_at_id"))
        batch_op.create_index(
            batch_op.f("ix_parties_account_id_created_at"), ["account_id", "created_at"], unique=False
        )
        batch_op.drop_column("is_channel_partner")
        batch_op.drop_column("is_organisation")
        batch_op.drop_column("name")
