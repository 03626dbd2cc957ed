"""Schema names seen by the migration scripts.

Revisions never hard-code a schema: they ask here which real schema stands for the
``public``, ``tenant`` and legacy ``vinted`` placeholders in the pass being run, and
whether the pass covers shared or per-seller objects. On SQLite every placeholder is the
file's main schema and one pass covers both.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import op


@dataclass(frozen=True)
class MigrationSchemas:
    """The real schema names of one migration pass (None = the default schema)."""

    public: str | None = None
    tenant: str | None = None
    vinted: str | None = None
    runs_public: bool = True
    runs_tenant: bool = True


ATTRIBUTE = "marketdesk_schemas"
SQLITE = MigrationSchemas()


def current() -> MigrationSchemas:
    """The schemas of the migration pass in progress."""
    config = op.get_context().config
    if config is None:
        return SQLITE
    schemas = config.attributes.get(ATTRIBUTE, SQLITE)
    assert isinstance(schemas, MigrationSchemas)
    return schemas
