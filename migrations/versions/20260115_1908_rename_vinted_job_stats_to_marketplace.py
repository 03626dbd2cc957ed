"""Rename ``vinted_job_stats`` to ``marketplace_job_stats`` and split the stats per marketplace.

Revision ID: 20260115_1908
Revises: 20260109_0400
Create Date: 2026-01-15 19:08:00

1. rename the table (``ALTER TABLE ... RENAME``, the rows stay where they are);
2. add ``marketplace`` VARCHAR(20) NOT NULL, checked to be vinted, ebay or etsy; the
   existing rows, all written by the Vinted job system, get ``'vinted'``;
3. replace ``uq_vinted_job_stats_action_date`` by
   ``uq_marketplace_job_stats_action_marketplace_date`` on (action_type_id, marketplace, date);
4. add ``ix_marketplace_job_stats_marketplace_created_at`` on (marketplace, created_at).

The primary and foreign keys (and, on PostgreSQL, the id sequence) are renamed after the
new table name as well. Every step runs on every seller's schema. The downgrade refuses
while any seller has stats of another marketplace: the old table can't tell them apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

from app.db import MigrationError, migration_schemas

# revision identifiers, used by Alembic.
revision: str = "20260115_1908"
down_revision: str | Sequence[str] | None = "20260109_0400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "vinted_job_stats"
NEW = "marketplace_job_stats"
MARKETPLACE_CHECK = "marketplace IN ('vinted', 'ebay', 'etsy')"


def upgrade() -> None:
    """Rename the table and add the marketplace column, constraint and index, per seller."""
    s = migration_schemas.current()
    for schema in s.tenants:
        _upgrade_tenant(schema, s.public)


def _upgrade_tenant(schema: str | None, public: str | None) -> None:
    op.rename_table(OLD, NEW, schema=schema)
    migration_schemas.rename_id_sequence(NEW, schema)

    # Nullable first, so that the existing rows can be filled in before NOT NULL applies.
    with op.batch_alter_table(NEW, schema=schema) as batch_op:
        batch_op.add_column(sa.Column("marketplace", sa.String(20), nullable=True))
    stats = sa.table(NEW, sa.column("marketplace", sa.String(20)), schema=schema)
    op.execute(stats.update().values(marketplace="vinted"))

    with op.batch_alter_table(NEW, schema=schema) as batch_op:
        batch_op.alter_column("marketplace", existing_type=sa.String(20), nullable=False)
        batch_op.create_check_constraint(op.f(f"ck_{NEW}_marketplace"), MARKETPLACE_CHECK)
        batch_op.drop_constraint(op.f("uq_vinted_job_stats_action_date"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_marketplace_job_stats_action_marketplace_date"),
            ["action_type_id", "marketplace", "date"],
        )
        _rename_keys(batch_op, OLD, NEW, public)
        batch_op.create_index(
            op.f("ix_marketplace_job_stats_marketplace_created_at"), ["marketplace", "created_at"]
        )


def downgrade() -> None:
    """Put the Vinted-only tables back; refuses while any seller has eBay or Etsy stats."""
    s = migration_schemas.current()
    for schema in s.tenants:
        _refuse_other_marketplaces(schema)
    for schema in s.tenants:
        _downgrade_tenant(schema, s.public)


def _refuse_other_marketplaces(schema: str | None) -> None:
    stats = sa.table(NEW, sa.column("marketplace", sa.String(20)), schema=schema)
    others = (
        op.get_bind()
        .execute(
            sa.select(stats.c.marketplace, sa.func.count())
            .where(stats.c.marketplace != "vinted")
            .group_by(stats.c.marketplace)
            .order_by(stats.c.marketplace)
        )
        .all()
    )
    if others:
        listed = ", ".join(f"{count} of {marketplace}" for marketplace, count in others)
        raise MigrationError(
            f"Cannot downgrade below {revision}: {migration_schemas.qualify(schema, NEW)} "
            f"holds stats rows of other marketplaces than Vinted ({listed}); the Vinted-only "
            f"{OLD} table cannot keep them apart"
        )


def _downgrade_tenant(schema: str | None, public: str | None) -> None:
    with op.batch_alter_table(NEW, schema=schema) as batch_op:
        batch_op.drop_index(op.f("ix_marketplace_job_stats_marketplace_created_at"))
        batch_op.drop_constraint(
            op.f("uq_marketplace_job_stats_action_marketplace_date"), type_="unique"
        )
        batch_op.create_unique_constraint(
            op.f("uq_vinted_job_stats_action_date"), ["action_type_id", "date"]
        )
        batch_op.drop_constraint(op.f(f"ck_{NEW}_marketplace"), type_="check")
        batch_op.drop_column("marketplace")
        _rename_keys(batch_op, NEW, OLD, public)
    op.rename_table(NEW, OLD, schema=schema)
    migration_schemas.rename_id_sequence(OLD, schema)


def _rename_keys(batch_op: BatchOperations, old: str, new: str, public_schema: str | None) -> None:
    """Rename the primary key and the action type foreign key after the table's name."""
    batch_op.drop_constraint(op.f(f"pk_{old}"), type_="primary")
    batch_op.create_primary_key(op.f(f"pk_{new}"), ["id"])
    batch_op.drop_constraint(
        op.f(f"fk_{old}_action_type_id_marketplace_action_types"), type_="foreignkey"
    )
    batch_op.create_foreign_key(
        op.f(f"fk_{new}_action_type_id_marketplace_action_types"),
        "marketplace_action_types",
        ["action_type_id"],
        ["id"],
        referent_schema=public_schema,
    )
