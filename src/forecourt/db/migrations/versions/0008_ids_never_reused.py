"""ids that say nothing of other tenants and are never reused

Contacts (parties), opportunities and cm_ids are issued by db/ids.py from now on: the
ids they hold are recorded in `issued_ids` (they keep answering; new ids are drawn above
2^32, so none meets an old one, deleted ones included) and on PostgreSQL their columns
lose the shared sequence. Jobs, stock rows, checks and listings keep counting, without
going back: on SQLite the tables are rebuilt with AUTOINCREMENT (from here on, a deleted
newest row's id is never given again); on PostgreSQL listings get the sequence the
others already have.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ISSUED = ("parties", "opportunities")
COUNTED = ("jobs", "inventory_vehicles", "vehicle_checks", "listings")


def upgrade() -> None:
    op.create_table(
        "issued_ids",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_ids")),
    )
    # The ids the old counters gave (those of deleted rows included) are all below the
    # range ids are drawn from now (db/ids.py, LOW): none needs recording.
    if op.get_bind().dialect.name == "postgresql":
        for table in ISSUED:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN id DROP DEFAULT")
            op.execute(f"DROP SEQUENCE IF EXISTS {table}_id_seq")
        op.execute("CREATE SEQUENCE listings_id_seq OWNED BY listings.id")
        op.execute("SELECT setval('listings_id_seq', COALESCE(MAX(id), 0) + 1, false) FROM listings")
        op.execute("ALTER TABLE listings ALTER COLUMN id SET DEFAULT nextval('listings_id_seq')")
        return
    # SQLite: a rebuild copies the rows with their ids, and sqlite_sequence starts at the
    # largest. Foreign keys are off during migrations (env.py), so dropping the old
    # table touches no row that refers to it.
    for table in COUNTED:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE listings ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE listings_id_seq")
        for table in ISSUED:
            op.execute(f"CREATE SEQUENCE {table}_id_seq OWNED BY {table}.id")
            op.execute(f"SELECT setval('{table}_id_seq', COALESCE(MAX(id), 0) + 1, false) FROM {table}")  # noqa: S608
            op.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
    else:
        for table in COUNTED:
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}):
                pass
    op.drop_table("issued_ids")
