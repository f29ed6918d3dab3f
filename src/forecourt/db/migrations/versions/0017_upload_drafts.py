"""upload drafts and files (the workspace's uploads), the field of a row error

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upload_drafts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("preview", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_upload_drafts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_drafts")),
    )
    op.create_index(op.f("ix_upload_drafts_account_id"), "upload_drafts", ["account_id"])
    op.create_index(op.f("ix_upload_drafts_expires_at"), "upload_drafts", ["expires_at"])
    op.create_table(
        "upload_files",
        sa.Column("upload_id", sa.Uuid(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("row_numbers", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["uploads.id"], name=op.f("fk_upload_files_upload_id_uploads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("upload_id", name=op.f("pk_upload_files")),
    )
    op.add_column("upload_errors", sa.Column("field", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("upload_errors") as batch:
        batch.drop_column("field")
    op.drop_table("upload_files")
    op.drop_index(op.f("ix_upload_drafts_expires_at"), table_name="upload_drafts")
    op.drop_index(op.f("ix_upload_drafts_account_id"), table_name="upload_drafts")
    op.drop_table("upload_drafts")
