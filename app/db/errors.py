"""Exception tree of the database subsystem."""


class DatabaseError(Exception):
    """Base of every error raised by ``app.db``."""


class ConfigurationError(DatabaseError):
    """The database location or URL cannot be used."""


class MigrationError(DatabaseError):
    """A schema migration could not be applied or reverted."""
