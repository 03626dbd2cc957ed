"""Database access: engines, per-seller sessions, migrations (SQLite embedded by default).

The names below are loaded on first use (PEP 562), so that importing a light part of the
package (:mod:`app.db.location`, :mod:`app.db.errors`) does not load SQLAlchemy: the
window is on screen before the database layer is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.lazy import lazy_exports

if TYPE_CHECKING:
    from app.db.base import PUBLIC, TENANT, Base, UTCDateTime, utcnow
    from app.db.database import Database
    from app.db.errors import ConfigurationError, DatabaseError, MigrationError
    from app.db.location import ENV_DB_URL, resolve_database_url

__all__ = [
    "ENV_DB_URL",
    "PUBLIC",
    "TENANT",
    "Base",
    "ConfigurationError",
    "Database",
    "DatabaseError",
    "MigrationError",
    "UTCDateTime",
    "resolve_database_url",
    "utcnow",
]

_HOMES = {
    "PUBLIC": "app.db.base",
    "TENANT": "app.db.base",
    "Base": "app.db.base",
    "UTCDateTime": "app.db.base",
    "utcnow": "app.db.base",
    "Database": "app.db.database",
    "ConfigurationError": "app.db.errors",
    "DatabaseError": "app.db.errors",
    "MigrationError": "app.db.errors",
    "ENV_DB_URL": "app.db.location",
    "resolve_database_url": "app.db.location",
}


__getattr__ = lazy_exports(__name__, _HOMES)
