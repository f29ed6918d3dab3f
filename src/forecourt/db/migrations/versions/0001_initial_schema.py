"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("cm_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("cm_id", name=op.f("uq_accounts_cm_id")),
    )
    op.create_table(
        "jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_state_run_after"), ["state", "run_after"], unique=False)

    op.create_table(
        "credentials",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_credentials_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("prefix", name=op.f("uq_credentials_prefix")),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credentials_account_id"), ["account_id"], unique=False)

    op.create_table(
        "tracked_customers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("rego", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=3), nullable=True),
        sa.Column("vin", sa.String(length=17), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("sale_date", sa.DateTime(), nullable=True),
        sa.Column("monitor_start_date", sa.DateTime(), nullable=True),
        sa.Column("monitor_end_date", sa.DateTime(), nullable=True),
        sa.Column("vehicle_title", sa.String(length=255), nullable=True),
        sa.Column(
            "additional_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("upload_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_updated", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_tracked_customers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracked_customers")),
    )
    with op.batch_alter_table("tracked_customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracked_customers_account_id_region_created_at_id"),
            ["account_id", "region", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tracked_customers_account_id_region_rego"),
            ["account_id", "region", "rego"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tracked_customers_account_id_upload_id"),
            ["account_id", "upload_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_tracked_customers_plate",
            ["account_id", "region", "rego", "state"],
            unique=True,
            sqlite_where=sa.text("vin IS NULL AND state IS NOT NULL"),
            postgresql_where=sa.text("vin IS NULL AND state IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_tracked_customers_plate_stateless",
            ["account_id", "region", "rego"],
            unique=True,
            sqlite_where=sa.text("vin IS NULL AND state IS NULL"),
            postgresql_where=sa.text("vin IS NULL AND state IS NULL"),
        )
        batch_op.create_index(
            "uq_tracked_customers_vin",
            ["account_id", "region", "vin"],
            unique=True,
            sqlite_where=sa.text("vin IS NOT NULL"),
            postgresql_where=sa.text("vin IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("tracked_customers", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_tracked_customers_vin",
            sqlite_where=sa.text("vin IS NOT NULL"),
            postgresql_where=sa.text("vin IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_tracked_customers_plate_stateless",
            sqlite_where=sa.text("vin IS NULL AND state IS NULL"),
            postgresql_where=sa.text("vin IS NULL AND state IS NULL"),
        )
        batch_op.drop_index(
            "uq_tracked_customers_plate",
            sqlite_where=sa.text("vin IS NULL AND state IS NOT NULL"),
            postgresql_where=sa.text("vin IS NULL AND state IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_tracked_customers_account_id_upload_id"))
        batch_op.drop_index(batch_op.f("ix_tracked_customers_account_id_region_rego"))
        batch_op.drop_index(batch_op.f("ix_tracked_customers_account_id_region_created_at_id"))

    op.drop_table("tracked_customers")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_account_id"))

    op.drop_table("credentials")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_state_run_after"))

    op.drop_table("jobs")
    op.drop_table("accounts")
