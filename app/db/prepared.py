"""Statements compiled once and run straight on the driver's cursor, for the queue's hot paths.

A statement is still written with SQLAlchemy Core (one source for SQLite and PostgreSQL);
it is compiled once per dialect and schema mapping, and :meth:`Prepared.executemany` skips
SQLAlchemy's per-row machinery. Values still go through the column types' own bind
processors, so what is stored is exactly what the ORM stores; values shared by every row
(``fixed``) are converted once per call instead of once per row.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


class Prepared:
    """One compiled statement with its parameter order and value converters."""

    def __init__(self, conn: Connection, statement: ClauseElement) -> None:
        schema_map = conn.get_execution_options().get("schema_translate_map")
        compiled = cast(
            SQLCompiler,
            statement.compile(
                dialect=conn.dialect,
                schema_translate_map=schema_map,
                render_schema_translate=bool(schema_map),
            ),
        )
        self.sql = compiled.string
        defaults: dict[str, Any] = dict(compiled.construct_params(_check=False))
        self._processors = cast(Mapping[str, Processor], compiled._bind_processors)
        self._positional = bool(compiled.positional)
        self._names: list[str] = (
            list(compiled.positiontup or []) if self._positional else list(defaults)
        )
        # Values written into the statement itself (a literal status, NULL) are constants;
        # bind parameters declared without a value must come with every execution.
        dialect = conn.dialect
        columns = compiled._result_columns
        self._row: Any = namedtuple("Row", [c.keyname for c in columns]) if columns else None
        processors_out = [c.type._cached_result_processor(dialect, None) for c in columns]
        self._result_processors = [(i, p) for i, p in enumerate(processors_out) if p is not None]
        self._constants = {
            name: self._convert(name, value)
            for name, value in defaults.items()
            if not compiled.binds[name].required
        }

    def _convert(self, name: str, value: Any) -> Any:
        processor = self._processors.get(name)
        return processor(value) if processor is not None and value is not None else value

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> list[Any]:
        """Run once inside ``conn``'s transaction; returns its rows as named tuples."""
        merged = self._constants | {k: self._convert(k, v) for k, v in values.items()}
        params = tuple(merged[n] for n in self._names) if self._positional else merged
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, params)
            raw = cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()
        if self._row is None:
            return []
        make = self._row._make
        procs = self._result_processors
        if not procs:
            return [make(row) for row in raw]
        rows = []
        for raw_row in raw:
            fields = list(raw_row)
            for index, process in procs:
                if fields[index] is not None:
                    fields[index] = process(fields[index])
            rows.append(make(fields))
        return rows

    def executemany(
        self, conn: Connection, rows: Sequence[Mapping[str, Any]], fixed: Mapping[str, Any]
    ) -> int:
        """Run once per row inside ``conn``'s transaction; returns the rows changed."""
        shared = {**self._constants, **{k: self._convert(k, v) for k, v in fixed.items()}}
        varying = [name for name in dict.fromkeys(self._names) if name not in shared]
        convert = self._convert
        params: list[Any] = []
        for row in rows:
            values = shared | {name: convert(name, row[name]) for name in varying}
            params.append(tuple(values[n] for n in self._names) if self._positional else values)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(self.sql, params)
            return int(cursor.rowcount)
        finally:
            cursor.close()


class PreparedCache:
    """Prepared statements by (key, dialect, schema mapping), built on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[Hashable, Prepared] = {}

    def get(self, conn: Connection, key: Hashable, build: Callable[[], ClauseElement]) -> Prepared:
        """The prepared statement ``key`` for ``conn``'s dialect and seller schema."""
        schema_map = conn.get_execution_options().get("schema_translate_map") or {}
        full_key = (key, conn.dialect.name, tuple(sorted(schema_map.items(), key=str)))
        prepared = self._items.get(full_key)
        if prepared is None:
            with self._lock:
                prepared = self._items.get(full_key)
                if prepared is None:
                    prepared = self._items[full_key] = Prepared(conn, build())
        return prepared
