"""inventory, parties, opportunities, signing keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "inventory_counts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("vehicles", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_inventory_counts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_inventory_counts")),
    )
    op.create_table(
        "inventory_vehicles",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("selling_id", sa.String(length=16), nullable=False),
        sa.Column("internal_id", sa.String(length=255), nullable=True),
        sa.Column("make_id", sa.Integer(), nullable=True),
        sa.Column("make_name", sa.String(length=100), nullable=True),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("model_name", sa.String(length=100), nullable=True),
        sa.Column("model_version", sa.String(length=255), nullable=True),
        sa.Column("trim_line", sa.String(length=100), nullable=True),
        sa.Column("model_range", sa.String(length=100), nullable=True),
        sa.Column("vehicle_state", sa.String(length=32), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("first_registration", sa.Date(), nullable=True),
        sa.Column("construction_date", sa.Date(), nullable=True),
        sa.Column("kilometers", sa.Integer(), nullable=True),
        sa.Column("vehicle_type_id", sa.SmallInteger(), nullable=True),
        sa.Column("climatisation_type", sa.String(length=32), nullable=True),
        sa.Column("condition_type", sa.String(length=32), nullable=True),
        sa.Column("vin", sa.String(length=17), nullable=True),
        sa.Column("power_kw", sa.Float(), nullable=True),
        sa.Column("cubic_capacity", sa.Integer(), nullable=True),
        sa.Column("door_count", sa.Integer(), nullable=True),
        sa.Column("seat_count", sa.Integer(), nullable=True),
        sa.Column("pollution_badge", sa.SmallInteger(), nullable=True),
        sa.Column("color_id", sa.SmallInteger(), nullable=True),
        sa.Column("is_metallic_color", sa.Boolean(), nullable=True),
        sa.Column("airbag_type", sa.String(length=32), nullable=True),
        sa.Column("interior_type", sa.String(length=32), nullable=True),
        sa.Column("interior_color_id", sa.SmallInteger(), nullable=True),
        sa.Column("fuel_type", sa.String(length=32), nullable=True),
        sa.Column("fuel_detail_type", sa.String(length=32), nullable=True),
        sa.Column("transmission_type", sa.String(length=32), nullable=True),
        sa.Column("is_damaged", sa.Boolean(), nullable=True),
        sa.Column("had_accident_damage", sa.Boolean(), nullable=True),
        sa.Column("is_drivable", sa.Boolean(), nullable=True),
        sa.Column("has_full_service_history", sa.Boolean(), nullable=True),
        sa.Column("cylinders", sa.Integer(), nullable=True),
        sa.Column("is_plugin_hybrid", sa.Boolean(), nullable=True),
        sa.Column("is_e10_enabled", sa.Boolean(), nullable=True),
        sa.Column("drive_type", sa.String(length=32), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.Column("previous_owner_count", sa.Integer(), nullable=True),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column(
            "details",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_inventory_vehicles_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_vehicles")),
        sa.UniqueConstraint(
            "account_id", "selling_id", name=op.f("uq_inventory_vehicles_account_id_selling_id")
        ),
    )
    with op.batch_alter_table("inventory_vehicles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inventory_vehicles_account_id_created_id"),
            ["account_id", "created", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_inventory_vehicles_account_id_make_id_model_id"),
            ["account_id", "make_id", "model_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_inventory_vehicles_account_id_make_name"),
            ["account_id", "make_name"],
            unique=False,
        )
        batch_op.create_index(
            "ix_inventory_vehicles_first_registration",
            ["account_id", "first_registration", "vehicle_state", "fuel_type", "make_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_inventory_vehicles_kilometers",
            ["account_id", "kilometers", "vehicle_state", "fuel_type", "make_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_inventory_vehicles_price",
            ["account_id", "price", "vehicle_state", "fuel_type", "make_id"],
            unique=False,
        )

    op.create_table(
        "parties",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("tecfactura_id", sa.String(length=64), nullable=True),
        sa.Column(
            "details",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_parties_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
    )
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_parties_account_id_created_at"), ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_parties_account_id_email"), ["account_id", "email"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_parties_account_id_phone"), ["account_id", "phone"], unique=False
        )
        batch_op.create_index(
            "uq_parties_tecfactura_id",
            ["account_id", "tecfactura_id"],
            unique=True,
            sqlite_where=sa.text("tecfactura_id IS NOT NULL"),
            postgresql_where=sa.text("tecfactura_id IS NOT NULL"),
        )

    op.create_table(
        "opportunities",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("source_type", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_opportunities_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_opportunities_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_opportunities_lead_id")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(
            sa.Column("vehicle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(sa.Column("message", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_leads_party_id"), ["party_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_vehicle_id"), ["vehicle_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_leads_party_id_parties"), "parties", ["party_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_leads_vehicle_id_inventory_vehicles"),
            "inventory_vehicles",
            ["vehicle_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_leads_vehicle_id_inventory_vehicles"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_leads_party_id_parties"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_leads_vehicle_id"))
        batch_op.drop_index(batch_op.f("ix_leads_party_id"))
        batch_op.drop_column("message")
        batch_op.drop_column("vehicle_id")
        batch_op.drop_column("party_id")

    op.drop_table("opportunities")
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_parties_tecfactura_id",
            sqlite_where=sa.text("tecfactura_id IS NOT NULL"),
            postgresql_where=sa.text("tecfactura_id IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_parties_account_id_phone"))
        batch_op.drop_index(batch_op.f("ix_parties_account_id_email"))
        batch_op.drop_index(batch_op.f("ix_parties_account_id_created_at"))

    op.drop_table("parties")
    with op.batch_alter_table("inventory_vehicles", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_vehicles_price")
        batch_op.drop_index("ix_inventory_vehicles_kilometers")
        batch_op.drop_index("ix_inventory_vehicles_first_registration")
        batch_op.drop_index(batch_op.f("ix_inventory_vehicles_account_id_make_name"))
        batch_op.drop_index(batch_op.f("ix_inventory_vehicles_account_id_make_id_model_id"))
        batch_op.drop_index(batch_op.f("ix_inventory_vehicles_account_id_created_id"))

    op.drop_table("inventory_vehicles")
    op.drop_table("inventory_counts")
    op.drop_table("signing_keys")
