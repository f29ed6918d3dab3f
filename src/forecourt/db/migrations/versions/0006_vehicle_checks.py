"""vehicle checks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "check_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_check_batches_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_batches")),
    )
    with op.batch_alter_table("check_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_check_batches_account_id_created_at"), ["account_id", "created_at"], unique=False
        )

    op.create_table(
        "disabled_resources",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_disabled_resources_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "resource", name=op.f("pk_disabled_resources")),
    )
    op.create_table(
        "vehicle_checks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("plate", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=True),
        sa.Column(
            "result",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_vehicle_checks_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["check_batches.id"],
            name=op.f("fk_vehicle_checks_batch_id_check_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicle_checks")),
    )
    with op.batch_alter_table("vehicle_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vehicle_checks_account_id_vin_plate"), ["account_id", "vin", "plate"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vehicle_checks_batch_id_resource_id_state"),
            ["batch_id", "resource_id", "state"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("vehicle_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicle_checks_batch_id_resource_id_state"))
        batch_op.drop_index(batch_op.f("ix_vehicle_checks_account_id_vin_plate"))

    op.drop_table("vehicle_checks")
    op.drop_table("disabled_resources")
    with op.batch_alter_table("check_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_batches_account_id_created_at"))

    op.drop_table("check_batches")
