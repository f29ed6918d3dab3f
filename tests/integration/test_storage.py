"""Storage on both backends: migrations match the models, pragmas, identity under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from forecourt.core.customers import service
from forecourt.core.customers.schemas import CustomerFields
from forecourt.core.uploads import service as uploads
from forecourt.core.uploads.schemas import UploadRequest
from forecourt.db import bulk, migrate
from forecourt.db.engine import Database
from forecourt.db.models import tracked_customers
from forecourt.kit.dates import utcnow
from forecourt.kit.ids import new_ids
from tests.conftest import Tenant, run_jobs


def test_migrated_schema_matches_the_models(db: Database, database_url: str) -> None:
    migrate.check(database_url)  # raises when `alembic check` finds a difference


def test_sqlite_runs_with_the_designed_pragmas(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000
        assert conn.exec_driver_sql("PRAGMA mmap_size").scalar_one() > 0


def test_concurrent_saves_of_one_vehicle_make_one_customer(db: Database, tenant: Tenant) -> None:
    record = service.validate(CustomerFields(rego="RACE01", state="VIC", external_id="x"), "au")
    ids: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def save() -> None:
        try:
            start.wait()
            with db.write() as conn:
                ids.append(str(service.save_many(conn, tenant.account.id, "au", [record]).ids[0]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(set(ids)) == 1
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(tracked_customers)) == 1


def test_a_failed_write_leaves_nothing_behind(db: Database, tenant: Tenant) -> None:
    record = service.validate(CustomerFields(vin="1N4AL11D16N337720"), "au")

    with pytest.raises(RuntimeError), db.write() as conn:
        service.save_many(conn, tenant.account.id, "au", [record])
        raise RuntimeError("crash after the insert, before the commit")

    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(tracked_customers)) == 0


def test_a_bulk_insert_breaking_a_unique_index_fails_alone(db: Database, tenant: Tenant) -> None:
    """The bulk path (COPY on PostgreSQL) raises IntegrityError like an INSERT, and a
    savepoint around it keeps the transaction: what save_many's retry relies on."""

    def one_customer() -> dict[str, Sequence[Any] | bulk.Same]:
        now = utcnow()
        return {
            "id": new_ids(1),
            "account_id": bulk.Same(tenant.account.id),
            "region": bulk.Same("au"),
            "vin": ["1N4AL11D16N337720"],
            "additional_fields": bulk.Same({}),
            "created_at": bulk.Same(now),
            "last_updated": bulk.Same(now),
        }

    with db.write() as conn:
        bulk.insert_columns(conn, tracked_customers, one_customer())
        with pytest.raises(IntegrityError), conn.begin_nested():
            bulk.insert_columns(conn, tracked_customers, one_customer())
        assert conn.scalar(sa.select(sa.func.count()).select_from(tracked_customers)) == 1
    with db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(tracked_customers)) == 1


def test_a_big_upload_leaves_postgresql_with_fresh_statistics(db: Database, tenant: Tenant) -> None:
    """So that matching right after a big upload probes the indexes instead of scanning."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite's indexes are ordered to need no statistics")
    rows = [msgspec.Raw(b'{"rego": "P%05d", "state": "VIC"}' % i) for i in range(service.STATISTICS_AFTER)]
    with db.write() as conn:
        uploads.create(conn, tenant.account.id, "au", UploadRequest(customers=rows), chunk_rows=5000)
    run_jobs(db)
    with db.read() as conn:
        analyzed = conn.scalar(
            sa.text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'tracked_customers'")
        )
    assert analyzed is not None


def test_an_inventory_import_leaves_the_planner_statistics_and_visibility(
    db: Database, tenant: Tenant
) -> None:
    """So that a search on fresh stock uses its selective index, and a count its index alone."""
    from forecourt.cli.inventory import fill_demo

    # Statistics outlive the tables' rows: start from none (SQLite) or count the runs (PostgreSQL).
    stat = (
        "SELECT stat FROM sqlite_stat1 WHERE tbl = 'inventory_vehicles'"
        if db.is_sqlite
        else "SELECT vacuum_count + analyze_count FROM pg_stat_user_tables"
        " WHERE relname = 'inventory_vehicles'"
    )
    with db.write() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat1")
        before = conn.scalar(sa.text(stat)) if not db.is_sqlite else None

    fill_demo(db, tenant.account.id, 50, seed=3)

    with db.read() as conn:
        after = conn.scalar(sa.text(stat))
    if db.is_sqlite:
        assert str(after).startswith("50 ")  # counted on the 50 vehicles just imported
    else:
        assert after == (before or 0) + 2  # one VACUUM and one ANALYZE


def test_a_database_error_does_not_carry_the_values_it_was_given(db: Database, tenant: Tenant) -> None:
    """Errors are logged; the values bound to the statement are people's data."""
    from forecourt.db.models import accounts as accounts_table

    secret_name = "Jane Private-Person jane@example.com"
    with pytest.raises(IntegrityError) as raised, db.write() as conn:
        conn.execute(
            sa.insert(accounts_table).values(
                id=tenant.account.id, name=secret_name, region="au", cm_id=1, created_at=utcnow()
            )
        )

    assert "accounts" in str(raised.value)
    assert secret_name not in str(raised.value)
