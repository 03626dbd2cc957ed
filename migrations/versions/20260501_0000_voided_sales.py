"""A sale can be voided: its order line was cancelled or refunded after it was recorded.

Revision ID: 20260501_0000
Revises: 20260401_0000
Create Date: 2026-05-01 00:00:00

``sales.status`` accepts ``'voided'`` beside ``'recorded'``, ``'delisting'``, ``'done'`` and
``'delist_failed'``: the check constraint ``ck_sales_status`` is replaced, in every
seller's schema (on SQLite, batch mode rebuilds the table, its rows, indexes and keys
kept). No row changes on the way up.

The downgrade maps every ``'voided'`` sale back to ``'done'`` (nothing is left to do about
it; its ``message`` still says that the order was cancelled or refunded and what was put
back in stock), then restores the older check constraint. Going up again does not make
those sales ``voided`` again: the older schema cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import migration_schemas

# revision identifiers, used by Alembic.
revision: str = "20260501_0000"
down_revision: str | Sequence[str] | None = "20260401_0000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("recorded", "delisting", "done", "delist_failed")
NEW_STATUSES = (*OLD_STATUSES, "voided")


def _in(column: str, values: Sequence[str]) -> str:
    """``column IN ('a', 'b')`` as written in the models' check constraints."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_status_check(tenant: str | None, statuses: Sequence[str]) -> None:
    with op.batch_alter_table("sales", schema=tenant) as batch_op:
        batch_op.drop_constraint(op.f("ck_sales_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sales_status"), _in("status", statuses))


def upgrade() -> None:
    """Let ``sales.status`` be ``'voided'``, in every seller's schema."""
    for tenant in migration_schemas.current().tenants:
        _replace_status_check(tenant, NEW_STATUSES)


def downgrade() -> None:
    """Voided sales become ``'done'``; the older status check comes back."""
    for tenant in migration_schemas.current().tenants:
        sales = sa.table(
            "sales",
            sa.column("status", sa.String(20)),
            schema=tenant,
        )
        op.execute(sales.update().where(sales.c.status == "voided").values(status="done"))
        _replace_status_check(tenant, OLD_STATUSES)
