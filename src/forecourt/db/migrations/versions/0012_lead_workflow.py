"""lead workflow

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lead_settings",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column(
            "lost_reasons",
            sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.Column("unactioned_minutes", sa.Integer(), nullable=False),
        sa.Column("max_reassignments", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_lead_settings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_lead_settings")),
    )
    op.create_table(
        "lead_routes",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_lead_routes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lead_routes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "origin", "user_id", name=op.f("pk_lead_routes")),
    )
    op.create_table(
        "lead_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "details",
            sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_lead_events_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_events_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lead_events_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("lead_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_events_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_events_lead_id_id"), ["lead_id", "id"], unique=False)

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="new", nullable=False))
        batch_op.add_column(sa.Column("lost_reason", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("assignee_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("first_actioned_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reassignments", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("do_not_contact", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_leads_account_id_status"), ["account_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_leads_assignee_id_status"), ["assignee_id", "status"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_leads_assignee_id_users"), "users", ["assignee_id"], ["id"], ondelete="SET NULL"
        )

    # Forecourt's own name for a sighting's lead; every lead so far was created.
    op.execute("UPDATE leads SET origin = 'sighting' WHERE origin = 'recapture_sighting'")
    empty = "CAST('{}' AS JSONB)" if op.get_bind().dialect.name == "postgresql" else "'{}'"
    backfill = f"SELECT id, account_id, 'created', 'forecourt', {empty}, created_at FROM leads"  # noqa: S608
    op.execute(f"INSERT INTO lead_events (lead_id, account_id, kind, actor, details, at) {backfill}")

    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("do_not_contact", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("tracked_customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("do_not_contact", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    op.execute("UPDATE leads SET origin = 'recapture_sighting' WHERE origin = 'sighting'")
    with op.batch_alter_table("tracked_customers", schema=None) as batch_op:
        batch_op.drop_column("do_not_contact")

    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_column("do_not_contact")

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_leads_assignee_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_leads_assignee_id_status"))
        batch_op.drop_index(batch_op.f("ix_leads_account_id_status"))
        batch_op.drop_column("do_not_contact")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("reassignments")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("first_actioned_at")
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("assignee_id")
        batch_op.drop_column("lost_reason")
        batch_op.drop_column("status")

    with op.batch_alter_table("lead_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_events_lead_id_id"))
        batch_op.drop_index(batch_op.f("ix_lead_events_account_id"))

    op.drop_table("lead_events")
    op.drop_table("lead_routes")
    op.drop_table("lead_settings")
