"""Table definitions (SQLAlchemy Core). Every tenant-owned table carries account_id.

Times are stored as naive UTC datetimes on both backends.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from forecourt.kit.inventory_fields import STORED, Field, Kind

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# none_as_null: a Python None is SQL NULL (so COALESCE can keep a stored value).
Json = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER only
# Integer ids are never handed out twice. Those clients see are issued by db/ids.py
# (random, recorded in `issued_ids`); the others count up and never go back: a
# PostgreSQL sequence does not, and SQLite's AUTOINCREMENT keeps the largest id it ever
# gave (without it, a deleted newest row's id went to the next row).
NEVER_REUSED: dict[str, Any] = {"sqlite_autoincrement": True}


def _owned_by(column: str, target: str, *, primary_key: bool = False) -> sa.Column[object]:
    """A non-null reference whose rows go when their owner goes."""
    return sa.Column(
        column,
        sa.Uuid,
        sa.ForeignKey(target, ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def _account_fk() -> sa.Column[object]:
    return _owned_by("account_id", "accounts.id")


def _unique_where(name: str, where: str, *columns: str) -> sa.Index:
    """A partial unique index, written once for both backends."""
    condition = sa.text(where)
    return sa.Index(name, *columns, unique=True, sqlite_where=condition, postgresql_where=condition)


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("region", sa.String(2), nullable=False),
    sa.Column("cm_id", sa.BigInteger, nullable=False, unique=True),  # issued by db/ids.py
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Every id db/ids.py ever issued (contacts, Kapture customers, opportunities, cm_ids).
# Nothing deletes from it: that is what makes an issued id never issued again.
issued_ids = sa.Table(
    "issued_ids",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=False),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _account_fk(),
    sa.Column("kind", sa.String(16), nullable=False),
    # The public part of a key: how it is found and how an operator names it to revoke it.
    sa.Column("prefix", sa.String(32), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
    sa.Index(None, "account_id"),
)


class FieldText(sa.ColumnElement[str]):
    """One key of a JSON column as lower-cased text, written out literally (not as a bound
    parameter) so that a query and an index on it are the same expression: SQLite and
    PostgreSQL use an expression index only for the identical expression."""

    inherit_cache = False  # the key is part of the SQL text, not a parameter
    type = sa.String()

    def __init__(self, column: sa.ColumnClause[Any], key: str) -> None:
        if not key.isidentifier():
            raise ValueError(f"not a plain key: {key!r}")
        self.column, self.key = column, key


@compiles(FieldText, "sqlite")
def _field_text_sqlite(element: FieldText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower(json_extract({element.column.name}, '$.{element.key}'))"


@compiles(FieldText, "postgresql")
def _field_text_postgresql(element: FieldText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({element.column.name} ->> '{element.key}')"


tracked_customers = sa.Table(
    "tracked_customers",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _account_fk(),
    sa.Column("region", sa.String(2), nullable=False),
    sa.Column("rego", sa.String(16), nullable=True),
    sa.Column("state", sa.String(3), nullable=True),
    sa.Column("vin", sa.String(17), nullable=True),
    sa.Column("external_id", sa.String(255), nullable=True),
    sa.Column("sale_date", sa.DateTime, nullable=True),
    sa.Column("monitor_start_date", sa.DateTime, nullable=True),
    sa.Column("monitor_end_date", sa.DateTime, nullable=True),
    sa.Column("vehicle_title", sa.String(255), nullable=True),
    sa.Column("additional_fields", Json, nullable=False),
    # The upload that last created or updated the customer.
    sa.Column("upload_id", sa.Uuid, nullable=True),
    sa.Column("do_not_contact", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_updated", sa.DateTime, nullable=False),
    sa.Index(None, "account_id", "region", "created_at", "id"),
    sa.Index(None, "account_id", "upload_id"),
    # The workspace's customer search (web /customers): by external id, and by the start
    # of the customer's surname or full name as the dealer's list had them in
    # additional_fields (`last_name`, `name`), lower-cased. Ordered by id within a name,
    # so a page of a common surname is read off the index.
    sa.Index(None, "account_id", "region", "external_id"),
    sa.Index(
        "ix_tracked_customers_last_name",
        "account_id",
        "region",
        FieldText(sa.column("additional_fields"), "last_name"),
        "id",
    ),
    sa.Index(
        "ix_tracked_customers_full_name",
        "account_id",
        "region",
        FieldText(sa.column("additional_fields"), "name"),
        "id",
    ),
    # Identity of a tracked vehicle within (account, region): the VIN when known,
    # otherwise the plate and its state. The partial unique indexes enforce it, and with
    # the next one they are also how customers are found by plate: each row is in exactly
    # one plate index, so an upload maintains one, not two. They lead with the vehicle
    # (and region), so that matching a marketplace listing finds every account's
    # customers with the same index; an account's own lookups give all the columns.
    # The VIN index leads with the VIN itself: SQLite, without statistics, would
    # otherwise scan it as a range for "vin IS NOT NULL" instead of probing by plate.
    _unique_where("uq_tracked_customers_vin", "vin IS NOT NULL", "vin", "region", "account_id"),
    _unique_where(
        "uq_tracked_customers_plate",
        "vin IS NULL AND state IS NOT NULL",
        "region",
        "rego",
        "state",
        "account_id",
    ),
    _unique_where(
        "uq_tracked_customers_plate_stateless",
        "vin IS NULL AND state IS NULL",
        "region",
        "rego",
        "account_id",
    ),
    # Plates of customers with a VIN: found by plate too (a sale without the VIN at hand).
    sa.Index(
        "ix_tracked_customers_plate_with_vin",
        "region",
        "rego",
        "account_id",
        sqlite_where=sa.text("vin IS NOT NULL"),
        postgresql_where=sa.text("vin IS NOT NULL"),
    ),
)

# The predicates of the plate indexes above, for the queries that must repeat them to be
# answered from those indexes.
STATED_PLATE = sa.and_(tracked_customers.c.vin.is_(None), tracked_customers.c.state.is_not(None))
STATELESS_PLATE = sa.and_(tracked_customers.c.vin.is_(None), tracked_customers.c.state.is_(None))
PLATE_WITH_VIN = tracked_customers.c.vin.is_not(None)

uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _account_fk(),
    sa.Column("region", sa.String(2), nullable=False),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("enable_rego_lookups", sa.Boolean, nullable=False),
    sa.Column("monitor_start_date", sa.DateTime, nullable=True),
    sa.Column("monitor_end_date", sa.DateTime, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("chunk_size", sa.Integer, nullable=False),
    sa.Column("total_uploaded_customers", sa.Integer, nullable=False),
    # Doubles as the cursor: the next row to process. Advanced in the same transaction
    # as the customers that chunk wrote, so it is never ahead of them.
    sa.Column("total_processed_customers", sa.Integer, nullable=False),
    sa.Column("total_errors", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("completed_at", sa.DateTime, nullable=True),
    sa.Column("cancelled_at", sa.DateTime, nullable=True),
    sa.Index(None, "account_id", "region", "created_at"),
)

# The body of an upload, staged as JSON arrays of `chunk_size` raw customers; a chunk
# is deleted once processed (or when its upload is cancelled).
upload_chunks = sa.Table(
    "upload_chunks",
    metadata,
    sa.Column("upload_id", sa.Uuid, sa.ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("chunk_no", sa.Integer, primary_key=True),
    sa.Column("body", sa.LargeBinary, nullable=False),
)

upload_errors = sa.Table(
    "upload_errors",
    metadata,
    sa.Column("upload_id", sa.Uuid, sa.ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("row_no", sa.Integer, primary_key=True),  # 1-based position in the list
    sa.Column("external_id", sa.String(255), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("field", sa.String(255), nullable=True),  # the column the reason is about, when known
)

# A file uploaded in the workspace, waiting for its column mapping to be confirmed
# (core/uploads/drafts.py): kept server-side so the confirm may reach any process; it
# expires after a day.
upload_drafts = sa.Table(
    "upload_drafts",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _account_fk(),
    sa.Column("region", sa.String(2), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("preview", sa.LargeBinary, nullable=False),  # JSON: columns, first rows, row count
    sa.Column("body", sa.LargeBinary, nullable=False),  # the file as uploaded
    sa.Index(None, "account_id"),
    sa.Index(None, "expires_at"),
)

# The file an upload came from: its name and the file's row of each customer, so that
# errors name the row as the spreadsheet shows it (JSON list of row numbers).
upload_files = sa.Table(
    "upload_files",
    metadata,
    _owned_by("upload_id", "uploads.id", primary_key=True),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("row_numbers", sa.LargeBinary, nullable=False),
)

# A request's answer kept under its Idempotency-Key, so a replay gets the same answer.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("account_id", sa.Uuid, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("operation", sa.String(64), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index(None, "created_at"),
)

# Operator-loaded registration data for the `file` registration lookup (not per tenant).
registry_vehicles = sa.Table(
    "registry_vehicles",
    metadata,
    sa.Column("plate", sa.String(16), primary_key=True),
    sa.Column("state", sa.String(3), primary_key=True),  # "" where the region has none
    sa.Column("vin", sa.String(17), nullable=False),
    sa.Column("vehicle_title", sa.String(255), nullable=True),
)

# Paid registration lookups, counted per account and month.
lookup_usage = sa.Table(
    "lookup_usage",
    metadata,
    _account_fk(),
    sa.Column("month", sa.String(7), nullable=False),  # YYYY-MM
    sa.Column("provider", sa.String(16), nullable=False),
    sa.Column("lookups", sa.Integer, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "month", "provider"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("run_after", sa.DateTime, nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", sa.DateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Index(None, "state", "run_after"),
    **NEVER_REUSED,
)

# Operator credentials for pushing marketplace listings (not tenant credentials).
ingest_keys = sa.Table(
    "ingest_keys",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("prefix", sa.String(32), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime, nullable=True),
)

# Vehicles advertised for sale on marketplaces: market data, shared by every tenant.
listings = sa.Table(
    "listings",
    metadata,
    # An integer key: on SQLite it is the row id itself, so a listing costs one b-tree
    # less to store. Numbered ahead of the insert by ingest, from the table's sequence
    # (see listings.repository): market data, the same for every tenant.
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_id", sa.String(255), nullable=False),
    sa.Column("region", sa.String(2), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("title", sa.String(255), nullable=True),
    sa.Column("price", sa.BigInteger, nullable=True),
    sa.Column("seller_type", sa.String(16), nullable=True),
    sa.Column("vin", sa.String(17), nullable=True),
    sa.Column("plate", sa.String(16), nullable=True),
    sa.Column("state", sa.String(3), nullable=True),
    sa.Column("listed_at", sa.DateTime, nullable=False),
    sa.Column("delisted_at", sa.DateTime, nullable=True),
    # [{"at", "price"}, ...]: the first price and every change after it.
    sa.Column("price_history", Json, nullable=False),
    sa.Column("first_seen_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("source", "source_id"),
    sa.Index(
        None, "vin", sqlite_where=sa.text("vin IS NOT NULL"), postgresql_where=sa.text("vin IS NOT NULL")
    ),
    sa.Index(
        None,
        "plate",
        "state",
        sqlite_where=sa.text("plate IS NOT NULL"),
        postgresql_where=sa.text("plate IS NOT NULL"),
    ),
    **NEVER_REUSED,
)

# Every lead of an account, whatever produced it (a sighting today; opportunities and
# enquiries from the other dialects).
leads = sa.Table(
    "leads",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _account_fk(),
    sa.Column("origin", sa.String(32), nullable=False),
    # A lead outlives the customer or listing it came from.
    sa.Column(
        "tracked_customer_id",
        sa.Uuid,
        sa.ForeignKey("tracked_customers.id", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("listing_id", BigId, sa.ForeignKey("listings.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # An enquiry's CRM party, the stock vehicle asked about, and what was asked.
    sa.Column("party_id", BigId, sa.ForeignKey("parties.id", ondelete="SET NULL"), nullable=True),
    sa.Column(
        "vehicle_id", BigId, sa.ForeignKey("inventory_vehicles.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("message", sa.Text, nullable=True),
    # The workflow (core/leads/workflow.py): new, contacted, appointment, won, lost.
    sa.Column("status", sa.String(16), nullable=False, server_default="new"),
    sa.Column("lost_reason", sa.String(100), nullable=True),
    sa.Column("assignee_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("assigned_at", sa.DateTime, nullable=True),
    sa.Column("first_actioned_at", sa.DateTime, nullable=True),  # a person's first status or note
    sa.Column("closed_at", sa.DateTime, nullable=True),
    # Routing (core/leads/routing.py): times taken away for want of action, and when the
    # managers were told it ran out of reassignments.
    sa.Column("reassignments", sa.Integer, nullable=False, server_default="0"),
    sa.Column("escalated_at", sa.DateTime, nullable=True),
    # Its customer or party was marked do-not-contact: no email or CRM delivery names it.
    sa.Column("do_not_contact", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index(None, "account_id", "created_at"),
    sa.Index(None, "account_id", "status"),
    sa.Index(None, "assignee_id", "status"),
    # The workspace's inbox: a salesperson's own leads, or the unassigned, newest first.
    sa.Index(None, "account_id", "assignee_id", "created_at"),
    sa.Index(None, "tracked_customer_id"),  # a customer's deletion nulls its leads' link
    sa.Index(None, "party_id"),
    sa.Index(None, "vehicle_id"),
)

# A lead's timeline: what happened to it, who did it (a user; none for Forecourt itself or
# an API client, told apart by `actor`) and when. `details` holds what the kind needs.
lead_events = sa.Table(
    "lead_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("lead_id", "leads.id"),
    _account_fk(),
    # created, assigned, status_changed, reopened, note_added, sighted, escalated,
    # email_sent, delivered
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(16), nullable=False),  # user, api, forecourt
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("details", Json, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index(None, "lead_id", "id"),
    sa.Index(None, "account_id"),
    **NEVER_REUSED,
)

# An account's lead rules; an account without a row has the defaults (core/leads/schemas.py).
lead_settings = sa.Table(
    "lead_settings",
    metadata,
    _owned_by("account_id", "accounts.id", primary_key=True),
    sa.Column("time_zone", sa.String(64), nullable=False),  # IANA name: the 08:00 digest
    sa.Column("lost_reasons", Json, nullable=False),  # the reasons a lead may be lost for
    sa.Column("unactioned_minutes", sa.Integer, nullable=False),  # then it is reassigned
    sa.Column("max_reassignments", sa.Integer, nullable=False),  # then managers are told
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Routing by origin: an origin with rows here goes only to these users (while active
# sales users); an origin without goes to all the account's active sales users.
lead_routes = sa.Table(
    "lead_routes",
    metadata,
    _owned_by("account_id", "accounts.id", primary_key=True),
    sa.Column("origin", sa.String(32), primary_key=True),
    _owned_by("user_id", "users.id", primary_key=True),
)

# A tracked customer's vehicle found in a listing: at most one per (customer, listing).
sightings = sa.Table(
    "sightings",
    metadata,
    _owned_by("customer_id", "tracked_customers.id", primary_key=True),
    sa.Column("listing_id", BigId, sa.ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True),
    _account_fk(),
    sa.Column("lead_id", sa.Uuid, sa.ForeignKey("leads.id"), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),  # when the vehicle was listed
    sa.Column("created_at", sa.DateTime, nullable=False),
    # Found by customer (the primary key) or by listing; an account's deletion, rare,
    # may scan.
    sa.Index(None, "listing_id"),
)

webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _account_fk(),
    sa.Column("region", sa.String(2), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("endpoint", sa.Text, nullable=False),
    # Kept as is, unlike credentials: every delivery is signed with it (HMAC).
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # An endpoint that fails is left alone for a while (2 s, 4 s ... an hour, by its
    # failures in a row): its other deliveries wait instead of each waiting on a timeout.
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("paused_until", sa.DateTime, nullable=True),
    sa.Index(None, "account_id", "region"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _owned_by("webhook_id", "webhooks.id"),
    _account_fk(),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),  # the exact bytes sent and signed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("response_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_attempt_at", sa.DateTime, nullable=True),
    sa.Column("delivered_at", sa.DateTime, nullable=True),
    sa.Index(None, "webhook_id", "created_at"),
    sa.Index(None, "account_id"),
)


def _sql_type(field: Field) -> sa.types.TypeEngine[Any]:
    if field.kind is Kind.TEXT:
        return sa.Text() if field.max_length > 255 else sa.String(field.max_length)
    if field.kind is Kind.ENUM and isinstance(field.keys[0], str):
        return sa.String(32)
    sql_types: dict[Kind, sa.types.TypeEngine[Any]] = {
        Kind.INT: sa.Integer(),
        Kind.ENUM: sa.SmallInteger(),
        Kind.NUMBER: sa.Float(),
        Kind.BOOL: sa.Boolean(),
        Kind.DATE: sa.Date(),
        Kind.DATETIME: sa.DateTime(),
    }
    return sql_types[field.kind]


_REQUIRED = {"selling_id", "created", "updated"}


def _range_index(column: str) -> sa.Index:
    """An index for ranges (price, mileage, age) that also carries what searches most
    often filter on besides: a count over a wide range is then read from the index
    alone instead of looking up every vehicle in it."""
    return sa.Index(
        f"ix_inventory_vehicles_{column}", "account_id", column, "vehicle_state", "fuel_type", "make_id"
    )


# The dealer's own stock (Autengo vehicles). Fields that can be filtered, ordered or
# searched by have columns (see kit/inventory_fields.py); the rest are in `details`.
inventory_vehicles = sa.Table(
    "inventory_vehicles",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _account_fk(),
    *(sa.Column(f.column, _sql_type(f), nullable=f.column not in _REQUIRED) for f in STORED),
    sa.Column("details", Json, nullable=False),
    sa.UniqueConstraint("account_id", "selling_id"),
    # The default order, and the columns a dealer's website filters and orders by most.
    sa.Index(None, "account_id", "created", "id"),
    sa.Index(None, "account_id", "make_name"),
    sa.Index(None, "account_id", "make_id", "model_id"),
    *(_range_index(column) for column in ("price", "kilometers", "first_registration")),
    **NEVER_REUSED,
)

# How many vehicles each account has: the total of an unfiltered list, which would
# otherwise count a million index entries on every visit to a dealer's front page.
inventory_counts = sa.Table(
    "inventory_counts",
    metadata,
    _owned_by("account_id", "accounts.id", primary_key=True),
    sa.Column("vehicles", sa.BigInteger, nullable=False),
)

# CRM parties (people and organisations): Autengo contacts, Kapture customers.
parties = sa.Table(
    "parties",
    metadata,
    # Contact and Kapture customer ids: issued by db/ids.py, not counted.
    sa.Column("id", BigId, primary_key=True, autoincrement=False),
    _account_fk(),
    sa.Column("first_name", sa.String(255), nullable=True),
    sa.Column("last_name", sa.String(255), nullable=True),
    # The name a CRM lists the party under: a person's full name, an organisation's name.
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("email", sa.String(255), nullable=True),
    sa.Column("phone", sa.String(64), nullable=True),
    sa.Column("tecfactura_id", sa.String(64), nullable=True),
    sa.Column("is_organisation", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("is_channel_partner", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("do_not_contact", sa.Boolean, nullable=False, server_default=sa.false()),
    # The other fields, as the Autengo contact names them, and Kapture's own extras.
    sa.Column("details", Json, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # Pulled by creation time a page at a time: the ids come from the index alone.
    sa.Index(None, "account_id", "created_at", "id"),
    sa.Index(None, "account_id", "email"),
    sa.Index(None, "account_id", "phone"),
    _unique_where("uq_parties_tecfactura_id", "tecfactura_id IS NOT NULL", "account_id", "tecfactura_id"),
)
# The workspace's contact search (web /contacts): by the start of the first name, the
# surname or the full name, lower-cased (as the customers' search). Ordered by id within
# a name, so that a page of a common name is read off the index.
for _column in ("first_name", "last_name", "name"):
    sa.Index(f"ix_parties_{_column}", parties.c.account_id, sa.func.lower(parties.c[_column]), parties.c.id)

# Autengo's view of a lead: opportunities are numbered with integers, leads with UUIDs.
opportunities = sa.Table(
    "opportunities",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=False),  # issued by db/ids.py
    _account_fk(),
    sa.Column("lead_id", sa.Uuid, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, unique=True),
    sa.Column("source_type", sa.Integer, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Server secrets made on first use and shared by every process (the token signing key).
signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Vehicle checks (the Sync dialect): a batch of vehicles checked by every resource the
# account uses; one row per vehicle and resource, the newest finished one is the answer.
check_batches = sa.Table(
    "check_batches",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _account_fk(),
    sa.Column("vehicles", sa.Integer, nullable=False),
    sa.Column("checks", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index(None, "account_id", "created_at"),
)

vehicle_checks = sa.Table(
    "vehicle_checks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _account_fk(),
    _owned_by("batch_id", "check_batches.id"),
    sa.Column("resource_id", sa.Integer, nullable=False),
    sa.Column("vin", sa.String(17), nullable=False),  # "" when not given
    sa.Column("plate", sa.String(10), nullable=False),
    sa.Column("state", sa.String(8), nullable=False),  # pending, done, failed
    sa.Column("status_id", sa.Integer, nullable=True),  # none when the check failed
    sa.Column("result", Json, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    # A read finds a vehicle's checks by its VIN and plate; a job its batch's pending ones.
    sa.Index(None, "account_id", "vin", "plate"),
    sa.Index(None, "batch_id", "resource_id", "state"),
    **NEVER_REUSED,
)

# Resources an account has switched off (all available ones are on by default).
disabled_resources = sa.Table(
    "disabled_resources",
    metadata,
    _owned_by("account_id", "accounts.id", primary_key=True),
    sa.Column("resource", sa.String(32), primary_key=True),
)

# Rate-limit counters: one row per limited thing (a credential, an address, failed sign-ins
# of a key prefix or an address) and fixed window, shared by every process of a deployment.
# Not tenant data: the key names a credential's public prefix or an address, nothing more.
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Index(None, "expires_at"),  # pruning the windows that have passed
)

# Staff of an account who sign in to the workspace (docs/users.md). An email is one user
# per account (stored lower-cased); the same person may be staff of several accounts.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _account_fk(),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # "manager" or "sales"
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),  # argon2id, PHC string
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("account_id", "email"),
)

# The email outbox (core/notifications): one row per email, written in the transaction of
# the event it tells of, sent by a job. `key` is the caller's name for that event: unique
# in an account, so the same event never makes two emails.
emails = sa.Table(
    "emails",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),  # also the Message-ID's left part
    _account_fk(),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(998), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending, sending, sent, failed, unknown
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_attempt_at", sa.DateTime, nullable=True),
    sa.Column("sent_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("account_id", "key"),
)

# Signed-in workspace sessions (core/sessions): the cookie holds a random token, the table
# its SHA-256, so a copy of the database signs nobody in. A session ends when it is idle
# past `expires_at`, at sign-out, or at once when its user is deactivated.
user_sessions = sa.Table(
    "user_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    _account_fk(),
    _owned_by("user_id", "users.id"),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Index(None, "user_id"),
    sa.Index(None, "expires_at"),
)


# Routing (core/leads/routing.py): which email told of which lead, so that a sent email
# leaves `email_sent` on the timeline of each lead it named (and to whom, about what).
lead_emails = sa.Table(
    "lead_emails",
    metadata,
    _owned_by("email_id", "emails.id", primary_key=True),
    _owned_by("lead_id", "leads.id", primary_key=True),
    _account_fk(),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("about", sa.String(32), nullable=False),  # assigned, reassigned, escalated
    sa.Index(None, "lead_id"),
    sa.Index(None, "account_id"),
)

# The daily digest: one row per account and local day it was made for (made once).
lead_digests = sa.Table(
    "lead_digests",
    metadata,
    _owned_by("account_id", "accounts.id", primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),  # in the account's time zone
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# What the routing sweep looks for, found without reading every lead: leads waiting for
# an assignee, and assigned leads nobody has acted on yet.
sa.Index(
    "ix_leads_unassigned",
    leads.c.account_id,
    sqlite_where=sa.text("assignee_id IS NULL"),
    postgresql_where=sa.text("assignee_id IS NULL"),
)
_UNACTIONED = sa.text("first_actioned_at IS NULL AND escalated_at IS NULL AND assignee_id IS NOT NULL")
sa.Index("ix_leads_unactioned", leads.c.assigned_at, sqlite_where=_UNACTIONED, postgresql_where=_UNACTIONED)
# The workspace's Today page. Open leads nobody has acted on yet: a few of an account's
# leads. The index leads with first_actioned_at (NULL throughout), so that SQLite, without
# statistics, prefers it for "first_actioned_at IS NULL AND account_id = ?" to the
# account's other indexes (two equalities against one).
sa.Index(
    "ix_leads_waiting",
    leads.c.first_actioned_at,
    leads.c.account_id,
    leads.c.assignee_id,
    leads.c.created_at,
    sqlite_where=sa.text("first_actioned_at IS NULL"),
    postgresql_where=sa.text("first_actioned_at IS NULL"),
)
# Leads per day and origin, and speed-to-lead, over a range of creation times: answered
# from the index alone.
sa.Index(
    "ix_leads_created_figures",
    leads.c.account_id,
    leads.c.created_at,
    leads.c.assignee_id,
    leads.c.origin,
    leads.c.first_actioned_at,
)
# Where an account's new leads are delivered as ADF XML (core/crm): by email to an
# address, or by an HTTP(S) POST to a URL (checked as webhook endpoints are).
crm_targets = sa.Table(
    "crm_targets",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    _account_fk(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),  # email, http
    sa.Column("address", sa.Text, nullable=False),  # the email address or the URL
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index(None, "account_id", "created_at"),
)

# The delivery log: one row per lead and target, made when the lead is opened. `batch_id`
# groups the rows of one `leads.service.opened` call: one job per target walks them.
crm_deliveries = sa.Table(
    "crm_deliveries",
    metadata,
    # Counted, not random: the rows of a batch are made by one INSERT ... SELECT.
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("target_id", "crm_targets.id"),
    _account_fk(),
    _owned_by("lead_id", "leads.id"),
    sa.Column("batch_id", sa.Uuid, nullable=False),
    # pending, sending, delivered, failed, unknown, skipped; queued: handed to the email
    # outbox (`email_id`), whose row then tells how the sending went.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("response_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("email_id", sa.Uuid, sa.ForeignKey("emails.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_attempt_at", sa.DateTime, nullable=True),
    sa.Column("delivered_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("lead_id", "target_id"),  # at most once per lead and target
    sa.Index(None, "target_id", "batch_id", "status"),
    sa.Index(None, "account_id", "created_at"),
    **NEVER_REUSED,
)
