"""Schema names seen by the migration scripts, and the helpers they share.

Revisions never hard-code a schema: they ask here which real schema stands for the
``public`` placeholder and the legacy ``vinted`` schema, and which per-seller schemas
(``tenants``) the pass covers. Every revision does its shared work once and its per-seller
work once per tenant, in one Alembic pass whose version table is shared.

On SQLite every placeholder is the file's main schema: ``public`` and ``vinted`` are None
and ``tenants`` is ``(None,)`` (one file, one seller). On PostgreSQL ``public`` is
``public``, the legacy action types live in ``vinted`` and each seller has a schema
``user_<id>``; :func:`for_postgres` finds them before the pass starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from app.db.database import tenant_schema

ATTRIBUTE = "marketdesk_schemas"
#: Where the version table lives on PostgreSQL (every schema shares one revision).
VERSION_TABLE_SCHEMA = "public"
#: Key of the transaction-level advisory lock that migrations and new sellers take on
#: PostgreSQL, so that two processes never migrate, or add a seller during a migration,
#: at the same time ("MKTDESK" in ASCII).
ADVISORY_LOCK_KEY = 0x4D4B5444455348
TENANT_SCHEMA_RE = re.compile(r"^user_([1-9][0-9]*)$")
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class MigrationSchemas:
    """The real schema names of one migration pass (None = the default schema)."""

    public: str | None = None
    vinted: str | None = None
    tenants: tuple[str | None, ...] = (None,)


SQLITE = MigrationSchemas()


def current() -> MigrationSchemas:
    """The schemas of the migration pass in progress."""
    config = op.get_context().config
    if config is None:
        return SQLITE
    schemas = config.attributes.get(ATTRIBUTE, SQLITE)
    assert isinstance(schemas, MigrationSchemas)
    return schemas


# -- names ------------------------------------------------------------------------------
def qualify(schema: str | None, name: str) -> str:
    """``schema.name`` for raw SQL, or ``name`` alone in the default schema.

    Both parts must be plain identifiers (they are written into SQL unquoted).
    """
    for part in (schema, name):
        if part is not None and not _IDENTIFIER_RE.match(part):
            raise ValueError(f"Not a plain SQL identifier: {part!r}")
    return f"{schema}.{name}" if schema else name


def seller_id(schema: str | None) -> int:
    """The seller id of a tenant schema: ``user_<id>`` -> id, None (SQLite) -> 1."""
    if schema is None:
        return 1
    found = TENANT_SCHEMA_RE.match(schema)
    if found is None:
        raise ValueError(f"Not a seller schema: {schema!r}")
    return int(found.group(1))


# -- the schemas of a PostgreSQL pass ---------------------------------------------------
def tenant_schemas(connection: Connection) -> tuple[str, ...]:
    """The seller schemas a PostgreSQL migration pass covers.

    The ids of ``public.sellers`` when that table exists; before it does, every schema
    named ``user_<digits>``; and on a database that has none, ``user_1`` (the baseline
    creates it).
    """
    if connection.scalar(sa.text("SELECT to_regclass('public.sellers')")) is not None:
        ids = connection.scalars(sa.text("SELECT id FROM public.sellers ORDER BY id")).all()
        return tuple(tenant_schema(int(i)) for i in ids)
    names = connection.scalars(sa.text("SELECT schema_name FROM information_schema.schemata")).all()
    found = sorted(
        (int(m.group(1)), str(name))
        for name in names
        if (m := TENANT_SCHEMA_RE.match(str(name))) is not None
    )
    return tuple(name for _, name in found) or (tenant_schema(1),)


def for_postgres(connection: Connection) -> MigrationSchemas:
    """The schemas of a PostgreSQL migration pass over ``connection``."""
    return MigrationSchemas(public="public", vinted="vinted", tenants=tenant_schemas(connection))


def lock(connection: Connection) -> None:
    """Take the migration lock until the end of the transaction (PostgreSQL only)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        )


# -- helpers of the revisions -----------------------------------------------------------
def is_postgres() -> bool:
    """True when the pass runs on PostgreSQL."""
    return bool(op.get_bind().dialect.name == "postgresql")


def create_schema(schema: str | None) -> None:
    """``CREATE SCHEMA IF NOT EXISTS`` (nothing to do for the default schema)."""
    if schema is not None:
        op.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {qualify(None, schema)}"))


def drop_schema(schema: str | None) -> None:
    """``DROP SCHEMA`` of an emptied schema; PostgreSQL refuses while anything is left in it."""
    if schema is not None:
        op.execute(sa.text(f"DROP SCHEMA IF EXISTS {qualify(None, schema)} RESTRICT"))


def sync_id_sequence(table: str, schema: str | None) -> None:
    """After inserting or deleting explicit ids, move PostgreSQL's id sequence to max + 1.

    SQLite's INTEGER PRIMARY KEY needs nothing: the next id is always max(id) + 1.
    """
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    qualified = qualify(schema, table)
    bind.execute(
        sa.text(
            "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {qualified}), 0) + 1, false)"
        ),
        {"table": qualified},
    )


def rename_id_sequence(table: str, schema: str | None) -> None:
    """After a table rename on PostgreSQL, name its id sequence ``<table>_id_seq``.

    A renamed table keeps the sequence named after its old name; renaming it makes the
    migrated schema the one ``create_all`` makes for a new seller.
    """
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    sequence = bind.scalar(
        sa.text("SELECT pg_get_serial_sequence(:table, 'id')"),
        {"table": qualify(schema, table)},
    )
    wanted = f"{table}_id_seq"
    if sequence is None or str(sequence).rsplit(".", 1)[-1].strip('"') == wanted:
        return
    bind.execute(sa.text(f"ALTER SEQUENCE {sequence} RENAME TO {qualify(None, wanted)}"))
