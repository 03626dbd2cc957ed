"""Accounts wired to the fake eBay and Etsy servers, and small helpers for API job tests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from app.accounts import AccountManager
from app.accounts.settings import AccountSettings
from app.db import Database, utcnow
from app.ebay.endpoints import SCOPES as EBAY_SCOPES
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.marketplace.base_handler import PluginTransport
from app.marketplace.tables import jobs
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.product import Product
from app.restapi.tokens import TokenSet
from tests.fakes import FakeEbay, FakeEtsy

EBAY_DEFAULTS = {
    "marketplace_id": "EBAY_US",
    "category_id": "11450",
    "condition": "USED_GOOD",
    "fulfillment_policy_id": "F-1",
    "payment_policy_id": "P-1",
    "return_policy_id": "R-1",
    "merchant_location_key": "home",
}
ETSY_DEFAULTS = {
    "taxonomy_id": 1296,
    "who_made": "someone_else",
    "when_made": "2010_2019",
    "shipping_profile_id": 111,
    "readiness_state_id": 222,
}


def ebay_settings(fake: FakeEbay, **changes: Any) -> AccountSettings:
    """Local-environment eBay settings pointing at ``fake``."""
    values: dict[str, Any] = {
        "marketplace": "ebay",
        "environment": "local",
        "base_url": fake.url,
        "client_id": fake.client_id,
        "redirect": fake.ru_name,
        "defaults": dict(EBAY_DEFAULTS),
        **changes,
    }
    return AccountSettings(**values)


def etsy_settings(
    fake: FakeEtsy, redirect: str = "http://localhost:1/etsy/callback", **changes: Any
) -> AccountSettings:
    """Local-environment Etsy settings pointing at ``fake``."""
    values: dict[str, Any] = {
        "marketplace": "etsy",
        "environment": "local",
        "base_url": fake.url,
        "client_id": fake.keystring,
        "redirect": redirect,
        "defaults": dict(ETSY_DEFAULTS),
        **changes,
    }
    return AccountSettings(**values)


async def connect_ebay(accounts: AccountManager, fake: FakeEbay, **changes: Any) -> None:
    """Set up eBay against ``fake`` and connect it with tokens the fake minted."""
    await accounts.configure(ebay_settings(fake, **changes), secret=fake.client_secret)
    tokens = fake.issue_tokens(scope=" ".join(EBAY_SCOPES))
    await accounts.store_tokens("ebay", TokenSet.from_response(tokens))


async def connect_etsy(accounts: AccountManager, fake: FakeEtsy, **changes: Any) -> None:
    """Set up Etsy against ``fake`` and connect it with tokens the fake minted."""
    await accounts.configure(etsy_settings(fake, **changes), secret=fake.shared_secret)
    await accounts.store_tokens("etsy", TokenSet.from_response(fake.issue_tokens()))


def add_product(db: Database, photos_dir: Path | None = None, **fields: Any) -> int:
    """A catalog product ready to publish (with a photo file when ``photos_dir`` is given)."""
    values: dict[str, Any] = {
        "title": "Vintage denim jacket",
        "description": "Levi's trucker jacket, 1990s, light wash.",
        "price": "45.00",
        "currency": "USD",
        "quantity": 1,
        "brand": "Levi's",
        "size": "M",
        "photos": [],
        **fields,
    }
    if photos_dir is not None and not values["photos"]:
        photo = photos_dir / f"photo-{values['title'][:10].replace(' ', '_')}.jpg"
        photo.write_bytes(b"\xff\xd8\xff\xe0" + b"jpeg" * 64)
        values["photos"] = [str(photo)]
    with db.session() as session, session.begin():
        product = Product(**values)
        session.add(product)
        session.flush()
        return product.id


def make_due(db: Database, job_id: int) -> None:
    """Let a job waiting for its retry time run now."""
    with db.bind().begin() as conn:
        conn.execute(
            update(jobs).where(jobs.c.id == job_id).values(run_at=utcnow() - timedelta(seconds=1))
        )


def job(db: Database, job_id: int) -> MarketplaceJob:
    """The job as stored now."""
    with db.session(readonly=True) as session:
        found = session.get(MarketplaceJob, job_id)
        assert found is not None
        return found


async def run_job(
    db: Database,
    accounts: AccountManager,
    marketplace: str,
    action: str,
    product_id: int | None = None,
    *,
    input_data: dict[str, Any] | None = None,
    photos_dir: Path | None = None,
    plugin: PluginTransport | None = None,
) -> tuple[int, dict[str, Any]]:
    """Create one job and run it through a processor; returns its id and the result."""
    service = MarketplaceJobService(db)
    created = service.create_job(
        marketplace=marketplace, action_code=action, product_id=product_id, input_data=input_data
    )
    processor = MarketplaceJobProcessor(
        db, marketplace=marketplace, accounts=accounts, photos_dir=photos_dir, plugin=plugin
    )
    try:
        result = await processor.process_next_job()
    finally:
        await processor.close()
    assert result is not None
    return created.id, result
