"""The database layer: where the file lives, SQLite settings, BEGIN IMMEDIATE, clear errors."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import ENV_DB_URL, ConfigurationError, Database, resolve_database_url
from app.db import location as location_module


def test_location_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(location_module, "default_data_dir", lambda: tmp_path / "platform")
    monkeypatch.delenv(ENV_DB_URL, raising=False)
    assert resolve_database_url() == f"sqlite:///{tmp_path / 'platform' / 'default.sqlite3'}"
    assert resolve_database_url(profile="shop2").endswith("platform/shop2.sqlite3")
    monkeypatch.setenv(ENV_DB_URL, "sqlite:////srv/team.sqlite3")
    assert resolve_database_url() == "sqlite:////srv/team.sqlite3"
    assert (
        resolve_database_url(tmp_path / "explicit")
        == f"sqlite:///{tmp_path / 'explicit' / 'default.sqlite3'}"
    )
    with pytest.raises(ConfigurationError, match="Invalid profile name"):
        resolve_database_url(tmp_path, profile="../etc")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigurationError, match="is not a directory"):
        resolve_database_url(tmp_path / "afile")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x/y", "Unsupported database 'mysql'"),
        ("sqlite://", "in-memory SQLite database cannot be shared"),
        ("not a url", "Invalid database URL"),
    ],
)
def test_bad_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Database(url)


def test_sqlite_settings(sqlite_db: Database) -> None:
    db = sqlite_db
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_writers_wait_for_each_other_instead_of_failing(sqlite_db: Database) -> None:
    """Two read-then-write transactions: BEGIN IMMEDIATE makes the second wait, not fail."""
    db = sqlite_db
    with db.session() as session, session.begin():
        session.execute(text("CREATE TABLE counter (n INTEGER)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(20):
                with db.session() as session, session.begin():
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    time.sleep(0.002)
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session(readonly=True) as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == 80


def test_session_maps_the_seller(sqlite_db: Database) -> None:
    db = sqlite_db
    assert db.schema_map(1) == {"tenant": None, "public": None}
    with pytest.raises(ValueError, match="Invalid user id"):
        db.session(user_id=0)
    assert db.current_revision() is not None
