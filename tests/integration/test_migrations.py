"""The Alembic migrations, on real SQLite files.

Legacy Vinted data survives the whole chain (and comes back on the way down), the head
schema is exactly what the models describe, downgrades refuse instead of losing data,
``alembic upgrade head`` works from the repository root, and every step can be applied,
reverted and applied again (the "stairway" test).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.schema import BLANK_SCHEMA, SchemaConst

from app.db import ENV_DB_URL, PUBLIC, TENANT, Base, Database, MigrationError
from app.models import MarketplaceActionType, MarketplaceJob, MarketplaceTask, Product

REPO_ROOT = Path(__file__).resolve().parents[2]
BASELINE = "20260101_0000"
UNIFY = "20260109_0200"
EBAY = "20260109_0300"
ETSY = "20260109_0400"
STATS_RENAME = "20260115_1908"
HEAD = "20260201_0000"
REVISIONS = (BASELINE, UNIFY, EBAY, ETSY, STATS_RENAME, HEAD)

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
@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "marketdesk.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{db_path}")
    try:
        yield database
    finally:
        database.close()


def execute(db: Database, *statements: str) -> None:
    """Run raw SQL in one transaction (foreign keys enforced, as the program runs)."""
    with db.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def table_rows(db: Database, table: str) -> list[Row]:
    """Every row of ``table`` as stored (raw SQLite values), by id."""
    with db.engine.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")
        return [dict(row) for row in result.mappings()]


def seed_legacy(db: Database) -> None:
    execute(db, *LEGACY_ROWS)


def plain_metadata() -> sa.MetaData:
    """The models' metadata with the ``public``/``tenant`` placeholders mapped to no schema.

    Alembic's autogenerate matches tables by ``(schema, name)`` and does not apply a
    connection's ``schema_translate_map``, so the models' ``tenant.products`` would never
    match the file's ``products``; this copy is what the translate map makes of the models
    on SQLite. (Copying also brings back the foreign keys from ``tenant`` tables to
    ``public.marketplace_action_types``, which SQLite's DDL compiler leaves out of
    ``create_all`` as "cross-schema".)
    """

    def no_schema(
        table: sa.Table, to_schema: str | None, constraint: Any, referred: str | None
    ) -> str | SchemaConst:
        return BLANK_SCHEMA

    target = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(target, schema=None, referred_schema_fn=no_schema)  # type: ignore[arg-type]
    return target


def schema_snapshot(path: Path) -> dict[str, Row]:
    """Everything SQLite knows about each table, in a form independent of column order."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        inspector = sa.inspect(engine)
        snapshot: dict[str, Row] = {}
        for table in inspector.get_table_names():
            if table == "alembic_version":
                continue
            pk = inspector.get_pk_constraint(table)
            snapshot[table] = {
                "columns": {
                    c["name"]: (str(c["type"]), c["nullable"], c["default"])
                    for c in inspector.get_columns(table)
                },
                "primary_key": (pk["name"], tuple(pk["constrained_columns"])),
                "foreign_keys": sorted(
                    (
                        fk["name"],
                        tuple(fk["constrained_columns"]),
                        fk["referred_table"],
                        tuple(fk["referred_columns"]),
                        tuple(sorted(fk["options"].items())),
                    )
                    for fk in inspector.get_foreign_keys(table)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"]))
                    for u in inspector.get_unique_constraints(table)
                ),
                "checks": sorted(
                    (c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table)
                ),
                "indexes": sorted(
                    (
                        ix["name"],
                        tuple(ix["column_names"]),
                        bool(ix["unique"]),
                        str(ix.get("dialect_options", {}).get("sqlite_where")),
                    )
                    for ix in inspector.get_indexes(table)
                ),
            }
        return snapshot
    finally:
        engine.dispose()


def data_snapshot(db: Database) -> dict[str, list[Row]]:
    """Every row of every table; action types without their (migration-time) created_at."""
    with db.engine.connect() as conn:
        tables = [
            name
            for (name,) in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'alembic_version'"
            )
        ]
    snapshot = {}
    for table in tables:
        rows = table_rows(db, table)
        if table.endswith("action_types"):
            for row in rows:
                del row["created_at"]
        snapshot[table] = rows
    return snapshot


def foreign_key_targets(db: Database, table: str) -> set[tuple[str, str, str]]:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"PRAGMA foreign_key_list({table})").mappings().all()
    return {(row["from"], row["table"], row["to"]) for row in rows}


def action_type_id(db: Database, marketplace: str, code: str) -> int:
    with db.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT id FROM marketplace_action_types WHERE marketplace = ? AND code = ?",
            (marketplace, code),
        ).scalar_one()
    assert isinstance(found, int)
    return found


def revisions_base_to_head(db: Database) -> list[Script]:
    scripts = ScriptDirectory.from_config(db.alembic_config())
    return list(reversed(list(scripts.walk_revisions("base", "heads"))))


# ---------------------------------------------------------------------------------------
# (a) legacy data through the whole chain and back
# ---------------------------------------------------------------------------------------
def test_chain_is_linear_with_the_contracted_revision_ids(db: Database) -> None:
    scripts = revisions_base_to_head(db)
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
    with db.engine.connect() as conn:
        listing = conn.exec_driver_sql(
            "SELECT marketplace, code, name FROM marketplace_action_types"
        ).all()
    assert len(listing) == 17

    products = table_rows(db, "products")
    assert len(products) == len(before["products"])
    for old, new in zip(before["products"], products, strict=True):
        assert {key: new[key] for key in old} == old
        assert (new["currency"], new["quantity"], new["sku"]) == ("EUR", 1, None)
        assert json.loads(new["photos"]) == []

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

    db.downgrade(BASELINE)
    assert db.current_revision() == BASELINE
    assert {table: table_rows(db, table) for table in LEGACY_TABLES} == before
    with db.engine.connect() as conn:
        tables = {
            name
            for (name,) in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
    assert tables == {"alembic_version", *LEGACY_TABLES}
    assert foreign_key_targets(db, "vinted_jobs") == {
        ("action_type_id", "action_types", "id"),
        ("product_id", "products", "id"),
    }


# ---------------------------------------------------------------------------------------
# (b) the head schema is the models' schema
# ---------------------------------------------------------------------------------------
def test_head_matches_the_models(db: Database, db_path: Path, tmp_path: Path) -> None:
    db.migrate("head")
    models = plain_metadata()

    with db.engine.connect() as conn:
        translated = conn.execution_options(schema_translate_map={TENANT: None, PUBLIC: None})
        context = MigrationContext.configure(
            translated, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, models) == []

    # compare_metadata does not look at CHECK constraints, at the WHERE of a partial
    # index, at primary or foreign key names, nor at column defaults left in the file by
    # the legacy tables in every case; compare what SQLite reports for the migrated file
    # with a file made by create_all from the same models.
    reference = tmp_path / "reference.sqlite3"
    engine = sa.create_engine(f"sqlite:///{reference}")
    try:
        models.create_all(engine)
    finally:
        engine.dispose()
    migrated, expected = schema_snapshot(db_path), schema_snapshot(reference)
    assert migrated.keys() == expected.keys()
    for table, shape in expected.items():
        assert migrated[table] == shape, table

    with db.engine.connect() as conn:
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
def test_downgrade_refuses_while_ebay_jobs_exist(db: Database, db_path: Path) -> None:
    db.migrate(BASELINE)
    seed_legacy(db)
    db.migrate("head")
    execute(
        db,
        "INSERT INTO marketplace_jobs (marketplace, action_type_id, status, cancel_requested,"
        " priority, retry_count, max_retries, attempts, run_at, created_at)"
        f" VALUES ('ebay', {action_type_id(db, 'ebay', 'publish')}, 'pending', 0, 3, 0, 3, 0,"
        " '2026-02-02 10:00:00.000000', '2026-02-02 10:00:00.000000')",
    )
    schema, data = schema_snapshot(db_path), data_snapshot(db)

    with pytest.raises(MigrationError, match=r"jobs of other marketplaces than Vinted \(1 ebay\)"):
        db.downgrade(BASELINE)

    assert db.current_revision() == HEAD
    assert schema_snapshot(db_path) == schema
    assert data_snapshot(db) == data

    execute(db, "DELETE FROM marketplace_jobs WHERE marketplace = 'ebay'")
    db.downgrade(BASELINE)
    assert db.current_revision() == BASELINE
    assert len(table_rows(db, "vinted_jobs")) == 5


def test_downgrade_refuses_while_ebay_stats_exist(db: Database, db_path: Path) -> None:
    db.migrate("head")
    execute(
        db,
        "INSERT INTO marketplace_job_stats (action_type_id, marketplace, date, total_jobs,"
        " success_count, failure_count, total_duration_ms, created_at)"
        f" VALUES ({action_type_id(db, 'ebay', 'sync')}, 'ebay', '2026-02-02', 1, 1, 0, 900,"
        " '2026-02-02 10:00:00.000000')",
    )
    schema = schema_snapshot(db_path)

    # 20260201_0000 steps down without complaint, then 20260115_1908 refuses: the whole
    # downgrade is one transaction, so the file is left at head, untouched.
    with pytest.raises(MigrationError, match=r"stats rows of other marketplaces .*1 of ebay"):
        db.downgrade(BASELINE)
    assert db.current_revision() == HEAD
    assert schema_snapshot(db_path) == schema


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

    refused = rf"1 row\(s\) of {table} still refer to {marketplace} action types"
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
    with pytest.raises(MigrationError, match=r"table products still holds 2 row\(s\)"):
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


def test_migration_refuses_to_leave_dangling_foreign_keys(db: Database, db_path: Path) -> None:
    db.migrate(BASELINE)
    seed_legacy(db)
    # written behind the program's back, with SQLite's foreign keys off (the default)
    raw = sqlite3.connect(db_path)
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


# ---------------------------------------------------------------------------------------
# (d) the command line, from the repository root
# ---------------------------------------------------------------------------------------
def test_alembic_command_line_upgrades_the_configured_database(tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite3"
    env = {**os.environ, ENV_DB_URL: f"sqlite:///{path}"}

    def alembic(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "alembic", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    upgraded = alembic("upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    current = alembic("current")
    assert current.returncode == 0, current.stderr
    assert f"{HEAD} (head)" in current.stdout
    # autogenerate finds nothing to do: the head schema is the models' schema
    checked = alembic("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout

    database = Database(f"sqlite:///{path}")
    try:
        assert database.current_revision() == HEAD
        assert len(table_rows(database, "marketplace_action_types")) == 17
    finally:
        database.close()

    offline = alembic("upgrade", "head", "--sql")
    assert offline.returncode != 0
    assert "Offline migrations (alembic --sql) are not supported" in offline.stderr


# ---------------------------------------------------------------------------------------
# (e) the stairway: every step up, down and up again
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("with_data", [False, True], ids=["empty", "legacy-data"])
def test_stairway(db: Database, db_path: Path, with_data: bool) -> None:
    steps = revisions_base_to_head(db)
    if with_data:
        # the baseline itself refuses to be dropped while it holds data: start above it
        db.migrate(BASELINE)
        seed_legacy(db)
        steps = steps[1:]

    for step in steps:
        down_to = step.down_revision or "base"
        assert isinstance(down_to, str)
        schema_before, data_before = schema_snapshot(db_path), data_snapshot(db)

        db.migrate(step.revision)
        assert db.current_revision() == step.revision
        schema_up, data_up = schema_snapshot(db_path), data_snapshot(db)

        db.downgrade(down_to)
        assert db.current_revision() == (None if down_to == "base" else down_to)
        assert schema_snapshot(db_path) == schema_before, f"{step.revision} down: schema"
        assert data_snapshot(db) == data_before, f"{step.revision} down: data"

        db.migrate(step.revision)
        assert schema_snapshot(db_path) == schema_up, f"{step.revision} up again: schema"
        assert data_snapshot(db) == data_up, f"{step.revision} up again: data"

    assert db.current_revision() == HEAD
    if with_data:
        assert len(table_rows(db, "marketplace_jobs")) == 5
        assert {row["marketplace"] for row in table_rows(db, "marketplace_job_stats")} == {"vinted"}
