"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Schema arguments come from ``migration_schemas.current()``: ``.public`` for shared tables,
and per-seller work runs once per schema of ``.tenants`` (``for schema in s.tenants:``, in
``_upgrade_tenant(schema)`` / ``_downgrade_tenant(schema)`` helpers). Raw SQL names tables
with ``migration_schemas.qualify(schema, table)``. On SQLite use batch operations and keep
every constraint named. Autogenerate renders the first seller's schema: replace it by the
loop variable.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
from app.db import migration_schemas

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    """Upgrade the schema."""
    s = migration_schemas.current()
    ${upgrades if upgrades else "del s"}


def downgrade() -> None:
    """Downgrade the schema; raise app.db.MigrationError rather than lose data."""
    s = migration_schemas.current()
    ${downgrades if downgrades else "del s"}
