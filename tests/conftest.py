"""Shared fixtures: databases, products, scripted handlers, fake marketplaces, accounts."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path

import keyring
import pytest

from app.accounts import AccountManager
from app.db import Database
from app.marketplace.base_handler import BaseJobHandler
from app.models import Product
from app.secret_store import KeyringSecretStore
from tests.fakes import FakeEbay, FakeEtsy
from tests.support.handlers import ScriptedHandler, scripted_registry
from tests.support.keyring import MemoryKeyring
from tests.support.pg import PostgresCluster, start_cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A private PostgreSQL server for the whole run (a failure to start fails the tests)."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()


_databases = itertools.count(1)


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster) -> str:
    """URL of a new, empty PostgreSQL database on the private server."""
    return pg_cluster.create_database(f"marketdesk_test_{next(_databases)}")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of the test's SQLite file."""
    return tmp_path / "marketdesk.sqlite3"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each behavioural test runs on the embedded SQLite and on a PostgreSQL server."""
    return str(request.param)


@pytest.fixture
def db(request: pytest.FixtureRequest, backend: str, db_path: Path) -> Iterator[Database]:
    """A database migrated to head, on the test's backend."""
    url = (
        str(request.getfixturevalue("pg_url")) if backend == "postgres" else f"sqlite:///{db_path}"
    )
    database = Database(url)
    database.migrate()
    yield database
    database.close()


@pytest.fixture
def sqlite_db(db_path: Path) -> Iterator[Database]:
    """A SQLite database migrated to head (for tests of SQLite's own settings)."""
    database = Database(f"sqlite:///{db_path}")
    database.migrate()
    yield database
    database.close()


@pytest.fixture
def make_products(db: Database) -> Callable[[int], list[int]]:
    """Create ``n`` products and return their ids."""

    def make(n: int = 1) -> list[int]:
        with db.session() as session, session.begin():
            products = [Product(title=f"Item {i}", price=Decimal("9.99")) for i in range(n)]
            session.add_all(products)
            session.flush()
            return [p.id for p in products]

    return make


@pytest.fixture
def handlers() -> Iterator[dict[str, type[BaseJobHandler]]]:
    """The scripted test handlers for every action; resets their record."""
    ScriptedHandler.started.clear()
    yield scripted_registry()
    ScriptedHandler.started.clear()


@pytest.fixture
def fake_ebay() -> Iterator[FakeEbay]:
    """A fake eBay API server on loopback."""
    with FakeEbay() as fake:
        yield fake
    assert not fake.server_errors, fake.server_errors


@pytest.fixture
def fake_etsy() -> Iterator[FakeEtsy]:
    """A fake Etsy API server on loopback."""
    with FakeEtsy() as fake:
        yield fake
    assert not fake.server_errors, fake.server_errors


@pytest.fixture(autouse=True)
def keyring_backend() -> Iterator[MemoryKeyring]:
    """The test keyring (in memory), also installed as ``keyring``'s backend so that no
    test ever reads or writes the keyring of the machine it runs on."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def secrets(keyring_backend: MemoryKeyring) -> KeyringSecretStore:
    """The secret store over the test keyring."""
    return KeyringSecretStore(keyring_backend)


@pytest.fixture
async def accounts(db: Database, secrets: KeyringSecretStore) -> AsyncIterator[AccountManager]:
    """The seller's marketplace accounts (nothing set up yet); short HTTP timeouts."""
    manager = AccountManager(db, secrets, timeout=2.0)
    yield manager
    await manager.aclose()
