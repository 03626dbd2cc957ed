"""Database access: engines, per-seller sessions, migrations (SQLite embedded by default)."""

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
