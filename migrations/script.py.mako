"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Schema arguments come from ``migration_schemas.current()``: ``.public`` for shared tables,
``.tenant`` for per-seller tables; shared work is guarded by ``runs_public`` and per-seller
work by ``runs_tenant``. On SQLite use batch operations and keep every constraint named.
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
    schemas = migration_schemas.current()
    ${upgrades if upgrades else "del schemas"}


def downgrade() -> None:
    """Downgrade the schema; raise app.db.MigrationError rather than lose data."""
    schemas = migration_schemas.current()
    ${downgrades if downgrades else "del schemas"}
