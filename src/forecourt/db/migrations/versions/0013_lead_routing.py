"""lead routing

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


UNACTIONED = "first_actioned_at IS NULL AND escalated_at IS NULL AND assignee_id IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "lead_digests",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_lead_digests_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_lead_digests")),
    )
    op.create_table(
        "lead_emails",
        sa.Column("email_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("about", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_lead_emails_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["email_id"], ["emails.id"], name=op.f("fk_lead_emails_email_id_emails"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_emails_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lead_emails_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("email_id", "lead_id", name=op.f("pk_lead_emails")),
    )
    with op.batch_alter_table("lead_emails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_emails_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_emails_lead_id"), ["lead_id"], unique=False)

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_leads_unactioned",
            ["assigned_at"],
            unique=False,
            sqlite_where=sa.text(UNACTIONED),
            postgresql_where=sa.text(UNACTIONED),
        )
        batch_op.create_index(
            "ix_leads_unassigned",
            ["account_id"],
            unique=False,
            sqlite_where=sa.text("assignee_id IS NULL"),
            postgresql_where=sa.text("assignee_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_leads_unassigned",
            sqlite_where=sa.text("assignee_id IS NULL"),
            postgresql_where=sa.text("assignee_id IS NULL"),
        )
        batch_op.drop_index(
            "ix_leads_unactioned", sqlite_where=sa.text(UNACTIONED), postgresql_where=sa.text(UNACTIONED)
        )

    with op.batch_alter_table("lead_emails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_emails_lead_id"))
        batch_op.drop_index(batch_op.f("ix_lead_emails_account_id"))

    op.drop_table("lead_emails")
    op.drop_table("lead_digests")
