"""Fixtures shared by the integration tests of one inventory (auto-delist, voided sales)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.accounts import AccountManager
from app.db import Database
from tests.fakes import FakeEbay, FakeEtsy
from tests.support.autodelist import Shop, open_shop


@pytest.fixture
async def shop(
    db: Database,
    accounts: AccountManager,
    fake_ebay: FakeEbay,
    fake_etsy: FakeEtsy,
    tmp_path: Path,
) -> AsyncIterator[Shop]:
    """A product listed on eBay, Etsy and Vinted (see :func:`tests.support.autodelist.open_shop`)."""
    async with open_shop(db, accounts, fake_ebay, fake_etsy, tmp_path) as stage:
        yield stage
