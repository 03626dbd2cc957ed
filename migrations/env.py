"""Alembic environment of Marketdesk.

The :class:`app.db.Database` being migrated comes from ``config.attributes["database"]``
(set by :meth:`app.db.Database.alembic_config`); when Alembic is run from the command line
it is built from :func:`app.db.resolve_database_url`, which honours ``MARKETDESK_DB_URL``.

On SQLite the migrations use an engine of their own with foreign keys switched off:
batch mode rebuilds a table by copying it, dropping the original and renaming the copy,
which enforced foreign keys would refuse (or cascade). Every revision of one command runs
in a single ``BEGIN IMMEDIATE`` transaction, so a failed or refused step leaves the file
exactly as it was, and ``PRAGMA foreign_key_check`` is run before that transaction
commits, so that a migration can never leave a dangling reference behind.

On PostgreSQL (a schema per seller) one pass migrates everything: the shared tables of
``public`` (and the legacy ``vinted`` schema) once, and each seller's tables in every
``user_<id>`` schema, listed by :func:`app.db.migration_schemas.for_postgres` (the ids of
``public.sellers``, or before that table exists the ``user_<digits>`` schemas, or
``user_1`` on an empty database). The version table is ``public.alembic_version``: all
schemas share one revision. The whole command runs in one transaction (PostgreSQL's DDL is
transactional) under an advisory lock, so that a refusal in any seller's schema leaves
every schema as it was and concurrent migrators wait for each other.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, MetaData, Table
from sqlalchemy.schema import BLANK_SCHEMA, ForeignKeyConstraint, SchemaConst

import app.models  # noqa: F401  (registers every table on Base.metadata)
from app.db import (
    PUBLIC,
    TENANT,
    Base,
    Database,
    MigrationError,
    migration_schemas,
    resolve_database_url,
)
from app.db.engine import create_database_engine
from app.db.migration_schemas import ATTRIBUTE, VERSION_TABLE_SCHEMA, MigrationSchemas

MAX_REPORTED_VIOLATIONS = 20
# Options of every pass: all revisions of one command in one transaction, and autogenerate
# comparing column types and server defaults too.
ONE_TRANSACTION: dict[str, Any] = {
    "transactional_ddl": True,
    "transaction_per_migration": False,
    "compare_type": True,
    "compare_server_default": True,
}
VERSION_TABLE = "alembic_version"


def _database(attributes: dict[str, Any]) -> tuple[Database, bool]:
    """The database to migrate, and whether this module created it (and must close it)."""
    database = attributes.get("database")
    if database is None:
        return Database(resolve_database_url()), True
    if not isinstance(database, Database):
        raise MigrationError(
            f"config.attributes['database'] must be an app.db.Database, not {type(database)!r}"
        )
    return database, False


def target_metadata(schemas: MigrationSchemas) -> MetaData:
    """``Base.metadata`` with its schema placeholders replaced by the pass's real schemas.

    Autogenerate (``alembic check``, ``alembic revision --autogenerate``) matches tables by
    ``(schema, name)`` and does not apply ``schema_translate_map``; compared as they are,
    the models' ``tenant.products`` would never match the file's ``products``. The copy
    keeps the naming convention, so the revisions' constraint names stay the same.

    On PostgreSQL the ``tenant`` placeholder becomes the first seller's schema (all of
    them share one revision, so one stands for all) and ``public`` becomes the default
    schema (None): PostgreSQL reflects the tables of ``public``, and foreign keys into it,
    without a schema name, since it is on the search path.
    """
    tenant = schemas.tenants[0] if schemas.tenants else None
    public = None if schemas.public == VERSION_TABLE_SCHEMA else schemas.public
    mapping: dict[str | None, str | None] = {PUBLIC: public, TENANT: tenant}

    def referred_schema(
        table: Table, to_schema: str | None, constraint: ForeignKeyConstraint, referred: str | None
    ) -> str | SchemaConst:
        real = mapping.get(referred, referred)
        # None would mean "keep the referred schema" here; BLANK_SCHEMA means "none".
        return BLANK_SCHEMA if real is None else real

    target = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(
            target,
            schema=mapping.get(table.schema, table.schema),  # type: ignore[arg-type]
            # SQLAlchemy documents BLANK_SCHEMA here, its annotation leaves it out
            referred_schema_fn=referred_schema,  # type: ignore[arg-type]
        )
    return target


def check_foreign_keys(connection: Connection) -> None:
    """Raise :class:`MigrationError` listing the rows whose foreign keys point nowhere."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if not rows:
        return
    # Each row is (table, rowid, referred table, index of the foreign key).
    shown = "; ".join(
        f"{table} row {rowid} -> {parent} (foreign key #{fk_index})"
        for table, rowid, parent, fk_index in rows[:MAX_REPORTED_VIOLATIONS]
    )
    more = len(rows) - MAX_REPORTED_VIOLATIONS
    suffix = f"; and {more} more" if more > 0 else ""
    raise MigrationError(
        f"Migration aborted, nothing was changed: {len(rows)} foreign key violation(s) "
        f"would remain: {shown}{suffix}"
    )


def run_migrations_offline() -> None:
    """Offline (``--sql``) mode is not supported: SQLite batch migrations need a live file."""
    raise MigrationError(
        "Offline migrations (alembic --sql) are not supported by Marketdesk: SQLite table "
        "rebuilds and the data checks of the revisions need a live database connection"
    )


def run_migrations_online() -> None:
    """Run the requested migrations in one transaction (SQLite or PostgreSQL)."""
    config = context.config
    database, owned = _database(config.attributes)
    try:
        if database.is_postgres:
            _run_postgres(database)
        else:
            _run_sqlite(database)
    finally:
        if owned:
            database.close()


def _run_sqlite(database: Database) -> None:
    """SQLite: one ``BEGIN IMMEDIATE`` transaction on a foreign-keys-off connection."""
    config = context.config
    engine = create_database_engine(database.url, foreign_keys=False)
    try:
        # SQLite: every schema placeholder is the file's main schema, one pass does all.
        schemas = MigrationSchemas()
        config.attributes[ATTRIBUTE] = schemas
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata(schemas),
                render_as_batch=True,
                # SQLite DDL is transactional once BEGIN is issued explicitly (the engine
                # does, as BEGIN IMMEDIATE); Alembic assumes otherwise and would commit
                # after every revision, leaving a half-done chain behind a failure.
                **ONE_TRANSACTION,
            )
            with context.begin_transaction():
                context.run_migrations()
                check_foreign_keys(connection)
    finally:
        engine.dispose()


def _run_postgres(database: Database) -> None:
    """PostgreSQL: public and every seller schema in one transaction, under a lock.

    The advisory lock makes a second process wait until the first has committed (it then
    finds the database at head and has nothing to do) and keeps
    :meth:`app.db.Database.add_seller` from adding a schema the pass would miss. The
    seller schemas are read inside the same transaction, after the lock.
    """
    config = context.config
    engine = create_database_engine(database.url)
    try:
        with engine.connect() as connection, connection.begin():
            migration_schemas.lock(connection)
            schemas = migration_schemas.for_postgres(connection)
            config.attributes[ATTRIBUTE] = schemas
            # autogenerate compares public and the first seller's schema with the models
            compared = {None, schemas.public, schemas.tenants[0] if schemas.tenants else None}

            def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
                if type_ == "schema":
                    return name in compared
                if type_ == "table":
                    return name != VERSION_TABLE
                return True

            context.configure(
                connection=connection,
                target_metadata=target_metadata(schemas),
                version_table_schema=VERSION_TABLE_SCHEMA,
                include_schemas=True,
                include_name=include_name,
                # The connection is already in the transaction begun above: Alembic runs
                # every revision inside it and never commits on its own.
                **ONE_TRANSACTION,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
