"""Add the eBay action types to ``marketplace_action_types``.

Revision ID: 20260109_0300
Revises: 20260109_0200
Create Date: 2026-01-09 03:00:00

publish, update and delete run at priority 3, one start per 1000 ms, 3 retries, 60 s;
the account-wide sync and sync_orders at priority 2, 2000 ms, 3 retries, 300 s. The
downgrade deletes them, and refuses while a job or a stats row still refers to one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import MigrationError, migration_schemas
from app.db.base import UTCDateTime, utcnow

# revision identifiers, used by Alembic.
revision: str = "20260109_0300"
down_revision: str | Sequence[str] | None = "20260109_0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARKETPLACE = "ebay"
# (code, name, priority, rate_limit_ms, max_retries, timeout_seconds)
ACTION_TYPES: tuple[tuple[str, str, int, int, int, int], ...] = (
    ("publish", "Publish product", 3, 1000, 3, 60),
    ("update", "Update product", 3, 1000, 3, 60),
    ("delete", "Delete product", 3, 1000, 3, 60),
    ("sync", "Sync products", 2, 2000, 3, 300),
    ("sync_orders", "Sync orders", 2, 2000, 3, 300),
)
# Per-seller tables that refer to an action type, as they are named at this revision.
REFERRING_TABLES = ("vinted_jobs", "vinted_job_stats")


def upgrade() -> None:
    """Insert the eBay action types (shared by every seller)."""
    s = migration_schemas.current()
    now = utcnow()
    op.bulk_insert(
        _action_types(s.public),
        [
            {
                "marketplace": MARKETPLACE,
                "code": code,
                "name": name,
                "description": None,
                "priority": priority,
                "rate_limit_ms": rate_limit,
                "max_retries": retries,
                "timeout_seconds": timeout,
                "created_at": now,
            }
            for code, name, priority, rate_limit, retries, timeout in ACTION_TYPES
        ],
    )


def downgrade() -> None:
    """Delete the eBay action types; refuses while any seller's rows still refer to them."""
    s = migration_schemas.current()
    action_types = _action_types(s.public)
    ours = sa.select(action_types.c.id).where(
        action_types.c.marketplace == MARKETPLACE,
        action_types.c.code.in_([code for code, *_ in ACTION_TYPES]),
    )
    for schema in s.tenants:
        _refuse_references(schema, ours)
    op.execute(action_types.delete().where(action_types.c.id.in_(ours.scalar_subquery())))
    # PostgreSQL: hand the freed ids out again, as SQLite does
    migration_schemas.sync_id_sequence("marketplace_action_types", s.public)


def _refuse_references(schema: str | None, ours: sa.Select[tuple[int]]) -> None:
    """Refuse while a job or stats row of the seller refers to one of our action types."""
    bind = op.get_bind()
    for table in REFERRING_TABLES:
        referring = sa.table(table, sa.column("action_type_id"), schema=schema)
        count = bind.scalar(
            sa.select(sa.func.count())
            .select_from(referring)
            .where(referring.c.action_type_id.in_(ours.scalar_subquery()))
        )
        if count:
            raise MigrationError(
                f"Cannot downgrade below {revision}: {count} row(s) of "
                f"{migration_schemas.qualify(schema, table)} still refer to {MARKETPLACE} "
                "action types; delete them first or stay at this revision"
            )


def _action_types(schema: str | None) -> sa.TableClause:
    """A lightweight handle on ``marketplace_action_types``."""
    return sa.table(
        "marketplace_action_types",
        sa.column("id", sa.Integer()),
        sa.column("marketplace", sa.String(20)),
        sa.column("code", sa.String(50)),
        sa.column("name", sa.String(100)),
        sa.column("description", sa.Text()),
        sa.column("priority", sa.Integer()),
        sa.column("rate_limit_ms", sa.Integer()),
        sa.column("max_retries", sa.Integer()),
        sa.column("timeout_seconds", sa.Integer()),
        sa.column("created_at", UTCDateTime()),
        schema=schema,
    )
