"""An index on ``marketplace_jobs.updated_at``: the window follows other processes' changes.

Revision ID: 20260601_0000
Revises: 20260501_0000
Create Date: 2026-06-01 00:00:00

The window reads the jobs changed since it last looked every two seconds
(:class:`app.marketplace.change_feed.JobChangeFeed`); without this index each read scans
the whole queue. ``ix_marketplace_jobs_updated`` is created in every seller's schema; the
downgrade drops it. No row changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from app.db import migration_schemas

# revision identifiers, used by Alembic.
revision: str = "20260601_0000"
down_revision: str | Sequence[str] | None = "20260501_0000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_marketplace_jobs_updated"


def upgrade() -> None:
    """Index the jobs by their last change, in every seller's schema."""
    for tenant in migration_schemas.current().tenants:
        op.create_index(INDEX, "marketplace_jobs", ["updated_at"], schema=tenant)


def downgrade() -> None:
    """Drop the index again."""
    for tenant in migration_schemas.current().tenants:
        op.drop_index(INDEX, table_name="marketplace_jobs", schema=tenant)
