"""CRM delivery: targets and the delivery log (ADF)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_targets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_targets_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_targets")),
    )
    with op.batch_alter_table("crm_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_targets_account_id_created_at"), ["account_id", "created_at"], unique=False
        )

    op.create_table(
        "crm_deliveries",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("email_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_crm_deliveries_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["email_id"], ["emails.id"], name=op.f("fk_crm_deliveries_email_id_emails"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_crm_deliveries_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["crm_targets.id"],
            name=op.f("fk_crm_deliveries_target_id_crm_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_deliveries")),
        sa.UniqueConstraint("lead_id", "target_id", name=op.f("uq_crm_deliveries_lead_id_target_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("crm_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_deliveries_account_id_created_at"), ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_crm_deliveries_target_id_batch_id_status"),
            ["target_id", "batch_id", "status"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_deliveries_target_id_batch_id_status"))
        batch_op.drop_index(batch_op.f("ix_crm_deliveries_account_id_created_at"))

    op.drop_table("crm_deliveries")
    with op.batch_alter_table("crm_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_targets_account_id_created_at"))

    op.drop_table("crm_targets")
