"""Vinted-only baseline: the schema the legacy job system left behind.

Revision ID: 20260101_0000
Revises:
Create Date: 2026-01-01 00:00:00

``action_types`` (the legacy ``vinted`` schema) seeded with the seven Vinted actions,
``products``, ``vinted_jobs`` and ``vinted_job_stats`` (per seller). Every constraint is
named after the convention of :mod:`app.db.base` so that later batch rebuilds can find it.
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
    schemas = migration_schemas.current()
    if schemas.runs_public:
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
            schema=schemas.vinted,
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

    if schemas.runs_tenant:
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
            schema=schemas.tenant,
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
                [_qualified(schemas.vinted, "action_types", "id")],
                name=op.f("fk_vinted_jobs_action_type_id_action_types"),
            ),
            sa.ForeignKeyConstraint(
                ["product_id"],
                [_qualified(schemas.tenant, "products", "id")],
                name=op.f("fk_vinted_jobs_product_id_products"),
            ),
            schema=schemas.tenant,
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
                [_qualified(schemas.vinted, "action_types", "id")],
                name=op.f("fk_vinted_job_stats_action_type_id_action_types"),
            ),
            sa.UniqueConstraint(
                "action_type_id", "date", name=op.f("uq_vinted_job_stats_action_date")
            ),
            schema=schemas.tenant,
        )


def downgrade() -> None:
    """Drop the legacy tables; refuses while they hold any of the seller's data."""
    schemas = migration_schemas.current()
    if schemas.runs_tenant:
        bind = op.get_bind()
        for table in ("products", "vinted_jobs", "vinted_job_stats"):
            count = bind.scalar(
                sa.select(sa.func.count()).select_from(sa.table(table, schema=schemas.tenant))
            )
            if count:
                raise MigrationError(
                    f"Refusing to downgrade below {revision}: table {table} still holds "
                    f"{count} row(s) and dropping it would destroy them"
                )
        op.drop_table("vinted_job_stats", schema=schemas.tenant)
        op.drop_table("vinted_jobs", schema=schemas.tenant)
        op.drop_table("products", schema=schemas.tenant)
    if schemas.runs_public:
        op.drop_table("action_types", schema=schemas.vinted)


def _qualified(schema: str | None, table: str, column: str) -> str:
    """``schema.table.column`` for a foreign key target (no prefix for the default schema)."""
    return f"{schema}.{table}.{column}" if schema else f"{table}.{column}"
