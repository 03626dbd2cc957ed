"""The unified, durable job queue of Marketdesk.

Revision ID: 20260201_0000
Revises: 20260115_1908
Create Date: 2026-02-01 00:00:00

- ``vinted_jobs`` becomes ``marketplace_jobs`` (renamed, the rows stay) and gains
  ``marketplace`` (``'vinted'`` for the existing rows), ``batch_id``, ``idempotency_key``,
  ``cancel_requested`` (false), ``attempts`` (0), ``run_at`` (the row's ``created_at``),
  the lease (``lease_owner``, ``lease_until``), ``duration_ms`` and ``updated_at``, check
  constraints on status, marketplace and priority, and the queue's indexes, among them a
  partial unique index on ``idempotency_key`` over the active jobs. A legacy job left
  ``running`` gets a lease that has already expired, so that crash recovery takes it over.
- ``marketplace_batches`` and ``marketplace_tasks`` are created.
- ``marketplace_job_stats`` gains ``total_duration_ms`` (``round(avg_duration_ms *
  total_jobs)``, 0 without an average) and ``updated_at``.
- ``products`` gains ``currency`` ('EUR'), ``quantity`` (1), a unique ``sku``, ``photos``
  (``[]``) and checks that price and quantity are not negative.

Every step runs on every seller's schema. Rows the new constraints would reject, in any
seller's schema, make the upgrade stop with a :class:`app.db.MigrationError` naming them,
before anything is changed. On PostgreSQL the renamed table's id sequence is renamed too.
The downgrade refuses while any seller has jobs of another marketplace than Vinted; otherwise it returns to the
20260115_1908 shape with every job, product and stats row kept (the columns and tables
that shape has no place for, such as batches, task steps, SKUs and photos, are dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from app.db import MigrationError, migration_schemas
from app.db.base import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "20260201_0000"
down_revision: str | Sequence[str] | None = "20260115_1908"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARKETPLACES = ("vinted", "ebay", "etsy")
JOB_STATUSES = ("pending", "running", "paused", "completed", "failed", "cancelled", "expired")
ACTIVE_JOB_STATUSES = ("pending", "running", "paused")
BATCH_STATUSES = ("pending", "running", "completed", "partially_failed", "failed", "cancelled")
TASK_STATUSES = ("running", "completed", "failed")


def _in(column: str, values: Sequence[str]) -> str:
    """``column IN ('a', 'b')`` as written in the models' check constraints."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


MARKETPLACE_CHECK = _in("marketplace", MARKETPLACES)
JOB_STATUS_CHECK = _in("status", JOB_STATUSES)
ACTIVE_JOB_WHERE = _in("status", ACTIVE_JOB_STATUSES)
PRIORITY_CHECK = "priority BETWEEN 1 AND 4"

# name -> columns of the job queue's plain indexes
JOB_INDEXES: dict[str, list[str]] = {
    "ix_marketplace_jobs_claim": ["status", "priority", "id"],
    "ix_marketplace_jobs_product": ["product_id", "marketplace"],
    "ix_marketplace_jobs_batch": ["batch_id"],
}
IDEMPOTENCY_INDEX = "uq_marketplace_jobs_active_idempotency_key"

# The server defaults of the legacy tables; the models set these values in Python.
JOB_SERVER_DEFAULTS: dict[str, tuple[sa.types.TypeEngine[Any], str]] = {
    "status": (sa.String(20), "'pending'"),
    "priority": (sa.Integer(), "3"),
    "retry_count": (sa.Integer(), "0"),
    "max_retries": (sa.Integer(), "3"),
}
STATS_SERVER_DEFAULTS: dict[str, tuple[sa.types.TypeEngine[Any], str]] = {
    "total_jobs": (sa.Integer(), "0"),
    "success_count": (sa.Integer(), "0"),
    "failure_count": (sa.Integer(), "0"),
}


def _new_job_columns() -> list[sa.Column[Any]]:
    """The columns ``marketplace_jobs`` adds to ``vinted_jobs``, nullable until filled."""
    return [
        sa.Column("marketplace", sa.String(20), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=True),
        sa.Column("run_at", UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
    ]


# ------------------------------------------------------------------------------------
# upgrade
# ------------------------------------------------------------------------------------
def upgrade() -> None:
    """Bring every seller's tables to the unified job queue.

    Every seller's rows are checked before any seller's tables are changed.
    """
    s = migration_schemas.current()
    problems = [p for schema in s.tenants for p in _legacy_row_problems(op.get_bind(), schema)]
    if problems:
        raise MigrationError(
            f"Cannot upgrade to {revision}: fix these rows first, nothing was changed: "
            + "; ".join(problems)
        )
    for schema in s.tenants:
        _upgrade_tenant(schema, s.public)


def _upgrade_tenant(tenant: str | None, public: str | None) -> None:
    _upgrade_products(tenant)
    _create_batches(tenant, public)
    _upgrade_jobs(tenant, public)
    _create_tasks(tenant)
    _upgrade_stats(tenant)


def _legacy_row_problems(bind: Connection, tenant: str | None) -> list[str]:
    """The legacy rows of one seller that break a constraint this revision adds."""
    jobs = sa.table(
        "vinted_jobs", sa.column("id"), sa.column("status"), sa.column("priority"), schema=tenant
    )
    products = sa.table("products", sa.column("id"), sa.column("price"), schema=tenant)
    qualified_jobs = migration_schemas.qualify(tenant, "vinted_jobs")
    problems: list[str] = []
    for what, query in (
        (
            f"{qualified_jobs} with a status outside {JOB_STATUSES}",
            sa.select(jobs.c.id).where(
                sa.or_(jobs.c.status.is_(None), jobs.c.status.not_in(JOB_STATUSES))
            ),
        ),
        (
            f"{qualified_jobs} with a priority outside 1..4",
            sa.select(jobs.c.id).where(sa.not_(jobs.c.priority.between(1, 4))),
        ),
        (
            f"{migration_schemas.qualify(tenant, 'products')} with a negative price",
            sa.select(products.c.id).where(products.c.price < 0),
        ),
    ):
        ids = bind.execute(query.order_by(query.selected_columns[0]).limit(21)).scalars().all()
        if ids:
            shown = ", ".join(str(i) for i in ids[:20]) + (", ..." if len(ids) > 20 else "")
            problems.append(f"{what} (ids {shown})")
    return problems


def _upgrade_products(tenant: str | None) -> None:
    with op.batch_alter_table("products", schema=tenant) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(3), nullable=True))
        batch_op.add_column(sa.Column("quantity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sku", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("photos", sa.JSON(), nullable=True))
    products = sa.table(
        "products",
        sa.column("currency", sa.String(3)),
        sa.column("quantity", sa.Integer()),
        sa.column("photos", sa.JSON()),
        schema=tenant,
    )
    op.execute(products.update().values(currency="EUR", quantity=1, photos=[]))
    with op.batch_alter_table("products", schema=tenant) as batch_op:
        batch_op.alter_column("currency", existing_type=sa.String(3), nullable=False)
        batch_op.alter_column("quantity", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("photos", existing_type=sa.JSON(), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_products_sku"), ["sku"])
        batch_op.create_check_constraint(op.f("ck_products_price_not_negative"), "price >= 0")
        batch_op.create_check_constraint(op.f("ck_products_quantity_not_negative"), "quantity >= 0")


def _create_batches(tenant: str | None, public: str | None) -> None:
    op.create_table(
        "marketplace_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marketplace", sa.String(20), nullable=False),
        sa.Column("action_type_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("completed_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("cancelled_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_batches")),
        sa.CheckConstraint(MARKETPLACE_CHECK, name=op.f("ck_marketplace_batches_marketplace")),
        sa.CheckConstraint(
            _in("status", BATCH_STATUSES), name=op.f("ck_marketplace_batches_status")
        ),
        sa.ForeignKeyConstraint(
            ["action_type_id"],
            [_qualified(public, "marketplace_action_types", "id")],
            name=op.f("fk_marketplace_batches_action_type_id_marketplace_action_types"),
        ),
        schema=tenant,
    )


def _upgrade_jobs(tenant: str | None, public: str | None) -> None:
    op.rename_table("vinted_jobs", "marketplace_jobs", schema=tenant)
    migration_schemas.rename_id_sequence("marketplace_jobs", tenant)
    with op.batch_alter_table("marketplace_jobs", schema=tenant) as batch_op:
        for column in _new_job_columns():
            batch_op.add_column(column)

    jobs = sa.table(
        "marketplace_jobs",
        sa.column("status", sa.String(20)),
        sa.column("marketplace", sa.String(20)),
        sa.column("cancel_requested", sa.Boolean()),
        sa.column("attempts", sa.Integer()),
        sa.column("run_at"),
        sa.column("lease_until"),
        sa.column("started_at"),
        sa.column("created_at"),
        schema=tenant,
    )
    op.execute(
        jobs.update().values(
            marketplace="vinted",
            cancel_requested=False,
            attempts=0,
            run_at=jobs.c.created_at,
        )
    )
    # A legacy job stuck in "running" (its worker died) gets an expired lease.
    op.execute(
        jobs.update()
        .where(jobs.c.status == "running")
        .values(lease_until=sa.func.coalesce(jobs.c.started_at, jobs.c.created_at))
    )

    with op.batch_alter_table("marketplace_jobs", schema=tenant) as batch_op:
        batch_op.alter_column("marketplace", existing_type=sa.String(20), nullable=False)
        batch_op.alter_column("cancel_requested", existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column("attempts", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("run_at", existing_type=UTCDateTime(), nullable=False)
        for name, (type_, default) in JOB_SERVER_DEFAULTS.items():
            batch_op.alter_column(
                name,
                existing_type=type_,
                existing_nullable=False,
                existing_server_default=sa.text(default),
                server_default=None,
            )
        batch_op.create_check_constraint(op.f("ck_marketplace_jobs_status"), JOB_STATUS_CHECK)
        batch_op.create_check_constraint(op.f("ck_marketplace_jobs_marketplace"), MARKETPLACE_CHECK)
        batch_op.create_check_constraint(op.f("ck_marketplace_jobs_priority"), PRIORITY_CHECK)
        batch_op.drop_constraint(op.f("pk_vinted_jobs"), type_="primary")
        batch_op.create_primary_key(op.f("pk_marketplace_jobs"), ["id"])
        batch_op.drop_constraint(
            op.f("fk_vinted_jobs_action_type_id_marketplace_action_types"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            op.f("fk_marketplace_jobs_action_type_id_marketplace_action_types"),
            "marketplace_action_types",
            ["action_type_id"],
            ["id"],
            referent_schema=public,
        )
        batch_op.drop_constraint(op.f("fk_vinted_jobs_product_id_products"), type_="foreignkey")
        batch_op.create_foreign_key(
            op.f("fk_marketplace_jobs_product_id_products"),
            "products",
            ["product_id"],
            ["id"],
            referent_schema=tenant,
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            op.f("fk_marketplace_jobs_batch_id_marketplace_batches"),
            "marketplace_batches",
            ["batch_id"],
            ["id"],
            referent_schema=tenant,
            ondelete="SET NULL",
        )

    for name, columns in JOB_INDEXES.items():
        op.create_index(op.f(name), "marketplace_jobs", columns, schema=tenant)
    op.create_index(
        op.f(IDEMPOTENCY_INDEX),
        "marketplace_jobs",
        ["idempotency_key"],
        unique=True,
        schema=tenant,
        sqlite_where=sa.text(ACTIVE_JOB_WHERE),
        postgresql_where=sa.text(ACTIVE_JOB_WHERE),
    )


def _create_tasks(tenant: str | None) -> None:
    op.create_table(
        "marketplace_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("result_data", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_tasks")),
        sa.UniqueConstraint("job_id", "name", name=op.f("uq_marketplace_tasks_job_id_name")),
        sa.CheckConstraint(_in("status", TASK_STATUSES), name=op.f("ck_marketplace_tasks_status")),
        sa.ForeignKeyConstraint(
            ["job_id"],
            [_qualified(tenant, "marketplace_jobs", "id")],
            name=op.f("fk_marketplace_tasks_job_id_marketplace_jobs"),
            ondelete="CASCADE",
        ),
        schema=tenant,
    )


def _upgrade_stats(tenant: str | None) -> None:
    with op.batch_alter_table("marketplace_job_stats", schema=tenant) as batch_op:
        batch_op.add_column(sa.Column("total_duration_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
    stats = sa.table(
        "marketplace_job_stats",
        sa.column("total_jobs", sa.Integer()),
        sa.column("avg_duration_ms", sa.Float()),
        sa.column("total_duration_ms", sa.BigInteger()),
        schema=tenant,
    )
    op.execute(
        stats.update().values(
            total_duration_ms=sa.cast(
                sa.func.round(sa.func.coalesce(stats.c.avg_duration_ms, 0) * stats.c.total_jobs),
                sa.BigInteger(),
            )
        )
    )
    with op.batch_alter_table("marketplace_job_stats", schema=tenant) as batch_op:
        batch_op.alter_column("total_duration_ms", existing_type=sa.BigInteger(), nullable=False)
        for name, (type_, default) in STATS_SERVER_DEFAULTS.items():
            batch_op.alter_column(
                name,
                existing_type=type_,
                existing_nullable=False,
                existing_server_default=sa.text(default),
                server_default=None,
            )


# ------------------------------------------------------------------------------------
# downgrade
# ------------------------------------------------------------------------------------
def downgrade() -> None:
    """Return to the 20260115_1908 shape; refuses while any seller has non-Vinted jobs."""
    s = migration_schemas.current()
    for schema in s.tenants:
        _refuse_other_marketplaces(op.get_bind(), schema)
    for schema in s.tenants:
        _downgrade_tenant(schema, s.public)


def _downgrade_tenant(tenant: str | None, public: str | None) -> None:
    _downgrade_stats(tenant)
    op.drop_table("marketplace_tasks", schema=tenant)
    _downgrade_jobs(tenant, public)
    op.drop_table("marketplace_batches", schema=tenant)
    _downgrade_products(tenant)


def _refuse_other_marketplaces(bind: Connection, tenant: str | None) -> None:
    jobs = sa.table("marketplace_jobs", sa.column("marketplace", sa.String(20)), schema=tenant)
    others = bind.execute(
        sa.select(jobs.c.marketplace, sa.func.count())
        .where(jobs.c.marketplace != "vinted")
        .group_by(jobs.c.marketplace)
        .order_by(jobs.c.marketplace)
    ).all()
    if others:
        listed = ", ".join(f"{count} {marketplace}" for marketplace, count in others)
        raise MigrationError(
            f"Cannot downgrade below {revision}: "
            f"{migration_schemas.qualify(tenant, 'marketplace_jobs')} holds jobs of other "
            f"marketplaces than Vinted ({listed}); the Vinted-only vinted_jobs table would "
            "run them as Vinted jobs. Delete them first or stay at this revision"
        )


def _downgrade_stats(tenant: str | None) -> None:
    with op.batch_alter_table("marketplace_job_stats", schema=tenant) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("total_duration_ms")
        for name, (type_, default) in STATS_SERVER_DEFAULTS.items():
            batch_op.alter_column(
                name, existing_type=type_, existing_nullable=False, server_default=sa.text(default)
            )


def _downgrade_jobs(tenant: str | None, public: str | None) -> None:
    op.drop_index(op.f(IDEMPOTENCY_INDEX), table_name="marketplace_jobs", schema=tenant)
    for name in reversed(JOB_INDEXES):
        op.drop_index(op.f(name), table_name="marketplace_jobs", schema=tenant)

    with op.batch_alter_table("marketplace_jobs", schema=tenant) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_marketplace_jobs_batch_id_marketplace_batches"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            op.f("fk_marketplace_jobs_product_id_products"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            op.f("fk_vinted_jobs_product_id_products"),
            "products",
            ["product_id"],
            ["id"],
            referent_schema=tenant,
        )
        batch_op.drop_constraint(
            op.f("fk_marketplace_jobs_action_type_id_marketplace_action_types"),
            type_="foreignkey",
        )
        batch_op.create_foreign_key(
            op.f("fk_vinted_jobs_action_type_id_marketplace_action_types"),
            "marketplace_action_types",
            ["action_type_id"],
            ["id"],
            referent_schema=public,
        )
        batch_op.drop_constraint(op.f("pk_marketplace_jobs"), type_="primary")
        batch_op.create_primary_key(op.f("pk_vinted_jobs"), ["id"])
        batch_op.drop_constraint(op.f("ck_marketplace_jobs_priority"), type_="check")
        batch_op.drop_constraint(op.f("ck_marketplace_jobs_marketplace"), type_="check")
        batch_op.drop_constraint(op.f("ck_marketplace_jobs_status"), type_="check")
        for name, (type_, default) in JOB_SERVER_DEFAULTS.items():
            batch_op.alter_column(
                name, existing_type=type_, existing_nullable=False, server_default=sa.text(default)
            )
        for column in reversed(_new_job_columns()):
            batch_op.drop_column(column.name)
    op.rename_table("marketplace_jobs", "vinted_jobs", schema=tenant)
    migration_schemas.rename_id_sequence("vinted_jobs", tenant)


def _downgrade_products(tenant: str | None) -> None:
    with op.batch_alter_table("products", schema=tenant) as batch_op:
        batch_op.drop_constraint(op.f("ck_products_quantity_not_negative"), type_="check")
        batch_op.drop_constraint(op.f("ck_products_price_not_negative"), type_="check")
        batch_op.drop_constraint(op.f("uq_products_sku"), type_="unique")
        for name in ("photos", "sku", "quantity", "currency"):
            batch_op.drop_column(name)


def _qualified(schema: str | None, table: str, column: str) -> str:
    """``schema.table.column`` for a foreign key target (no prefix for the default schema)."""
    return f"{schema}.{table}.{column}" if schema else f"{table}.{column}"
