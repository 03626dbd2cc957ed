"""``Database.migrate()`` on a database already at head: one query, no Alembic loaded.

Start-up runs ``migrate()`` every time; only the first start after an upgrade needs
Alembic. These tests keep :func:`app.db.database.schema_head` in step with the scripts
and check that anything but exactly head still goes through Alembic.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.db import Database
from app.db.database import schema_head
from app.db.errors import MigrationError

REPO_ROOT = Path(__file__).resolve().parents[2]
BEFORE_HEAD = "20260301_0000"


@pytest.fixture
def db(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Database]:
    """An empty database (not migrated), on the test's backend."""
    if backend == "postgres":
        url = str(request.getfixturevalue("pg_url"))
    else:
        url = f"sqlite:///{tmp_path / 'marketdesk.sqlite3'}"
    database = Database(url)
    yield database
    database.close()


def version_table(db: Database) -> str:
    return "public.alembic_version" if db.is_postgres else "alembic_version"


def test_schema_head_names_alembics_head(db: Database) -> None:
    scripts = ScriptDirectory.from_config(db.alembic_config())
    assert scripts.get_current_head() == schema_head()


def test_a_new_database_is_not_at_head_until_migrated(db: Database) -> None:
    assert not db.at_head()
    db.migrate()
    assert db.at_head()
    assert db.current_revision() == schema_head()


def test_a_database_behind_head_is_upgraded(db: Database) -> None:
    db.migrate(BEFORE_HEAD)
    assert not db.at_head()
    db.migrate()
    assert db.current_revision() == schema_head()
    with db.engine.connect() as conn:  # the head revision's tables exist
        sales = "user_1.sales" if db.is_postgres else "sales"
        assert conn.execute(text(f"SELECT count(*) FROM {sales}")).scalar_one() == 0


def test_an_unknown_revision_still_reaches_alembic_and_is_refused(db: Database) -> None:
    """A database newer than this program is refused by Alembic, as before."""
    db.migrate()
    with db.engine.begin() as conn:
        conn.execute(text(f"UPDATE {version_table(db)} SET version_num = '29990101_0000'"))
    assert not db.at_head()
    with pytest.raises(MigrationError, match="29990101_0000"):
        db.migrate()


def test_opening_a_database_at_head_does_not_load_alembic(sqlite_db: Database) -> None:
    sqlite_db.migrate()
    probe = (
        "import sys\n"
        "from app.db import Database\n"
        f"db = Database({sqlite_db.url.render_as_string(hide_password=False)!r})\n"
        "db.migrate()\n"
        "db.close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
