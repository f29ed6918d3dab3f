"""tracked customers: room on each page for an update in place (PostgreSQL)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01

Matching names a customer's vehicle from the listing (vehicle_title, last_updated),
neither indexed: with free space on the row's page PostgreSQL updates it in place
(a heap-only tuple) and touches none of the table's ten indexes. Bulk-loaded pages
are full, so each such update wrote a new row version into every index (92 ms for
1,000 customers, most of it WAL). 90% full leaves that room; pages written before
keep theirs until rewritten. SQLite has no such setting.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tracked_customers SET (fillfactor = 90)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tracked_customers RESET (fillfactor)")
