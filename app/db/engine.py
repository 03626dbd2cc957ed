"""Engine construction with the per-backend settings Marketdesk relies on.

SQLite: WAL, ``busy_timeout``, foreign keys, and every write transaction opened with
``BEGIN IMMEDIATE`` so that concurrent writers wait for the lock instead of failing at
once with SQLITE_BUSY (Python's driver is put in autocommit mode and SQLAlchemy's
``begin`` event issues the BEGIN itself). Read-only sessions use a plain deferred BEGIN.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from app.db.errors import ConfigurationError

log = logging.getLogger("marketdesk.db")

READONLY_OPTION = "marketdesk_readonly"
BUSY_TIMEOUT_MS = 30_000
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def parse_url(url: str | URL) -> URL:
    """Parse a database URL, with a clear message when it is malformed or unsupported."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"Invalid database URL {str(url)!r}: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigurationError(
            f"Unsupported database {backend!r}: Marketdesk runs on SQLite (the default) or "
            "PostgreSQL (postgresql+psycopg://user@host/database)"
        )
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise ConfigurationError(
            f"Unsupported PostgreSQL driver {parsed.get_driver_name()!r}: use "
            "postgresql+psycopg://... (psycopg 3)"
        )
    return parsed


def create_sqlite_engine(
    url: URL, *, foreign_keys: bool = True, synchronous: str = "NORMAL"
) -> Engine:
    """A SQLite engine with WAL, busy timeout, foreign keys and ``BEGIN IMMEDIATE`` writes.

    ``synchronous=NORMAL`` in WAL mode survives a crash of the program (not of the OS
    power supply) and is the durability setting the benchmarks compare at.
    """
    if url.database in (None, "", ":memory:"):
        raise ConfigurationError(
            "An in-memory SQLite database cannot be shared by the workers; give a file path"
        )
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("SQLite refused WAL mode (journal_mode=%s)", mode)
            cur.execute(f"PRAGMA synchronous = {synchronous}")
            cur.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get(READONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def create_postgres_engine(url: URL) -> Engine:
    """A PostgreSQL engine (psycopg 3, synchronous: it runs in the database executor).

    Sessions use READ COMMITTED; claims take rows with ``FOR UPDATE SKIP LOCKED``.
    """
    engine = create_engine(
        url,
        pool_size=8,
        max_overflow=8,
        pool_pre_ping=True,
        connect_args={"application_name": "marketdesk", "connect_timeout": 10},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()

    return engine


def create_database_engine(url: str | URL, *, foreign_keys: bool = True) -> Engine:
    """Create the engine for ``url`` (SQLite or PostgreSQL)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_postgres_engine(parsed)
    return create_sqlite_engine(parsed, foreign_keys=foreign_keys)
