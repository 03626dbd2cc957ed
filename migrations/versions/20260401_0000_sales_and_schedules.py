"""Sales recorded by order syncs, and recurring job schedules.

Revision ID: 20260401_0000
Revises: 20260301_0000
Create Date: 2026-04-01 00:00:00

Two per-seller tables, created in every seller's schema:

- ``sales``: one row per new order line that sold a catalog product, unique per
  (marketplace, order, line): the product, the quantity sold, when it sold and when
  Marketdesk saw it, the product's quantity before and after, whether it was an oversell,
  the follow-up's status and message, and the delete/update jobs it queued (JSON list).
- ``schedules``: one row per recurring job (``order_sync:<marketplace>``): the
  marketplace and action, the interval (at least 60 s), on or off, next and last run,
  so that the schedule survives a restart.

The downgrade refuses, naming the schema and table, while either table holds rows:
dropping them would lose the seller's sales record or schedule.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import MigrationError, migration_schemas
from app.db.base import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "20260401_0000"
down_revision: str | Sequence[str] | None = "20260301_0000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARKETPLACE_CHECK = "marketplace IN ('vinted', 'ebay', 'etsy')"
TABLES = ("sales", "schedules")


def upgrade() -> None:
    """Create the two tables in every seller's schema."""
    for tenant in migration_schemas.current().tenants:
        _create_sales(tenant)
        _create_schedules(tenant)


def _create_sales(tenant: str | None) -> None:
    op.create_table(
        "sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marketplace", sa.String(20), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("line_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("sold_at", UTCDateTime(), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.Column("quantity_before", sa.Integer(), nullable=False),
        sa.Column("quantity_after", sa.Integer(), nullable=False),
        sa.Column("oversell", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales")),
        sa.UniqueConstraint("marketplace", "order_id", "line_id", name=op.f("uq_sales_line")),
        sa.CheckConstraint(MARKETPLACE_CHECK, name=op.f("ck_sales_marketplace")),
        sa.CheckConstraint(
            "status IN ('recorded', 'delisting', 'done', 'delist_failed')",
            name=op.f("ck_sales_status"),
        ),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_sales_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            [migration_schemas.qualify(tenant, "products") + ".id"],
            name=op.f("fk_sales_product_id_products"),
            ondelete="SET NULL",
        ),
        schema=tenant,
    )
    op.create_index("ix_sales_product", "sales", ["product_id"], schema=tenant)


def _create_schedules(tenant: str | None) -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("marketplace", sa.String(20), nullable=False),
        sa.Column("action_code", sa.String(50), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", UTCDateTime(), nullable=False),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("last_job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_schedules_name")),
        sa.CheckConstraint(MARKETPLACE_CHECK, name=op.f("ck_schedules_marketplace")),
        sa.CheckConstraint("interval_seconds >= 60", name=op.f("ck_schedules_interval")),
        schema=tenant,
    )


def downgrade() -> None:
    """Drop the two tables; refuses while any seller has rows in them."""
    tenants = migration_schemas.current().tenants
    bind = op.get_bind()
    for tenant in tenants:
        for table in TABLES:
            name = migration_schemas.qualify(tenant, table)
            count = bind.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
            if count:
                raise MigrationError(
                    f"Cannot downgrade below {revision}: {name} holds {count} row(s) "
                    "that the older schema has no place for; nothing was changed"
                )
    for tenant in tenants:
        op.drop_index("ix_sales_product", table_name="sales", schema=tenant)
        for table in TABLES:
            op.drop_table(table, schema=tenant)
