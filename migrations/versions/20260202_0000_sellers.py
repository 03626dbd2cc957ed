"""The sellers of a shared database: ``public.sellers``.

Revision ID: 20260202_0000
Revises: 20260201_0000
Create Date: 2026-02-02 00:00:00

One row per seller: ``id`` (seller ``N`` keeps its jobs, tasks, batches, stats and
products in schema ``user_N`` on PostgreSQL), ``name`` and ``created_at``. The upgrade
registers every seller schema present as ``Seller N``; on SQLite, where a file holds one
seller, the single row 1. From this revision on the table, not the list of schemas, says
which schemas a migration covers; :meth:`app.db.Database.add_seller` adds a seller and its
schema. The downgrade drops the table (the sellers' schemas and data stay).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import migration_schemas
from app.db.base import UTCDateTime, utcnow

# revision identifiers, used by Alembic.
revision: str = "20260202_0000"
down_revision: str | Sequence[str] | None = "20260201_0000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``sellers`` and register each seller schema of the pass."""
    s = migration_schemas.current()
    sellers = op.create_table(
        "sellers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sellers")),
        schema=s.public,
    )
    now = utcnow()
    ids = sorted({migration_schemas.seller_id(schema) for schema in s.tenants})
    op.bulk_insert(
        sellers, [{"id": number, "name": f"Seller {number}", "created_at": now} for number in ids]
    )
    migration_schemas.sync_id_sequence("sellers", s.public)


def downgrade() -> None:
    """Drop ``sellers``; every seller's schema stays as it is."""
    s = migration_schemas.current()
    op.drop_table("sellers", schema=s.public)
