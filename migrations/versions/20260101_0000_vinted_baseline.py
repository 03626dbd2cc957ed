"""Vinted-only baseline: the schema the legacy job system left behind.

Revision ID: 20260101_0000
Revises:
Create Date: 2026-01-01 00:00:00

``action_types`` (the legacy ``vinted`` schema, created here on PostgreSQL) seeded with
the seven Vinted actions, and ``products``, ``vinted_jobs`` and ``vinted_job_stats`` in
every seller's schema (created if missing). Every constraint is named after the
convention of :mod:`app.db.base` so that later batch rebuilds can find it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import MigrationError, migration_schemas
from app.db.base import UTCDateTime, utcnow

# revision identifiers, used by Alembic.
revision: str = "20260101_0000"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (code, name, priority, rate_limit_ms, max_retries, timeout_seconds)
VINTED_ACTION_TYPES: tuple[tuple[str, str, int, int, int, int], ...] = (
    ("message", "Respond to message", 1, 1000, 3, 30),
    ("orders", "Fetch orders", 3, 1500, 3, 60),
    ("publish", "Publish product", 3, 2500, 3, 120),
    ("update", "Update product", 3, 2000, 3, 60),
    ("delete", "Delete product", 4, 2000, 3, 30),
    ("sync", "Sync products", 4, 1500, 3, 300),
    ("link_product", "Link Product", 3, 500, 3, 120),
)


def upgrade() -> None:
    """Create the legacy tables and seed the Vinted action types."""
    s = migration_schemas.current()
    migration_schemas.create_schema(s.vinted)
    action_types = op.create_table(
        "action_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("rate_limit_ms", sa.Integer(), nullable=False),
        sa.Column("max_retries", sa.Integer(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_types")),
        sa.UniqueConstraint("code", name=op.f("uq_action_types_code")),
        schema=s.vinted,
    )
    now = utcnow()
    op.bulk_insert(
        action_types,
        [
            {
                "id": number,
                "code": code,
                "name": name,
                "description": None,
                "priority": priority,
                "rate_limit_ms": rate_limit_ms,
                "max_retries": max_retries,
                "timeout_seconds": timeout_seconds,
                "created_at": now,
            }
            for number, (
                code,
                name,
                priority,
                rate_limit_ms,
                max_retries,
                timeout_seconds,
            ) in enumerate(VINTED_ACTION_TYPES, start=1)
        ],
    )
    migration_schemas.sync_id_sequence("action_types", s.vinted)

    for schema in s.tenants:
        _upgrade_tenant(schema, s.vinted)


def _upgrade_tenant(schema: str | None, vinted: str | None) -> None:
    """Create one seller's legacy tables (and, on PostgreSQL, the seller's schema)."""
    migration_schemas.create_schema(schema)
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("size", sa.String(50), nullable=True),
        sa.Column("condition", sa.String(50), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        schema=schema,
    )
    op.create_table(
        "vinted_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_type_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, server_default=sa.text("'pending'")),
        sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("3")),
        sa.Column("input_data", sa.JSON(), nullable=True),
        sa.Column("result_data", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("retry_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("max_retries", sa.Integer(), nullable=False, server_default=sa.text("3")),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vinted_jobs")),
        sa.ForeignKeyConstraint(
            ["action_type_id"],
            [_qualified(vinted, "action_types", "id")],
            name=op.f("fk_vinted_jobs_action_type_id_action_types"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            [_qualified(schema, "products", "id")],
            name=op.f("fk_vinted_jobs_product_id_products"),
        ),
        schema=schema,
    )
    op.create_table(
        "vinted_job_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_type_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("total_jobs", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("success_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("failure_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("avg_duration_ms", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vinted_job_stats")),
        sa.ForeignKeyConstraint(
            ["action_type_id"],
            [_qualified(vinted, "action_types", "id")],
            name=op.f("fk_vinted_job_stats_action_type_id_action_types"),
        ),
        sa.UniqueConstraint("action_type_id", "date", name=op.f("uq_vinted_job_stats_action_date")),
        schema=schema,
    )


def downgrade() -> None:
    """Drop the legacy tables; refuses while they hold any seller's data.

    The sellers' schemas stay (they belong to the sellers, not to this revision); the
    legacy ``vinted`` schema, which this revision created, is dropped.
    """
    s = migration_schemas.current()
    for schema in s.tenants:
        _refuse_seller_data(schema)
    for schema in s.tenants:
        _downgrade_tenant(schema)
    op.drop_table("action_types", schema=s.vinted)
    migration_schemas.drop_schema(s.vinted)


def _refuse_seller_data(schema: str | None) -> None:
    bind = op.get_bind()
    for table in ("products", "vinted_jobs", "vinted_job_stats"):
        count = bind.scalar(sa.select(sa.func.count()).select_from(sa.table(table, schema=schema)))
        if count:
            raise MigrationError(
                f"Refusing to downgrade below {revision}: table "
                f"{migration_schemas.qualify(schema, table)} still holds {count} row(s) and "
                "dropping it would destroy them"
            )


def _downgrade_tenant(schema: str | None) -> None:
    op.drop_table("vinted_job_stats", schema=schema)
    op.drop_table("vinted_jobs", schema=schema)
    op.drop_table("products", schema=schema)


def _qualified(schema: str | None, table: str, column: str) -> str:
    """``schema.table.column`` for a foreign key target (no prefix for the default schema)."""
    return f"{schema}.{table}.{column}" if schema else f"{table}.{column}"
