"""Where the database lives: the seller's data directory, ``--data-dir`` or ``MARKETDESK_DB_URL``."""

from __future__ import annotations

import os
import re
from pathlib import Path

from platformdirs import user_data_dir

from app.db.errors import ConfigurationError

ENV_DB_URL = "MARKETDESK_DB_URL"
APP_NAME = "Marketdesk"
DEFAULT_PROFILE = "default"
_PROFILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_data_dir() -> Path:
    """The per-user data directory of the platform (``~/.local/share/Marketdesk`` on Linux)."""
    return Path(user_data_dir(APP_NAME, appauthor=False))


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def resolve_database_url(data_dir: str | Path | None = None, profile: str = DEFAULT_PROFILE) -> str:
    """Choose the database URL.

    An explicit ``data_dir`` (the ``--data-dir`` option) wins, then ``MARKETDESK_DB_URL``,
    then a SQLite file per seller profile in the platform's user data directory.
    """
    if not _PROFILE_RE.match(profile):
        raise ConfigurationError(
            f"Invalid profile name {profile!r}: use letters, digits, '.', '_' or '-'"
        )
    if data_dir is None:
        env_url = os.environ.get(ENV_DB_URL, "").strip()
        if env_url:
            return env_url
        base = default_data_dir()
    else:
        base = Path(data_dir).expanduser()
    if base.exists() and not base.is_dir():
        raise ConfigurationError(f"Data directory {base} exists but is not a directory")
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"Cannot create data directory {base}: {exc.strerror}") from exc
    return sqlite_url(base / f"{profile}.sqlite3")
