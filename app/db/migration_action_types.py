"""Adding and removing one marketplace's action types, for the migrations that do it.

The eBay and Etsy revisions insert their five action types into the shared
``marketplace_action_types`` table; their downgrades delete them again but refuse while any
seller's jobs or stats still refer to one, so that a downgrade never loses data.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import migration_schemas
from app.db.base import UTCDateTime, utcnow
from app.db.errors import MigrationError

# (code, name, priority, rate_limit_ms, max_retries, timeout_seconds)
ActionTypeRow = tuple[str, str, int, int, int, int]

# What eBay and Etsy offer: publish, update and delete at priority 3, one start per
# 1000 ms, 3 retries, 60 s; the account-wide syncs at priority 2, 2000 ms, 3 retries, 300 s.
DIRECT_API_ACTION_TYPES: tuple[ActionTypeRow, ...] = (
    ("publish", "Publish product", 3, 1000, 3, 60),
    ("update", "Update product", 3, 1000, 3, 60),
    ("delete", "Delete product", 3, 1000, 3, 60),
    ("sync", "Sync products", 2, 2000, 3, 300),
    ("sync_orders", "Sync orders", 2, 2000, 3, 300),
)


def add_action_types(marketplace: str, rows: Sequence[ActionTypeRow]) -> None:
    """Insert ``marketplace``'s action types (shared by every seller)."""
    s = migration_schemas.current()
    now = utcnow()
    op.bulk_insert(
        _action_types(s.public),
        [
            {
                "marketplace": marketplace,
                "code": code,
                "name": name,
                "description": None,
                "priority": priority,
                "rate_limit_ms": rate_limit,
                "max_retries": retries,
                "timeout_seconds": timeout,
                "created_at": now,
            }
            for code, name, priority, rate_limit, retries, timeout in rows
        ],
    )


def remove_action_types(
    marketplace: str,
    rows: Sequence[ActionTypeRow],
    *,
    revision: str,
    referring_tables: Sequence[str],
) -> None:
    """Delete ``marketplace``'s action types; refuses while any seller's rows refer to them."""
    s = migration_schemas.current()
    action_types = _action_types(s.public)
    ours = sa.select(action_types.c.id).where(
        action_types.c.marketplace == marketplace,
        action_types.c.code.in_([code for code, *_ in rows]),
    )
    for schema in s.tenants:
        _refuse_references(schema, ours, marketplace, revision, referring_tables)
    op.execute(action_types.delete().where(action_types.c.id.in_(ours.scalar_subquery())))
    # PostgreSQL: hand the freed ids out again, as SQLite does
    migration_schemas.sync_id_sequence("marketplace_action_types", s.public)


def _refuse_references(
    schema: str | None,
    ours: sa.Select[tuple[int]],
    marketplace: str,
    revision: str,
    referring_tables: Sequence[str],
) -> None:
    """Refuse while a job or stats row of the seller refers to one of the action types."""
    bind = op.get_bind()
    for table in referring_tables:
        referring = sa.table(table, sa.column("action_type_id"), schema=schema)
        count = bind.scalar(
            sa.select(sa.func.count())
            .select_from(referring)
            .where(referring.c.action_type_id.in_(ours.scalar_subquery()))
        )
        if count:
            raise MigrationError(
                f"Cannot downgrade below {revision}: {count} row(s) of "
                f"{migration_schemas.qualify(schema, table)} still refer to {marketplace} "
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
