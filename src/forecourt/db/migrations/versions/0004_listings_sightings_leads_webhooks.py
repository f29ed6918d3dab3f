"""listings, sightings, leads, webhooks, ingest keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_ingest_keys_prefix")),
    )
    op.create_table(
        "listings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=True),
        sa.Column("seller_type", sa.String(length=16), nullable=True),
        sa.Column("vin", sa.String(length=17), nullable=True),
        sa.Column("plate", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=3), nullable=True),
        sa.Column("listed_at", sa.DateTime(), nullable=False),
        sa.Column("delisted_at", sa.DateTime(), nullable=True),
        sa.Column(
            "price_history",
            sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_listings_source_source_id")),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_listings_plate_state"),
            ["plate", "state"],
            unique=False,
            sqlite_where=sa.text("plate IS NOT NULL"),
            postgresql_where=sa.text("plate IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_listings_vin"),
            ["vin"],
            unique=False,
            sqlite_where=sa.text("vin IS NOT NULL"),
            postgresql_where=sa.text("vin IS NOT NULL"),
        )

    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_webhooks_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhooks_account_id_region"), ["account_id", "region"], unique=False
        )

    op.create_table(
        "leads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("tracked_customer_id", sa.Uuid(), nullable=True),
        sa.Column("listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_leads_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_leads_listing_id_listings"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tracked_customer_id"],
            ["tracked_customers.id"],
            name=op.f("fk_leads_tracked_customer_id_tracked_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leads_account_id_created_at"), ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_leads_tracked_customer_id"), ["tracked_customer_id"], unique=False
        )

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_webhook_deliveries_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_webhook_id_created_at"),
            ["webhook_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "sightings",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sightings_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["tracked_customers.id"],
            name=op.f("fk_sightings_customer_id_tracked_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_sightings_lead_id_leads")),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_sightings_listing_id_listings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("customer_id", "listing_id", name=op.f("pk_sightings")),
    )
    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sightings_listing_id"), ["listing_id"], unique=False)

    with op.batch_alter_table("tracked_customers", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_tracked_customers_plate_with_vin"), sqlite_where=sa.text("vin IS NOT NULL")
        )
        batch_op.create_index(
            "ix_tracked_customers_plate_with_vin",
            ["region", "rego", "account_id"],
            unique=False,
            sqlite_where=sa.text("vin IS NOT NULL"),
            postgresql_where=sa.text("vin IS NOT NULL"),
        )
        batch_op.drop_index(
            batch_op.f("uq_tracked_customers_plate"),
            sqlite_where=sa.text("vin IS NULL AND state IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_tracked_customers_plate",
            ["region", "rego", "state", "account_id"],
            unique=True,
            sqlite_where=sa.text("vin IS NULL AND state IS NOT NULL"),
            postgresql_where=sa.text("vin IS NULL AND state IS NOT NULL"),
        )
        batch_op.drop_index(
            batch_op.f("uq_tracked_customers_plate_stateless"),
            sqlite_where=sa.text("vin IS NULL AND state IS NULL"),
        )
        batch_op.create_index(
            "uq_tracked_customers_plate_stateless",
            ["region", "rego", "account_id"],
            unique=True,
            sqlite_where=sa.text("vin IS NULL AND state IS NULL"),
            postgresql_where=sa.text("vin IS NULL AND state IS NULL"),
        )
        batch_op.drop_index(batch_op.f("uq_tracked_customers_vin"), sqlite_where=sa.text("vin IS NOT NULL"))
        batch_op.create_index(
            "uq_tracked_customers_vin",
            ["vin", "region", "account_id"],
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
        batch_op.create_index(
            batch_op.f("uq_tracked_customers_vin"),
            ["account_id", "region", "vin"],
            unique=True,
            sqlite_where=sa.text("vin IS NOT NULL"),
            postgresql_where=sa.text("vin IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_tracked_customers_plate_stateless",
            sqlite_where=sa.text("vin IS NULL AND state IS NULL"),
            postgresql_where=sa.text("vin IS NULL AND state IS NULL"),
        )
        batch_op.create_index(
            batch_op.f("uq_tracked_customers_plate_stateless"),
            ["account_id", "region", "rego"],
            unique=True,
            sqlite_where=sa.text("vin IS NULL AND state IS NULL"),
            postgresql_where=sa.text("vin IS NULL AND state IS NULL"),
        )
        batch_op.drop_index(
            "uq_tracked_customers_plate",
            sqlite_where=sa.text("vin IS NULL AND state IS NOT NULL"),
            postgresql_where=sa.text("vin IS NULL AND state IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("uq_tracked_customers_plate"),
            ["account_id", "region", "rego", "state"],
            unique=True,
            sqlite_where=sa.text("vin IS NULL AND state IS NOT NULL"),
            postgresql_where=sa.text("vin IS NULL AND state IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_tracked_customers_plate_with_vin",
            sqlite_where=sa.text("vin IS NOT NULL"),
            postgresql_where=sa.text("vin IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_tracked_customers_plate_with_vin"),
            ["account_id", "region", "rego"],
            unique=False,
            sqlite_where=sa.text("vin IS NOT NULL"),
            postgresql_where=sa.text("vin IS NOT NULL"),
        )

    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sightings_listing_id"))

    op.drop_table("sightings")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_webhook_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_account_id"))

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leads_tracked_customer_id"))
        batch_op.drop_index(batch_op.f("ix_leads_account_id_created_at"))

    op.drop_table("leads")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhooks_account_id_region"))

    op.drop_table("webhooks")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_listings_vin"),
            sqlite_where=sa.text("vin IS NOT NULL"),
            postgresql_where=sa.text("vin IS NOT NULL"),
        )
        batch_op.drop_index(
            batch_op.f("ix_listings_plate_state"),
            sqlite_where=sa.text("plate IS NOT NULL"),
            postgresql_where=sa.text("plate IS NOT NULL"),
        )

    op.drop_table("listings")
    op.drop_table("ingest_keys")
