"""Unify action types: ``vinted.action_types`` becomes ``public.marketplace_action_types``.

Revision ID: 20260109_0200
Revises: 20260101_0000
Create Date: 2026-01-09 02:00:00

The new table has a ``marketplace`` column and is unique on ``(marketplace, code)``. The
Vinted rows are copied with their ids, so that every job and stats row keeps pointing at
the same action; the per-seller foreign keys are re-pointed to the new table and the
legacy table is dropped (with, on PostgreSQL, the emptied ``vinted`` schema). The
downgrade does the reverse, and refuses while the table holds actions of another
marketplace (the legacy table has no place for them).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import MigrationError, migration_schemas
from app.db.base import UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "20260109_0200"
down_revision: str | Sequence[str] | None = "20260101_0000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERRING_TABLES = ("vinted_jobs", "vinted_job_stats")
COPIED_COLUMNS = (
    "id",
    "code",
    "name",
    "description",
    "priority",
    "rate_limit_ms",
    "max_retries",
    "timeout_seconds",
    "created_at",
)


def upgrade() -> None:
    """Create ``marketplace_action_types``, move the Vinted rows and re-point the jobs."""
    s = migration_schemas.current()
    op.create_table(
        "marketplace_action_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marketplace", sa.String(20), nullable=False),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("rate_limit_ms", sa.Integer(), nullable=False),
        sa.Column("max_retries", sa.Integer(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_action_types")),
        sa.UniqueConstraint(
            "marketplace", "code", name=op.f("uq_marketplace_action_types_marketplace_code")
        ),
        schema=s.public,
    )
    legacy = _legacy_table(s.vinted)
    unified = _unified_table(s.public)
    op.execute(
        unified.insert().from_select(
            ["marketplace", *COPIED_COLUMNS],
            sa.select(sa.literal("vinted", sa.String(20)), *(legacy.c[n] for n in COPIED_COLUMNS)),
        )
    )
    migration_schemas.sync_id_sequence("marketplace_action_types", s.public)

    for schema in s.tenants:
        _upgrade_tenant(schema, s.public)

    op.drop_table("action_types", schema=s.vinted)
    migration_schemas.drop_schema(s.vinted)


def _upgrade_tenant(schema: str | None, public: str | None) -> None:
    """Point one seller's jobs and stats at ``marketplace_action_types``."""
    for table in REFERRING_TABLES:
        with op.batch_alter_table(table, schema=schema) as batch_op:
            batch_op.drop_constraint(
                op.f(f"fk_{table}_action_type_id_action_types"), type_="foreignkey"
            )
            batch_op.create_foreign_key(
                op.f(f"fk_{table}_action_type_id_marketplace_action_types"),
                "marketplace_action_types",
                ["action_type_id"],
                ["id"],
                referent_schema=public,
            )


def downgrade() -> None:
    """Move the Vinted actions back to ``action_types``; refuses if others exist."""
    s = migration_schemas.current()
    unified = _unified_table(s.public)
    others = (
        op.get_bind()
        .execute(
            sa.select(unified.c.marketplace, unified.c.code)
            .where(unified.c.marketplace != "vinted")
            .order_by(unified.c.marketplace, unified.c.code)
        )
        .all()
    )
    if others:
        listed = ", ".join(f"{marketplace}/{code}" for marketplace, code in others)
        raise MigrationError(
            f"Cannot downgrade below {revision}: marketplace_action_types holds actions of "
            f"other marketplaces than Vinted ({listed}), which the legacy action_types "
            "table cannot hold; downgrade the eBay and Etsy revisions first"
        )
    migration_schemas.create_schema(s.vinted)
    op.create_table(
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
    legacy = _legacy_table(s.vinted)
    op.execute(
        legacy.insert().from_select(
            list(COPIED_COLUMNS),
            sa.select(*(unified.c[n] for n in COPIED_COLUMNS)).where(
                unified.c.marketplace == "vinted"
            ),
        )
    )
    migration_schemas.sync_id_sequence("action_types", s.vinted)

    for schema in s.tenants:
        _downgrade_tenant(schema, s.vinted)

    op.drop_table("marketplace_action_types", schema=s.public)


def _downgrade_tenant(schema: str | None, vinted: str | None) -> None:
    """Point one seller's jobs and stats back at the legacy ``action_types``."""
    for table in REFERRING_TABLES:
        with op.batch_alter_table(table, schema=schema) as batch_op:
            batch_op.drop_constraint(
                op.f(f"fk_{table}_action_type_id_marketplace_action_types"),
                type_="foreignkey",
            )
            batch_op.create_foreign_key(
                op.f(f"fk_{table}_action_type_id_action_types"),
                "action_types",
                ["action_type_id"],
                ["id"],
                referent_schema=vinted,
            )


def _legacy_table(schema: str | None) -> sa.TableClause:
    """A lightweight handle on ``action_types`` for the data copy."""
    return sa.table("action_types", *(sa.column(n) for n in COPIED_COLUMNS), schema=schema)


def _unified_table(schema: str | None) -> sa.TableClause:
    """A lightweight handle on ``marketplace_action_types`` for the data copy."""
    return sa.table(
        "marketplace_action_types",
        sa.column("marketplace", sa.String(20)),
        sa.column("code", sa.String(50)),
        *(sa.column(n) for n in COPIED_COLUMNS if n != "code"),
        schema=schema,
    )
