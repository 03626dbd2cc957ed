"""The Alembic migrations, on real SQLite files and on PostgreSQL (a schema per seller).

Legacy Vinted data survives the whole chain (and comes back on the way down), the head
schema is exactly what the models describe, downgrades refuse instead of losing data,
``alembic upgrade head`` works from the repository root, and every step can be applied,
reverted and applied again (the "stairway" test). The behavioural tests run on both
backends (``db`` is parametrized); on PostgreSQL they use seller 1's schema ``user_1``.
The PostgreSQL-only tests cover several sellers: every ``user_*`` schema is migrated and
keeps its own rows, and :meth:`Database.add_seller` creates a schema at head.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.schema import BLANK_SCHEMA, SchemaConst

from app.db import (
    ENV_DB_URL,
    PUBLIC,
    TENANT,
    Base,
    ConfigurationError,
    Database,
    MigrationError,
)
from app.marketplace import MarketplaceJobService
from app.models import MarketplaceActionType, MarketplaceJob, MarketplaceTask, Product
from tests.support.pg import PostgresCluster

REPO_ROOT = Path(__file__).resolve().parents[2]
BASELINE = "20260101_0000"
UNIFY = "20260109_0200"
EBAY = "20260109_0300"
ETSY = "20260109_0400"
STATS_RENAME = "20260115_1908"
JOB_QUEUE = "20260201_0000"
SELLERS = "20260202_0000"
LISTINGS = "20260301_0000"
SALES = "20260401_0000"
VOIDED = "20260501_0000"
CHANGES = "20260601_0000"
HEAD = CHANGES
REVISIONS = (
    BASELINE,
    UNIFY,
    EBAY,
    ETSY,
    STATS_RENAME,
    JOB_QUEUE,
    SELLERS,
    LISTINGS,
    SALES,
    VOIDED,
    CHANGES,
)
BACKENDS = ("sqlite", "postgres")
# On PostgreSQL the single-seller tests work in seller 1's schema.
SELLER = "user_1"
SELLER_TABLES = ("products", "vinted_jobs", "vinted_job_stats")

# (marketplace, code) -> (name, priority, rate_limit_ms, max_retries, timeout_seconds)
EXPECTED_ACTION_TYPES: dict[tuple[str, str], tuple[str, int, int, int, int]] = {
    ("vinted", "message"): ("Respond to message", 1, 1000, 3, 30),
    ("vinted", "orders"): ("Fetch orders", 3, 1500, 3, 60),
    ("vinted", "publish"): ("Publish product", 3, 2500, 3, 120),
    ("vinted", "update"): ("Update product", 3, 2000, 3, 60),
    ("vinted", "delete"): ("Delete product", 4, 2000, 3, 30),
    ("vinted", "sync"): ("Sync products", 4, 1500, 3, 300),
    ("vinted", "link_product"): ("Link Product", 3, 500, 3, 120),
    **{
        (marketplace, code): (name, priority, rate, 3, timeout)
        for marketplace in ("ebay", "etsy")
        for code, name, priority, rate, timeout in (
            ("publish", "Publish product", 3, 1000, 60),
            ("update", "Update product", 3, 1000, 60),
            ("delete", "Delete product", 3, 1000, 60),
            ("sync", "Sync products", 2, 2000, 300),
            ("sync_orders", "Sync orders", 2, 2000, 300),
        )
    },
}

LEGACY_TABLES = ("action_types", "products", "vinted_jobs", "vinted_job_stats")
LEGACY_ROWS = (
    """INSERT INTO products (id, title, description, price, brand, size, condition,
                             created_at, updated_at)
       VALUES (1, 'Levi''s 501 jeans', 'Blue, barely worn', 25.00, 'Levi''s', 'W32',
               'very_good', '2026-01-02 09:00:00.000000', '2026-01-03 10:00:00.000000'),
              (2, 'Wool scarf', NULL, 12.50, NULL, NULL, NULL,
               '2026-01-02 09:05:00.000000', NULL)""",
    # publish (3) done, message (1) waiting, update (4) failed, sync (6) left running
    # by a crashed worker, link_product (7) relying on the legacy server defaults.
    """INSERT INTO vinted_jobs (id, action_type_id, product_id, status, priority, input_data,
                               result_data, error_message, retry_count, max_retries,
                               started_at, completed_at, expires_at, created_at)
       VALUES (1, 3, 1, 'completed', 3, '{"title": "Levi''s 501"}', '{"vinted_id": 4242}',
               NULL, 0, 3, '2026-01-02 09:10:01.000000', '2026-01-02 09:10:09.500000', NULL,
               '2026-01-02 09:10:00.000000'),
              (2, 1, NULL, 'pending', 1, '{"conversation": 7}', NULL, NULL, 0, 3, NULL, NULL,
               '2026-01-09 09:00:00.000000', '2026-01-02 09:20:00.000000'),
              (3, 4, 2, 'failed', 3, NULL, NULL, 'HTTP 429 Too Many Requests', 3, 3,
               '2026-01-02 09:30:01.000000', '2026-01-02 09:30:02.000000', NULL,
               '2026-01-02 09:30:00.000000'),
              (4, 6, NULL, 'running', 4, NULL, NULL, NULL, 1, 3,
               '2026-01-02 09:40:01.000000', NULL, NULL, '2026-01-02 09:40:00.000000')""",
    """INSERT INTO vinted_jobs (id, action_type_id, product_id, created_at)
       VALUES (5, 7, 2, '2026-01-02 09:50:00.000000')""",
    """INSERT INTO vinted_job_stats (id, action_type_id, date, total_jobs, success_count,
                                    failure_count, avg_duration_ms, created_at)
       VALUES (1, 3, '2026-01-02', 10, 8, 2, 1234.56, '2026-01-02 09:10:10.000000'),
              (2, 3, '2026-01-03', 3, 3, 0, 2000.0, '2026-01-03 08:00:00.000000'),
              (3, 4, '2026-01-02', 1, 0, 1, NULL, '2026-01-02 09:30:03.000000')""",
    """INSERT INTO vinted_job_stats (id, action_type_id, date, created_at)
       VALUES (4, 1, '2026-01-02', '2026-01-02 09:20:01.000000')""",
)
# stats id -> round(avg_duration_ms * total_jobs), 0 without an average
EXPECTED_TOTAL_DURATION = {1: 12346, 2: 6000, 3: 0, 4: 0}

Row = dict[str, Any]


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def _open(url: str) -> Iterator[Database]:
    database = Database(url)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database: a SQLite file, or a PostgreSQL database of the private server."""
    if request.param == "postgres":
        url = str(request.getfixturevalue("pg_url"))
    else:
        url = f"sqlite:///{tmp_path / 'marketdesk.sqlite3'}"
    yield from _open(url)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    yield from _open(f"sqlite:///{tmp_path / 'marketdesk.sqlite3'}")


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    yield from _open(pg_url)


def sqlite_path(db: Database) -> Path:
    assert db.url.database is not None
    return Path(db.url.database)


@contextmanager
def connect(db: Database, schema: str = SELLER) -> Iterator[Connection]:
    """One transaction in which a seller's tables answer to their bare names.

    On PostgreSQL the search path is the seller's schema, then ``public`` and the legacy
    ``vinted`` schema, so the same SQL runs on both backends.
    """
    with db.engine.begin() as conn:
        if db.is_postgres:
            conn.exec_driver_sql(f"SET LOCAL search_path TO {schema}, public, vinted")
        yield conn


def execute(db: Database, *statements: str, schema: str = SELLER) -> None:
    """Run raw SQL in one transaction (foreign keys enforced, as the program runs)."""
    with connect(db, schema) as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def table_rows(db: Database, table: str, schema: str = SELLER) -> list[Row]:
    """Every row of ``table`` as stored (raw driver values), by id."""
    with connect(db, schema) as conn:
        result = conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")
        return [dict(row) for row in result.mappings()]


def as_json(value: Any) -> Any:
    """A JSON column's value: SQLite hands back the text, psycopg the decoded value."""
    return json.loads(value) if isinstance(value, str) else value


def seed_legacy(db: Database, schema: str = SELLER) -> None:
    """The legacy rows, written as the legacy system did (its sequences moved past them)."""
    execute(db, *LEGACY_ROWS, schema=schema)
    if db.is_postgres:
        execute(
            db,
            *(
                f"SELECT setval(pg_get_serial_sequence('{schema}.{table}', 'id'),"
                f" (SELECT MAX(id) FROM {schema}.{table}))"
                for table in SELLER_TABLES
            ),
            schema=schema,
        )


def pg_schemas(inspector: sa.Inspector) -> list[str]:
    return sorted(
        name
        for name in inspector.get_schema_names()
        if name != "information_schema" and not name.startswith("pg_")
    )


def schemas_of(db: Database) -> list[str | None]:
    """The schemas holding Marketdesk's tables: the file's, or every user schema on PG."""
    if not db.is_postgres:
        return [None]
    return list(pg_schemas(sa.inspect(db.engine)))


def table_names(db: Database, *, qualified: bool = False) -> set[str]:
    """Every table, by bare name (``schema.name`` on PostgreSQL when ``qualified``)."""
    inspector = sa.inspect(db.engine)
    return {
        f"{schema}.{name}" if qualified and schema else name
        for schema in schemas_of(db)
        for name in inspector.get_table_names(schema=schema)
    }


def models_metadata(tenant: str | None = None) -> sa.MetaData:
    """The models' metadata with ``tenant`` mapped to ``tenant`` and ``public`` to no schema.

    Alembic's autogenerate matches tables by ``(schema, name)`` and does not apply a
    connection's ``schema_translate_map``, so the models' ``tenant.products`` would never
    match the file's ``products``; this copy is what the translate map makes of the models
    (``public`` is the default schema on both backends). On SQLite, copying also brings
    back the foreign keys from ``tenant`` tables to ``public.marketplace_action_types``,
    which SQLite's DDL compiler leaves out of ``create_all`` as "cross-schema".
    """

    def referred(
        table: sa.Table, to_schema: str | None, constraint: Any, referred: str | None
    ) -> str | SchemaConst:
        return tenant if referred == TENANT and tenant else BLANK_SCHEMA

    target = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        schema = tenant if table.schema == TENANT else None
        table.to_metadata(target, schema=schema, referred_schema_fn=referred)  # type: ignore[arg-type]
    return target


def schema_snapshot(db: Database) -> dict[str, Any]:
    """Everything the database reports about each table, independent of column order.

    Keys are table names on SQLite, ``schema.table`` on PostgreSQL (plus each schema's
    sequences).
    """
    inspector = sa.inspect(db.engine)
    snapshot: dict[str, Any] = {}
    for schema in schemas_of(db):
        sequences = sorted(inspector.get_sequence_names(schema)) if schema else []
        if sequences:  # (a seller's schema outlives its tables: the downgrade to base keeps it)
            snapshot[f"{schema}.<sequences>"] = sequences
        for table in inspector.get_table_names(schema=schema):
            if table == "alembic_version":
                continue
            pk = inspector.get_pk_constraint(table, schema=schema)
            snapshot[f"{schema}.{table}" if schema else table] = {
                "columns": {
                    c["name"]: (str(c["type"]), c["nullable"], c["default"])
                    for c in inspector.get_columns(table, schema=schema)
                },
                "primary_key": (pk["name"], tuple(pk["constrained_columns"])),
                "foreign_keys": sorted(
                    (
                        fk["name"],
                        tuple(fk["constrained_columns"]),
                        str(fk["referred_schema"]),
                        fk["referred_table"],
                        tuple(fk["referred_columns"]),
                        tuple(sorted(fk["options"].items())),
                    )
                    for fk in inspector.get_foreign_keys(table, schema=schema)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"]))
                    for u in inspector.get_unique_constraints(table, schema=schema)
                ),
                "checks": sorted(
                    (c["name"], c["sqltext"])
                    for c in inspector.get_check_constraints(table, schema=schema)
                ),
                "indexes": sorted(
                    (
                        ix["name"],
                        tuple(str(c) for c in ix["column_names"]),
                        bool(ix["unique"]),
                        str(
                            sorted(
                                (key, str(value))
                                for key, value in ix.get("dialect_options", {}).items()
                            )
                        ),
                    )
                    for ix in inspector.get_indexes(table, schema=schema)
                ),
            }
    return snapshot


# Tables whose created_at is the time of the migration that filled them.
MIGRATION_TIME_TABLES = ("action_types", "marketplace_action_types", "sellers")


def data_snapshot(db: Database) -> dict[str, list[Row]]:
    """Every row of every table, but the migration-time created_at of the shared rows."""
    inspector = sa.inspect(db.engine)
    snapshot = {}
    with db.engine.connect() as conn:
        for schema in schemas_of(db):
            for table in inspector.get_table_names(schema=schema):
                if table == "alembic_version":
                    continue
                name = f"{schema}.{table}" if schema else table
                result = conn.exec_driver_sql(f"SELECT * FROM {name} ORDER BY id")
                rows = [dict(row) for row in result.mappings()]
                if table in MIGRATION_TIME_TABLES:
                    for row in rows:
                        del row["created_at"]
                snapshot[name] = rows
    return snapshot


def foreign_key_targets(
    db: Database, table: str, schema: str = SELLER
) -> set[tuple[str, str, str]]:
    """(column, referred table, referred column) of each foreign key of ``table``."""
    fks = sa.inspect(db.engine).get_foreign_keys(table, schema=schema if db.is_postgres else None)
    return {
        (fk["constrained_columns"][0], fk["referred_table"], fk["referred_columns"][0])
        for fk in fks
    }


def action_type_id(db: Database, marketplace: str, code: str) -> int:
    with connect(db) as conn:
        found = conn.execute(
            sa.text("SELECT id FROM marketplace_action_types WHERE marketplace = :m AND code = :c"),
            {"m": marketplace, "c": code},
        ).scalar_one()
    assert isinstance(found, int)
    return found


def revisions_base_to_head(db: Database) -> list[Script]:
    scripts = ScriptDirectory.from_config(db.alembic_config())
    return list(reversed(list(scripts.walk_revisions("base", "heads"))))


def alembic_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m alembic ARGS`` from the repository root, on the database at ``url``."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=REPO_ROOT,
        env={**os.environ, ENV_DB_URL: url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def create_schemas(db: Database, *schemas: str) -> None:
    with db.engine.begin() as conn:
        for schema in schemas:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")


# ---------------------------------------------------------------------------------------
# (a) legacy data through the whole chain and back
# ---------------------------------------------------------------------------------------
def test_chain_is_linear_with_the_contracted_revision_ids(sqlite_db: Database) -> None:
    scripts = revisions_base_to_head(sqlite_db)
    assert [s.revision for s in scripts] == list(REVISIONS)
    assert [s.down_revision for s in scripts] == [None, *REVISIONS[:-1]]
    for script in scripts:
        assert script.module.__doc__, f"{script.revision} has no docstring"
        assert Path(script.path).name.startswith(f"{script.revision}_")


def test_legacy_vinted_data_survives_upgrade_and_downgrade(db: Database) -> None:
    db.migrate(BASELINE)
    seed_legacy(db)
    before = {table: table_rows(db, table) for table in LEGACY_TABLES}
    assert len(before["action_types"]) == 7

    db.migrate("head")
    assert db.current_revision() == HEAD
    assert db.sellers() == [1]

    # Action types: the Vinted rows kept their ids (jobs and stats still point at the
    # same action), and eBay and Etsy were added: 17 rows with the documented limits.
    action_types = table_rows(db, "marketplace_action_types")
    by_id = {row["id"]: row for row in action_types}
    for old in before["action_types"]:
        new = by_id[old["id"]]
        assert new["marketplace"] == "vinted"
        assert {key: new[key] for key in old} == old
    assert len(action_types) == 17
    assert {
        (row["marketplace"], row["code"]): (
            row["name"],
            row["priority"],
            row["rate_limit_ms"],
            row["max_retries"],
            row["timeout_seconds"],
        )
        for row in action_types
    } == EXPECTED_ACTION_TYPES
    with connect(db) as conn:
        listing = conn.exec_driver_sql(
            "SELECT marketplace, code, name FROM marketplace_action_types"
        ).all()
    assert len(listing) == 17

    products = table_rows(db, "products")
    assert len(products) == len(before["products"])
    for old, new in zip(before["products"], products, strict=True):
        assert {key: new[key] for key in old} == old
        assert (new["currency"], new["quantity"], new["sku"]) == ("EUR", 1, None)
        assert as_json(new["photos"]) == []

    jobs = table_rows(db, "marketplace_jobs")
    assert len(jobs) == len(before["vinted_jobs"])
    for old, new in zip(before["vinted_jobs"], jobs, strict=True):
        assert {key: new[key] for key in old} == old
        assert new["marketplace"] == "vinted"
        assert new["run_at"] == old["created_at"]
        assert (new["attempts"], new["cancel_requested"]) == (0, 0)
        assert (new["batch_id"], new["idempotency_key"], new["lease_owner"]) == (None,) * 3
        assert (new["duration_ms"], new["updated_at"]) == (None, None)
        # the job a crashed worker left running holds a lease that has already expired
        expected_lease = old["started_at"] if old["status"] == "running" else None
        assert new["lease_until"] == expected_lease
    assert jobs[4]["status"] == "pending"  # the legacy server defaults did their work
    assert (jobs[4]["priority"], jobs[4]["retry_count"], jobs[4]["max_retries"]) == (3, 0, 3)

    stats = table_rows(db, "marketplace_job_stats")
    assert len(stats) == len(before["vinted_job_stats"])
    for old, new in zip(before["vinted_job_stats"], stats, strict=True):
        assert {key: new[key] for key in old} == old
        assert new["marketplace"] == "vinted"
        assert new["total_duration_ms"] == EXPECTED_TOTAL_DURATION[new["id"]]
        assert new["updated_at"] is None

    assert foreign_key_targets(db, "marketplace_jobs") == {
        ("action_type_id", "marketplace_action_types", "id"),
        ("product_id", "products", "id"),
        ("batch_id", "marketplace_batches", "id"),
    }
    assert foreign_key_targets(db, "marketplace_job_stats") == {
        ("action_type_id", "marketplace_action_types", "id")
    }
    if not db.is_postgres:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"

    # The models read the migrated rows as the program will.
    with db.session(readonly=True) as session:
        job = session.get(MarketplaceJob, 1)
        assert job is not None
        assert job.input_data == {"title": "Levi's 501"}
        assert job.result_data == {"vinted_id": 4242}
        assert job.created_at == datetime(2026, 1, 2, 9, 10, tzinfo=UTC)
        assert job.run_at == job.created_at
        assert job.cancel_requested is False
        publish = session.get(MarketplaceActionType, job.action_type_id)
        assert publish is not None
        assert (publish.marketplace, publish.code) == ("vinted", "publish")
        product = session.get(Product, 1)
        assert product is not None
        assert product.price == Decimal("25.00")
        assert product.photos == []
    # the sequences carry on after the legacy ids (PostgreSQL copies them explicitly)
    with db.session() as session, session.begin():
        added = Product(title="New", price=Decimal("1.00"))
        session.add(added)
        session.flush()
        assert added.id == 3

    execute(db, "DELETE FROM products WHERE id = 3")
    db.downgrade(BASELINE)
    assert db.current_revision() == BASELINE
    assert {table: table_rows(db, table) for table in LEGACY_TABLES} == before
    assert table_names(db) == {"alembic_version", *LEGACY_TABLES}
    if db.is_postgres:
        assert table_names(db, qualified=True) == {
            "public.alembic_version",
            "vinted.action_types",
            *(f"{SELLER}.{table}" for table in SELLER_TABLES),
        }
    assert foreign_key_targets(db, "vinted_jobs") == {
        ("action_type_id", "action_types", "id"),
        ("product_id", "products", "id"),
    }


# ---------------------------------------------------------------------------------------
# (b) the head schema is the models' schema
# ---------------------------------------------------------------------------------------
def test_head_matches_the_models(
    db: Database, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db.migrate("head")
    tenant = SELLER if db.is_postgres else None
    models = models_metadata(tenant)

    with db.engine.connect() as conn:
        if db.is_postgres:
            compared = {None, tenant}
            opts: dict[str, Any] = {
                "include_schemas": True,
                "include_name": lambda name, type_, parents: (
                    name in compared if type_ == "schema" else name != "alembic_version"
                ),
                "version_table_schema": "public",
            }
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True, **opts}
            )
        else:
            translated = conn.execution_options(schema_translate_map={TENANT: None, PUBLIC: None})
            context = MigrationContext.configure(
                translated, opts={"compare_type": True, "compare_server_default": True}
            )
        assert compare_metadata(context, models) == []

    # compare_metadata does not look at CHECK constraints, at the WHERE of a partial
    # index, at primary or foreign key names, nor at column defaults left in the file by
    # the legacy tables in every case; compare what the database reports for the migrated
    # schema with one made by create_all from the same models.
    if db.is_postgres:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        reference = Database(cluster.create_database(f"reference_{uuid.uuid4().hex[:12]}"))
        try:
            with reference.engine.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {SELLER}")
                Base.metadata.create_all(
                    conn.execution_options(schema_translate_map=reference.schema_map(1))
                )
            expected = schema_snapshot(reference)
        finally:
            reference.close()
    else:
        reference = Database(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
        try:
            models.create_all(reference.engine)
            expected = schema_snapshot(reference)
        finally:
            reference.close()
    migrated = schema_snapshot(db)
    assert migrated.keys() == expected.keys()
    for table, shape in expected.items():
        assert migrated[table] == shape, table

    with connect(db) as conn:
        if db.is_postgres:
            index_sql = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'user_1'"
                " AND indexname = 'uq_marketplace_jobs_active_idempotency_key'"
            ).scalar_one()
            assert "WHERE" in index_sql
            assert all(s in index_sql for s in ("'pending'", "'running'", "'paused'"))
        else:
            index_sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = ?",
                ("uq_marketplace_jobs_active_idempotency_key",),
            ).scalar_one()
            assert index_sql.endswith("WHERE status IN ('pending', 'running', 'paused')")


def test_models_write_to_the_migrated_schema(db: Database) -> None:
    db.migrate("head")
    ebay_publish = action_type_id(db, "ebay", "publish")
    with db.session() as session:
        product = Product(title="Vintage lamp", price=Decimal("40.00"), sku="LAMP-1")
        session.add(product)
        session.flush()
        job = MarketplaceJob(
            marketplace="ebay",
            action_type_id=ebay_publish,
            product_id=product.id,
            idempotency_key="publish:ebay:LAMP-1",
        )
        session.add(job)
        session.flush()
        session.add(MarketplaceTask(job_id=job.id, position=1, name="create_offer"))
        session.commit()

    # the partial unique index: one active job per idempotency key
    with pytest.raises(sa.exc.IntegrityError), db.session() as session:
        session.add(
            MarketplaceJob(
                marketplace="ebay",
                action_type_id=ebay_publish,
                idempotency_key="publish:ebay:LAMP-1",
            )
        )
        session.commit()
    # check constraints are in force
    with pytest.raises(sa.exc.IntegrityError):
        execute(db, "UPDATE marketplace_jobs SET status = 'lost'")
    with pytest.raises(sa.exc.IntegrityError):
        execute(db, "UPDATE products SET price = -1")
    # deleting a job deletes its steps; deleting a product keeps its jobs
    execute(db, "DELETE FROM products")
    assert table_rows(db, "marketplace_jobs")[0]["product_id"] is None
    execute(db, "DELETE FROM marketplace_jobs")
    assert table_rows(db, "marketplace_tasks") == []


# ---------------------------------------------------------------------------------------
# (c) downgrades and upgrades refuse rather than lose or corrupt data
# ---------------------------------------------------------------------------------------
def test_downgrade_refuses_while_ebay_jobs_exist(db: Database) -> None:
    db.migrate(BASELINE)
    seed_legacy(db)
    db.migrate("head")
    execute(
        db,
        "INSERT INTO marketplace_jobs (marketplace, action_type_id, status, cancel_requested,"
        " priority, retry_count, max_retries, attempts, run_at, created_at)"
        f" VALUES ('ebay', {action_type_id(db, 'ebay', 'publish')}, 'pending', FALSE, 3, 0, 3,"
        " 0, '2026-02-02 10:00:00.000000', '2026-02-02 10:00:00.000000')",
    )
    schema, data = schema_snapshot(db), data_snapshot(db)

    with pytest.raises(MigrationError, match=r"jobs of other marketplaces than Vinted \(1 ebay\)"):
        db.downgrade(BASELINE)

    assert db.current_revision() == HEAD
    assert schema_snapshot(db) == schema
    assert data_snapshot(db) == data

    execute(db, "DELETE FROM marketplace_jobs WHERE marketplace = 'ebay'")
    db.downgrade(BASELINE)
    assert db.current_revision() == BASELINE
    assert len(table_rows(db, "vinted_jobs")) == 5


def test_downgrade_refuses_while_ebay_stats_exist(db: Database) -> None:
    db.migrate("head")
    execute(
        db,
        "INSERT INTO marketplace_job_stats (action_type_id, marketplace, date, total_jobs,"
        " success_count, failure_count, total_duration_ms, created_at)"
        f" VALUES ({action_type_id(db, 'ebay', 'sync')}, 'ebay', '2026-02-02', 1, 1, 0, 900,"
        " '2026-02-02 10:00:00.000000')",
    )
    schema = schema_snapshot(db)

    # 20260202_0000 and 20260201_0000 step down without complaint, then 20260115_1908
    # refuses: the whole downgrade is one transaction, so the database is left at head,
    # untouched.
    with pytest.raises(MigrationError, match=r"stats rows of other marketplaces .*1 of ebay"):
        db.downgrade(BASELINE)
    assert db.current_revision() == HEAD
    assert schema_snapshot(db) == schema


@pytest.mark.parametrize(
    ("marketplace", "table", "down_to"),
    [
        ("ebay", "vinted_jobs", UNIFY),
        ("ebay", "vinted_job_stats", UNIFY),
        ("etsy", "vinted_jobs", EBAY),
        ("etsy", "vinted_job_stats", EBAY),
    ],
)
def test_action_types_downgrade_refuses_while_referenced(
    db: Database, marketplace: str, table: str, down_to: str
) -> None:
    db.migrate(ETSY)
    publish = action_type_id(db, marketplace, "publish")
    if table == "vinted_jobs":
        execute(
            db,
            f"INSERT INTO vinted_jobs (action_type_id, created_at)"
            f" VALUES ({publish}, '2026-01-10 10:00:00.000000')",
        )
    else:
        execute(
            db,
            "INSERT INTO vinted_job_stats (action_type_id, date, created_at)"
            f" VALUES ({publish}, '2026-01-10', '2026-01-10 10:00:00.000000')",
        )

    refused = rf"1 row\(s\) of ({SELLER}\.)?{table} still refer to {marketplace} action types"
    with pytest.raises(MigrationError, match=refused):
        db.downgrade(down_to)
    assert db.current_revision() == ETSY
    assert len(table_rows(db, "marketplace_action_types")) == 17


def test_unify_downgrade_refuses_other_marketplaces_action_types(db: Database) -> None:
    db.migrate(ETSY)
    execute(
        db,
        "INSERT INTO marketplace_action_types (marketplace, code, name, priority, rate_limit_ms,"
        " max_retries, timeout_seconds, created_at)"
        " VALUES ('ebay', 'relist', 'Relist product', 3, 1000, 3, 60, '2026-01-10 10:00:00')",
    )
    with pytest.raises(MigrationError, match=r"other marketplaces than Vinted \(ebay/relist\)"):
        db.downgrade(BASELINE)
    assert db.current_revision() == ETSY
    assert len(table_rows(db, "marketplace_action_types")) == 18


def test_baseline_downgrade_refuses_to_drop_seller_data(db: Database) -> None:
    db.migrate(BASELINE)
    seed_legacy(db)
    with pytest.raises(
        MigrationError, match=rf"table ({SELLER}\.)?products still holds 2 row\(s\)"
    ):
        db.downgrade("base")
    assert db.current_revision() == BASELINE


def test_upgrade_refuses_legacy_rows_the_new_constraints_reject(db: Database) -> None:
    db.migrate(BASELINE)
    seed_legacy(db)
    execute(
        db,
        "UPDATE vinted_jobs SET status = 'queued' WHERE id = 2",
        "UPDATE vinted_jobs SET priority = 9 WHERE id = 3",
        "UPDATE products SET price = -5 WHERE id = 2",
    )
    with pytest.raises(MigrationError) as raised:
        db.migrate("head")
    message = str(raised.value)
    assert "vinted_jobs with a status outside" in message
    assert "vinted_jobs with a priority outside 1..4 (ids 3)" in message
    assert "products with a negative price (ids 2)" in message
    # nothing was changed, not even the revisions before the refusing one
    assert db.current_revision() == BASELINE
    assert len(table_rows(db, "action_types")) == 7


def test_migration_refuses_to_leave_dangling_foreign_keys(sqlite_db: Database) -> None:
    db = sqlite_db
    db.migrate(BASELINE)
    seed_legacy(db)
    # written behind the program's back, with SQLite's foreign keys off (the default)
    raw = sqlite3.connect(sqlite_path(db))
    try:
        with raw:
            raw.execute(
                "INSERT INTO vinted_jobs (id, action_type_id, created_at)"
                " VALUES (99, 42, '2026-01-05 10:00:00.000000')"
            )
    finally:
        raw.close()

    with pytest.raises(MigrationError, match=r"1 foreign key violation.*marketplace_jobs row 99"):
        db.migrate("head")
    assert db.current_revision() == BASELINE


def test_sqlite_holds_one_seller(sqlite_db: Database) -> None:
    sqlite_db.migrate("head")
    assert sqlite_db.sellers() == [1]
    assert table_rows(sqlite_db, "sellers")[0]["name"] == "Seller 1"
    with pytest.raises(ConfigurationError, match="One SQLite file holds one seller"):
        sqlite_db.add_seller("Second shop")
    assert sqlite_db.sellers() == [1]


# ---------------------------------------------------------------------------------------
# (d) the command line, from the repository root
# ---------------------------------------------------------------------------------------
def test_alembic_command_line_upgrades_the_configured_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"

    upgraded = alembic_cli(url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    current = alembic_cli(url, "current")
    assert current.returncode == 0, current.stderr
    assert f"{HEAD} (head)" in current.stdout
    # autogenerate finds nothing to do: the head schema is the models' schema
    checked = alembic_cli(url, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout

    database = Database(url)
    try:
        assert database.current_revision() == HEAD
        assert len(table_rows(database, "marketplace_action_types")) == 17
    finally:
        database.close()

    offline = alembic_cli(url, "upgrade", "head", "--sql")
    assert offline.returncode != 0
    assert "Offline migrations (alembic --sql) are not supported" in offline.stderr


# ---------------------------------------------------------------------------------------
# (e) the stairway: every step up, down and up again
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("with_data", [False, True], ids=["empty", "legacy-data"])
def test_stairway(db: Database, with_data: bool) -> None:
    steps = revisions_base_to_head(db)
    if with_data:
        # the baseline itself refuses to be dropped while it holds data: start above it
        db.migrate(BASELINE)
        seed_legacy(db)
        steps = steps[1:]

    for step in steps:
        down_to = step.down_revision or "base"
        assert isinstance(down_to, str)
        schema_before, data_before = schema_snapshot(db), data_snapshot(db)

        db.migrate(step.revision)
        assert db.current_revision() == step.revision
        schema_up, data_up = schema_snapshot(db), data_snapshot(db)

        db.downgrade(down_to)
        assert db.current_revision() == (None if down_to == "base" else down_to)
        assert schema_snapshot(db) == schema_before, f"{step.revision} down: schema"
        assert data_snapshot(db) == data_before, f"{step.revision} down: data"

        db.migrate(step.revision)
        assert schema_snapshot(db) == schema_up, f"{step.revision} up again: schema"
        assert data_snapshot(db) == data_up, f"{step.revision} up again: data"

    assert db.current_revision() == HEAD
    if with_data:
        assert len(table_rows(db, "marketplace_jobs")) == 5
        assert {row["marketplace"] for row in table_rows(db, "marketplace_job_stats")} == {"vinted"}


# ---------------------------------------------------------------------------------------
# (f) PostgreSQL: a schema per seller, one revision for all
# ---------------------------------------------------------------------------------------
# Seller 2's legacy data: seller 1's rows, told apart, and without job 5.
SELLER_2_CHANGES = (
    "UPDATE products SET title = title || ' (shop 2)'",
    "UPDATE vinted_jobs SET error_message = 'shop 2' WHERE id = 1",
    "DELETE FROM vinted_jobs WHERE id = 5",
    "UPDATE vinted_job_stats SET total_jobs = total_jobs + 100",
)


def seller_snapshot(db: Database, schema: str) -> dict[str, list[Row]]:
    """Every row of a seller's tables, by table (``marketplace_*`` under the legacy names)."""
    names = {table: table for table in SELLER_TABLES}
    if db.current_revision() not in (BASELINE, UNIFY, EBAY, ETSY):
        names = {
            "products": "products",
            "vinted_jobs": "marketplace_jobs",
            "vinted_job_stats": "marketplace_job_stats",
        }
    return {legacy: table_rows(db, table, schema) for legacy, table in names.items()}


def test_postgres_every_seller_schema_is_migrated_with_its_data(pg_db: Database) -> None:
    db = pg_db
    # two sellers' schemas exist before the first migration
    create_schemas(db, "user_1", "user_2")
    db.migrate(BASELINE)
    assert table_names(db, qualified=True) == {
        "public.alembic_version",
        "vinted.action_types",
        *(f"{schema}.{table}" for schema in ("user_1", "user_2") for table in SELLER_TABLES),
    }
    seed_legacy(db, "user_1")
    seed_legacy(db, "user_2")
    execute(db, *SELLER_2_CHANGES, schema="user_2")
    before = {schema: seller_snapshot(db, schema) for schema in ("user_1", "user_2")}
    assert before["user_1"] != before["user_2"]
    action_types_before = table_rows(db, "action_types")
    assert len(action_types_before) == 7

    db.migrate("head")
    assert db.current_revision() == HEAD
    assert db.sellers() == [1, 2]
    sellers = table_rows(db, "sellers")
    assert [(row["id"], row["name"]) for row in sellers] == [(1, "Seller 1"), (2, "Seller 2")]
    # the shared tables live in public, the legacy vinted schema is gone, the version
    # table is public's alone
    tables = table_names(db, qualified=True)
    assert {"public.alembic_version", "public.marketplace_action_types", "public.sellers"} <= tables
    assert not any(name.startswith("vinted.") for name in tables)
    assert "vinted" not in schemas_of(db)
    expected_tables = {
        "marketplace_accounts",
        "marketplace_batches",
        "marketplace_job_stats",
        "marketplace_jobs",
        "marketplace_listings",
        "marketplace_tasks",
        "orders",
        "products",
        "sales",
        "schedules",
    }
    for schema in ("user_1", "user_2"):
        assert {name.split(".", 1)[1] for name in tables if name.startswith(f"{schema}.")} == (
            expected_tables
        )

    for schema in ("user_1", "user_2"):
        after = seller_snapshot(db, schema)
        for table, old_rows in before[schema].items():
            new_rows = after[table]
            assert len(new_rows) == len(old_rows), (schema, table)
            for old, new in zip(old_rows, new_rows, strict=True):
                assert {key: new[key] for key in old} == old, (schema, table)
                if table != "products":
                    assert new["marketplace"] == "vinted"
        assert foreign_key_targets(db, "marketplace_jobs", schema) == {
            ("action_type_id", "marketplace_action_types", "id"),
            ("product_id", "products", "id"),
            ("batch_id", "marketplace_batches", "id"),
        }
    assert len(table_rows(db, "marketplace_jobs", "user_2")) == 4
    assert [row["total_jobs"] for row in table_rows(db, "marketplace_job_stats", "user_2")] == [
        110,
        103,
        101,
        100,
    ]
    # every foreign key of a seller points into the seller's own schema or into public
    with db.engine.connect() as conn:
        targets = conn.execute(
            sa.text(
                "SELECT DISTINCT n.nspname, r.nspname FROM pg_constraint c"
                " JOIN pg_class t ON t.oid = c.conrelid"
                " JOIN pg_namespace n ON n.oid = t.relnamespace"
                " JOIN pg_class f ON f.oid = c.confrelid"
                " JOIN pg_namespace r ON r.oid = f.relnamespace"
                " WHERE c.contype = 'f' AND n.nspname LIKE 'user%'"
            )
        ).all()
    assert set(targets) == {
        ("user_1", "user_1"),
        ("user_1", "public"),
        ("user_2", "user_2"),
        ("user_2", "public"),
    }

    # each seller's session sees its own rows
    for user_id, title in ((1, "Levi's 501 jeans"), (2, "Levi's 501 jeans (shop 2)")):
        with db.session(user_id, readonly=True) as session:
            product = session.get(Product, 1)
            assert product is not None
            assert product.title == title
            job = session.get(MarketplaceJob, 1)
            assert job is not None
            assert job.error_message == (None if user_id == 1 else "shop 2")

    db.downgrade(BASELINE)
    assert db.current_revision() == BASELINE
    for schema in ("user_1", "user_2"):
        assert seller_snapshot(db, schema) == before[schema]
    assert table_rows(db, "action_types") == action_types_before
    assert table_names(db, qualified=True) == {
        "public.alembic_version",
        "vinted.action_types",
        *(f"{schema}.{table}" for schema in ("user_1", "user_2") for table in SELLER_TABLES),
    }

    # and up again: the sellers are found from their schemas once more
    db.migrate("head")
    assert db.sellers() == [1, 2]
    for schema in ("user_1", "user_2"):
        assert len(table_rows(db, "products", schema)) == 2


def test_postgres_first_migration_creates_seller_1(pg_db: Database) -> None:
    pg_db.migrate("head")
    assert pg_db.sellers() == [1]
    assert "user_1" in schemas_of(pg_db)
    assert pg_db.current_revision() == HEAD


def test_postgres_refusal_in_one_seller_changes_no_seller(pg_db: Database) -> None:
    db = pg_db
    create_schemas(db, "user_1", "user_2")
    db.migrate(BASELINE)
    seed_legacy(db, "user_1")
    seed_legacy(db, "user_2")
    execute(db, "UPDATE vinted_jobs SET priority = 9 WHERE id = 3", schema="user_2")
    schema, data = schema_snapshot(db), data_snapshot(db)

    with pytest.raises(MigrationError, match=r"user_2\.vinted_jobs with a priority outside"):
        db.migrate("head")
    assert db.current_revision() == BASELINE
    assert schema_snapshot(db) == schema
    assert data_snapshot(db) == data

    execute(db, "UPDATE vinted_jobs SET priority = 3 WHERE id = 3", schema="user_2")
    db.migrate("head")
    # a downgrade refused by seller 2's data leaves seller 1 at head too
    execute(
        db,
        "INSERT INTO marketplace_job_stats (action_type_id, marketplace, date, total_jobs,"
        " success_count, failure_count, total_duration_ms, created_at)"
        f" VALUES ({action_type_id(db, 'etsy', 'sync')}, 'etsy', '2026-02-02', 1, 1, 0, 900,"
        " '2026-02-02 10:00:00.000000')",
        schema="user_2",
    )
    schema, data = schema_snapshot(db), data_snapshot(db)
    with pytest.raises(MigrationError, match=r"user_2\.marketplace_job_stats holds stats rows"):
        db.downgrade(BASELINE)
    assert db.current_revision() == HEAD
    assert schema_snapshot(db) == schema
    assert data_snapshot(db) == data


def structure(db: Database, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """A seller schema's tables as information_schema and pg_indexes describe them."""
    queries = {
        "columns": (
            "SELECT table_name, column_name, data_type, is_nullable, character_maximum_length,"
            " numeric_precision, numeric_scale, column_default"
            " FROM information_schema.columns WHERE table_schema = :schema"
        ),
        "constraints": (
            "SELECT table_name, constraint_name, constraint_type"
            " FROM information_schema.table_constraints"
            " WHERE table_schema = :schema AND constraint_type <> 'CHECK'"
        ),
        "checks": (
            "SELECT cc.constraint_name, cc.check_clause"
            " FROM information_schema.check_constraints cc"
            " WHERE cc.constraint_schema = :schema AND cc.constraint_name NOT LIKE '%_not_null'"
        ),
        "key_columns": (
            "SELECT table_name, constraint_name, column_name, ordinal_position"
            " FROM information_schema.key_column_usage WHERE table_schema = :schema"
        ),
        "references": (
            "SELECT rc.constraint_name, rc.unique_constraint_schema, rc.unique_constraint_name,"
            " rc.update_rule, rc.delete_rule FROM information_schema.referential_constraints rc"
            " WHERE rc.constraint_schema = :schema"
        ),
        "indexes": (
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = :schema"
        ),
        "sequences": (
            "SELECT sequence_name, data_type FROM information_schema.sequences"
            " WHERE sequence_schema = :schema"
        ),
    }
    described: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for what, query in queries.items():
            rows = conn.execute(sa.text(query), {"schema": schema}).all()
            described[what] = sorted(
                tuple(
                    (
                        "<schema>"
                        if value == schema
                        else value.replace(f"{schema}.", "<schema>.")
                        if isinstance(value, str)
                        else value
                    )
                    for value in row
                )
                for row in rows
            )
    # a schema that exists for the comparison to mean something
    assert described["columns"], schema
    # the seller schema is the only one named, apart from public
    assert not any(
        re.search(r"\buser_[0-9]", value)
        for rows in described.values()
        for row in rows
        for value in row
        if isinstance(value, str) and value != schema
    )
    return described


def test_postgres_add_seller_creates_its_schema_at_head(pg_db: Database) -> None:
    db = pg_db
    create_schemas(db, "user_1", "user_2")
    db.migrate(BASELINE)
    seed_legacy(db, "user_1")
    db.migrate("head")
    assert db.sellers() == [1, 2]

    assert db.add_seller("  Third shop ") == 3
    assert db.sellers() == [1, 2, 3]
    assert table_rows(db, "sellers")[-1]["name"] == "Third shop"
    assert db.current_revision() == HEAD

    # the new seller works through the models and the job service
    with db.session(user_id=3) as session, session.begin():
        product = Product(title="Teak chair", price=Decimal("80.00"), sku="CHAIR-1")
        session.add(product)
        session.flush()
        product_id = product.id
    job = MarketplaceJobService(db, user_id=3).create_job(marketplace="ebay", action_code="sync")
    assert job.marketplace == "ebay"
    assert (product_id, job.id) == (1, 1)
    assert [row["title"] for row in table_rows(db, "products", "user_3")] == ["Teak chair"]
    assert [row["marketplace"] for row in table_rows(db, "marketplace_jobs", "user_3")] == ["ebay"]
    assert len(table_rows(db, "marketplace_jobs", "user_1")) == 5
    assert table_rows(db, "marketplace_jobs", "user_2") == []

    # created at head by create_all, it has exactly the migrated schemas' structure,
    # down to the constraint, index and sequence names
    migrated, created = structure(db, "user_1"), structure(db, "user_3")
    assert migrated.keys() == created.keys()
    for what in migrated:
        assert created[what] == migrated[what], what
    assert structure(db, "user_2") == migrated

    # its data is guarded by the downgrades like everybody's
    with pytest.raises(MigrationError, match=r"user_3\.marketplace_jobs holds jobs .*\(1 ebay\)"):
        db.downgrade(BASELINE)
    assert db.sellers() == [1, 2, 3]
    execute(db, "DELETE FROM marketplace_jobs", schema="user_3")
    db.downgrade(JOB_QUEUE)
    db.downgrade(STATS_RENAME)
    assert len(table_rows(db, "products", "user_3")) == 1
    assert len(table_rows(db, "vinted_jobs", "user_1")) == 5
    db.migrate("head")
    assert db.sellers() == [1, 2, 3]
    assert db.add_seller("Fourth shop") == 4


def test_postgres_add_seller_refuses_below_head(pg_db: Database) -> None:
    db = pg_db
    with pytest.raises(MigrationError, match="at revision none, not at head"):
        db.add_seller("Early shop")
    db.migrate(JOB_QUEUE)
    with pytest.raises(MigrationError, match=rf"at revision {JOB_QUEUE}, not at head {HEAD}"):
        db.add_seller("Early shop")
    with pytest.raises(MigrationError, match="no sellers table"):
        db.sellers()
    assert schemas_of(db) == ["public", "user_1"]
    db.migrate("head")
    with pytest.raises(ValueError, match="1 to 100 characters"):
        db.add_seller(" ")
    assert db.add_seller("On time") == 2


def test_postgres_concurrent_migrations_wait_for_each_other(pg_url: str) -> None:
    # Several workers starting at once all migrate: the advisory lock lines them up, the
    # first one does the work and the others find the database at head.
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=REPO_ROOT,
            env={**os.environ, ENV_DB_URL: pg_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr

    database = Database(pg_url)
    try:
        assert database.current_revision() == HEAD
        assert database.sellers() == [1]
        assert len(table_rows(database, "marketplace_action_types")) == 17
    finally:
        database.close()


def test_postgres_alembic_command_line(pg_url: str) -> None:
    upgraded = alembic_cli(pg_url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    current = alembic_cli(pg_url, "current")
    assert current.returncode == 0, current.stderr
    assert f"{HEAD} (head)" in current.stdout
    # autogenerate, comparing public and the first seller's schema, finds nothing to do
    checked = alembic_cli(pg_url, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout

    database = Database(pg_url)
    try:
        assert database.current_revision() == HEAD
        assert database.sellers() == [1]
        assert len(table_rows(database, "marketplace_action_types")) == 17
        assert database.add_seller("Second shop") == 2
    finally:
        database.close()

    # both sellers step down and up again through the command line
    downgraded = alembic_cli(pg_url, "downgrade", BASELINE)
    assert downgraded.returncode == 0, downgraded.stderr
    upgraded = alembic_cli(pg_url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    database = Database(pg_url)
    try:
        assert database.sellers() == [1, 2]
        assert table_rows(database, "marketplace_jobs", "user_2") == []
    finally:
        database.close()


@pytest.mark.parametrize("table", ["orders", "marketplace_listings", "marketplace_accounts"])
def test_downgrade_refuses_while_listings_orders_or_accounts_exist(
    db: Database, table: str
) -> None:
    db.migrate("head")
    rows = {
        "orders": "INSERT INTO orders (marketplace, order_id, line_id, quantity, raw, created_at)"
        " VALUES ('ebay', '12-345', '1', 1, '{}', '2026-03-01 10:00:00.000000')",
        "marketplace_listings": "INSERT INTO marketplace_listings (marketplace, listing_id,"
        " state, data, created_at) VALUES ('etsy', '99', 'active', '{}',"
        " '2026-03-01 10:00:00.000000')",
        "marketplace_accounts": "INSERT INTO marketplace_accounts (marketplace, environment,"
        " state, defaults, created_at) VALUES ('ebay', 'sandbox', 'disconnected', '{}',"
        " '2026-03-01 10:00:00.000000')",
    }
    execute(db, rows[table])
    schema = schema_snapshot(db)
    with pytest.raises(MigrationError, match=rf"{table} holds 1 row"):
        db.downgrade(SELLERS)
    assert db.current_revision() == HEAD
    assert schema_snapshot(db) == schema
    execute(db, f"DELETE FROM {table}")
    db.downgrade(SELLERS)
    assert db.current_revision() == SELLERS
    assert table not in {name.rsplit(".", 1)[-1] for name in table_names(db, qualified=True)}


@pytest.mark.parametrize("table", ["sales", "schedules"])
def test_downgrade_refuses_while_sales_or_schedules_exist(db: Database, table: str) -> None:
    db.migrate("head")
    rows = {
        "sales": "INSERT INTO sales (marketplace, order_id, line_id, quantity, sold_at,"
        " detected_at, quantity_before, quantity_after, oversell, status, actions) VALUES"
        " ('etsy', '3000000001', '4000000002', 1, '2026-04-01 10:00:00.000000',"
        " '2026-04-01 10:05:00.000000', 1, 0, false, 'recorded', '[]')",
        "schedules": "INSERT INTO schedules (name, marketplace, action_code, interval_seconds,"
        " enabled, next_run_at, created_at) VALUES ('order_sync:ebay', 'ebay', 'sync_orders',"
        " 300, true, '2026-04-01 10:00:00.000000', '2026-04-01 10:00:00.000000')",
    }
    execute(db, rows[table])
    schema = schema_snapshot(db)
    with pytest.raises(MigrationError, match=rf"{table} holds 1 row"):
        db.downgrade(LISTINGS)
    assert db.current_revision() == HEAD
    assert schema_snapshot(db) == schema
    execute(db, f"DELETE FROM {table}")
    db.downgrade(LISTINGS)
    assert db.current_revision() == LISTINGS
    assert table not in {name.rsplit(".", 1)[-1] for name in table_names(db, qualified=True)}
    with pytest.raises(sa.exc.IntegrityError):  # back at head: the checks are in force
        db.migrate("head")
        execute(db, rows[table].replace("'recorded'", "'lost'").replace("300", "59"))


def sale_row(order: str, status: str) -> str:
    return (
        "INSERT INTO sales (marketplace, order_id, line_id, quantity, sold_at, detected_at,"
        " quantity_before, quantity_after, oversell, status, message, actions) VALUES"
        f" ('ebay', '{order}', '1', 1, '2026-05-01 10:00:00.000000',"
        " '2026-05-01 10:05:00.000000', 1, 0, false,"
        f" '{status}', 'eBay order {order} was cancelled', '[]')"
    )


def test_voided_sales_upgrade_and_downgrade(db: Database) -> None:
    db.migrate(SALES)
    execute(db, sale_row("12-1", "delisting"))
    with pytest.raises(sa.exc.IntegrityError):  # the older check refuses 'voided'
        execute(db, sale_row("12-2", "voided"))
    before = table_rows(db, "sales")

    db.migrate(VOIDED)
    assert db.current_revision() == VOIDED
    assert table_rows(db, "sales") == before  # the upgrade changes no row
    execute(db, sale_row("12-2", "voided"), "UPDATE sales SET status = 'voided' WHERE id = 1")
    with pytest.raises(sa.exc.IntegrityError):  # still a checked list
        execute(db, sale_row("12-3", "lost"))
    (check,) = [
        c["sqltext"]
        for c in sa.inspect(db.engine).get_check_constraints(
            "sales", schema=SELLER if db.is_postgres else None
        )
        if c["name"] == "ck_sales_status"
    ]
    assert "voided" in check

    db.downgrade(SALES)
    assert db.current_revision() == SALES
    rows = table_rows(db, "sales")
    assert [(row["order_id"], row["status"]) for row in rows] == [
        ("12-1", "done"),
        ("12-2", "done"),
    ]
    assert all(row["message"].endswith("was cancelled") for row in rows)  # the words stay
    with pytest.raises(sa.exc.IntegrityError):
        execute(db, sale_row("12-4", "voided"))

    db.migrate("head")  # and up again
    execute(db, sale_row("12-4", "voided"))
    assert [row["status"] for row in table_rows(db, "sales")] == ["done", "done", "voided"]


def test_the_jobs_changed_index_comes_and_goes(db: Database) -> None:
    def indexes() -> set[str]:
        schema = SELLER if db.is_postgres else None
        found = sa.inspect(db.engine).get_indexes("marketplace_jobs", schema=schema)
        return {index["name"] for index in found if index["name"]}

    db.migrate(VOIDED)
    assert "ix_marketplace_jobs_updated" not in indexes()
    db.migrate(CHANGES)
    assert "ix_marketplace_jobs_updated" in indexes()
    db.downgrade(VOIDED)
    assert "ix_marketplace_jobs_updated" not in indexes()
