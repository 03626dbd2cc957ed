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

from app.db.migration_action_types import (
    DIRECT_API_ACTION_TYPES,
    add_action_types,
    remove_action_types,
)

# revision identifiers, used by Alembic.
revision: str = "20260109_0300"
down_revision: str | Sequence[str] | None = "20260109_0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARKETPLACE = "ebay"
# Per-seller tables that refer to an action type, as they are named at this revision.
REFERRING_TABLES = ("vinted_jobs", "vinted_job_stats")


def upgrade() -> None:
    """Insert the eBay action types (shared by every seller)."""
    add_action_types(MARKETPLACE, DIRECT_API_ACTION_TYPES)


def downgrade() -> None:
    """Delete the eBay action types; refuses while any seller's rows still refer to them."""
    remove_action_types(
        MARKETPLACE, DIRECT_API_ACTION_TYPES, revision=revision, referring_tables=REFERRING_TABLES
    )
