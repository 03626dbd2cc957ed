"""The :class:`Database`: engine, per-seller sessions, migrations and the database executor."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from app.db.base import PUBLIC, TENANT, utcnow
from app.db.engine import READONLY_OPTION, create_database_engine, parse_url
from app.db.errors import MigrationError
from app.events import EventBus
from app.paths import app_root

log = logging.getLogger("marketdesk.db")

T = TypeVar("T")

#: A migration file: ``<revision>_<slug>.py``, the revision a date and time.
_REVISION_FILE = re.compile(r"^(\d{8}_\d{4})_\w+\.py$")


def tenant_schema(user_id: int) -> str:
    """The PostgreSQL schema of seller ``user_id``."""
    return f"user_{int(user_id)}"


def migrations_dir() -> Path:
    """The Alembic script directory, in a checkout or inside a frozen build."""
    return app_root() / "migrations"


@functools.cache
def schema_head() -> str | None:
    """The newest revision, read from the migration files' names without Alembic.

    Revision ids are dates (``20260401_0000``) and the chain is linear, so the newest
    file is the head (tests check it against Alembic's). A database already there is
    opened without loading Alembic, which keeps Alembic off every start but the first
    after an upgrade. None when the folder cannot be read (Alembic then decides).
    """
    try:
        names = [entry.name for entry in (migrations_dir() / "versions").iterdir()]
    except OSError:
        return None
    revisions = [m.group(1) for m in map(_REVISION_FILE.match, names) if m is not None]
    return max(revisions, default=None)


class Database:
    """One Marketdesk database (a SQLite file per seller profile).

    ``session(user_id)`` gives an ORM session whose ``tenant`` and ``public`` schema
    placeholders are mapped to the seller's real schemas. Blocking database work of the
    asyncio side goes through :meth:`run`, which uses one dedicated thread for SQLite
    (a single writer per process) so that the event loop, and the window, never wait on
    a commit.
    """

    def __init__(self, url: str) -> None:
        self.url = parse_url(url)
        self.engine: Engine = create_database_engine(self.url)
        self.dialect = self.engine.dialect.name
        self._executor: ThreadPoolExecutor | None = None
        self.events = EventBus()

    # -- sessions ---------------------------------------------------------------------
    @property
    def is_postgres(self) -> bool:
        """True on PostgreSQL (a schema per seller), False on SQLite (a file per seller)."""
        return self.dialect == "postgresql"

    def schema_map(self, user_id: int = 1) -> dict[str | None, str | None]:
        """The ``schema_translate_map`` of one seller."""
        if not isinstance(user_id, int) or user_id < 1:
            raise ValueError(f"Invalid user id: {user_id}")
        if self.is_postgres:
            return {TENANT: tenant_schema(user_id), PUBLIC: "public"}
        # SQLite: one file per seller profile, both placeholders are the main schema.
        return {TENANT: None, PUBLIC: None}

    def now(self, conn: Connection) -> datetime:
        """The current time by the database's clock (PostgreSQL) or this machine's (SQLite).

        Leases, run-at times and the reaper use it, so that workers on machines whose clocks
        disagree still agree about which lease is alive.
        """
        if self.is_postgres:
            value: datetime = conn.execute(text("SELECT now()")).scalar_one()
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return utcnow()

    def bind(self, user_id: int = 1, *, readonly: bool = False) -> Engine:
        """The engine with the seller's schema mapping (and read-only BEGIN when asked)."""
        options: dict[str, Any] = {"schema_translate_map": self.schema_map(user_id)}
        if readonly:
            options[READONLY_OPTION] = True
        return self.engine.execution_options(**options)

    def session(self, user_id: int = 1, *, readonly: bool = False) -> Session:
        """A new ORM session bound to the seller ``user_id``.

        Objects stay readable after commit (``expire_on_commit=False``) so that they can be
        handed to the window or to handlers without another round trip.
        """
        return Session(bind=self.bind(user_id, readonly=readonly), expire_on_commit=False)

    # -- migrations -------------------------------------------------------------------
    def alembic_config(self) -> Any:
        """An Alembic ``Config`` that points at this database.

        On PostgreSQL one command migrates ``public`` and every seller schema (see
        ``migrations/env.py``); the version table is ``public.alembic_version``.
        """
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(migrations_dir()))
        config.attributes["database"] = self
        return config

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision`` (head by default).

        On PostgreSQL the shared tables and every seller's schema are upgraded together, in
        one transaction: either all of them reach ``revision`` or none changes. A
        database already at :func:`schema_head` is left alone without loading Alembic.
        """
        if revision == "head" and self.at_head():
            log.debug(
                "%s is at head %s", self.url.render_as_string(hide_password=True), schema_head()
            )
            return
        self._alembic("upgrade", revision)

    def at_head(self) -> bool:
        """True when the version table names :func:`schema_head` and nothing else.

        One plain query: no version table yet (a new database), another revision (older,
        or newer than this program) or several rows all answer False, and the caller
        leaves the decision to Alembic.
        """
        head = schema_head()
        if head is None:
            return False
        table = "public.alembic_version" if self.is_postgres else "alembic_version"
        with self.engine.connect() as conn:
            if self.is_postgres:
                found = conn.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar()
            else:
                found = conn.execute(
                    text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :t"),
                    {"t": table},
                ).scalar()
            if found is None:
                return False
            versions = conn.execute(text(f"SELECT version_num FROM {table}")).scalars().all()
        return list(versions) == [head]

    def downgrade(self, revision: str) -> None:
        """Revert the schema (every seller's, on PostgreSQL) to ``revision``.

        Refuses, changing nothing, when any seller's data would be lost.
        """
        self._alembic("downgrade", revision)

    def _alembic(self, direction: str, revision: str) -> None:
        """Run Alembic's ``upgrade`` or ``downgrade``; any failure becomes a MigrationError."""
        from alembic import command

        log.info("%s %s to %s", direction, self.url.render_as_string(hide_password=True), revision)
        run = command.upgrade if direction == "upgrade" else command.downgrade
        try:
            run(self.alembic_config(), revision)
        except MigrationError:
            raise
        except Exception as exc:
            raise MigrationError(f"Database {direction} to {revision} failed: {exc}") from exc

    def current_revision(self) -> str | None:
        """The revision the database stands at, or None before the first migration."""
        with self.engine.connect() as conn:
            return self._revision(conn)

    def _revision(self, conn: Connection) -> str | None:
        from alembic.runtime.migration import MigrationContext

        from app.db.migration_schemas import VERSION_TABLE_SCHEMA

        opts = {"version_table_schema": VERSION_TABLE_SCHEMA} if self.is_postgres else {}
        return MigrationContext.configure(conn, opts=opts).get_current_revision()

    # -- sellers ----------------------------------------------------------------------
    def sellers(self) -> list[int]:
        """The ids of the database's sellers (``[1]`` for a SQLite file), in order."""
        from sqlalchemy import inspect, select

        from app.models.public import Seller

        with self.engine.connect() as conn:
            schema = "public" if self.is_postgres else None
            if not inspect(conn).has_table(Seller.__tablename__, schema=schema):
                raise MigrationError(
                    f"The database has no sellers table (revision {self._revision(conn)}): "
                    "migrate it to head first"
                )
            bound = conn.execution_options(schema_translate_map=self.schema_map())
            return [int(i) for i in bound.execute(select(Seller.id).order_by(Seller.id)).scalars()]

    def add_seller(self, name: str) -> int:
        """Add a seller to a PostgreSQL database and return its id.

        In one transaction: a row of ``public.sellers`` (the next id), the schema
        ``user_<id>``, and every per-seller table at head (``create_all``: all schemas
        share the one revision of ``public.alembic_version``, so the new schema must be
        born at head). Refuses unless the database is at head, and waits for a migration
        in progress to end.
        """
        from alembic.script import ScriptDirectory
        from sqlalchemy import insert

        from app.db.base import Base
        from app.db.errors import ConfigurationError
        from app.db.migration_schemas import lock
        from app.models.public import Seller
        from app.models.public.seller import NAME_MAX_LENGTH

        if not self.is_postgres:
            raise ConfigurationError(
                "One SQLite file holds one seller: use a separate --profile for another seller"
            )
        cleaned = name.strip() if isinstance(name, str) else ""
        if not cleaned or len(cleaned) > NAME_MAX_LENGTH:
            raise ValueError(f"A seller name must have 1 to {NAME_MAX_LENGTH} characters: {name!r}")

        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        tables = [table for table in Base.metadata.sorted_tables if table.schema == TENANT]
        with self.engine.begin() as conn:
            lock(conn)
            revision = self._revision(conn)
            if revision != head:
                raise MigrationError(
                    f"Cannot add a seller: the database is at revision {revision or 'none'}, "
                    f"not at head {head}; migrate it first (Database.migrate() or "
                    "'alembic upgrade head')"
                )
            shared = conn.execution_options(schema_translate_map={PUBLIC: "public"})
            user_id = int(
                shared.execute(
                    insert(Seller).values(name=cleaned, created_at=utcnow()).returning(Seller.id)
                ).scalar_one()
            )
            schema = tenant_schema(user_id)
            taken = conn.execute(
                text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": schema}
            ).first()
            if taken is not None:
                raise MigrationError(
                    f"Cannot add seller {user_id}: schema {schema} already exists without a "
                    "row in public.sellers; drop or rename it first"
                )
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            Base.metadata.create_all(
                conn.execution_options(schema_translate_map=self.schema_map(user_id)),
                tables=tables,
                checkfirst=False,
            )
        log.info("added seller %d (%s) in schema %s", user_id, cleaned, schema)
        return user_id

    # -- executor ---------------------------------------------------------------------
    @property
    def executor(self) -> ThreadPoolExecutor:
        """The thread that runs this process's database work for the event loop."""
        if self._executor is None:
            # SQLite: one writer per process. PostgreSQL: a few connections work in parallel.
            workers = 4 if self.is_postgres else 1
            self._executor = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="marketdesk-db"
            )
        return self._executor

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run blocking database work ``fn(*args, **kwargs)`` off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Stop the executor and close every pooled connection."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"
