"""Importing listings: the listing id, SKU and title/price rules, the seller's review.

Runs on SQLite and PostgreSQL (the ``db`` fixture); the last tests sync through the fake
eBay server.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.accounts import AccountManager
from app.db import Database
from app.marketplace.listing_review import (
    ListingLinkError,
    ListingReview,
    ProductAlreadyListedError,
    unmatched_listings,
)
from app.marketplace.listings import RemoteListing, SyncCounts, reconcile
from app.models import MarketplaceListing, Product
from tests.fakes import FakeEbay
from tests.support.marketplaces import add_product, connect_ebay, run_job


def product(
    db: Database,
    title: str = "Vintage denim jacket",
    price: str = "45.00",
    currency: str = "EUR",
    sku: str | None = None,
) -> int:
    with db.session() as session, session.begin():
        row = Product(title=title, price=Decimal(price), currency=currency, sku=sku, quantity=1)
        session.add(row)
        session.flush()
        return row.id


def remote(
    listing_id: str | None,
    title: str | None = "Vintage denim jacket",
    price: str | None = "45.00",
    currency: str | None = "EUR",
    sku: str | None = None,
    **data: object,
) -> RemoteListing:
    return RemoteListing(
        listing_id=listing_id,
        sku=sku,
        title=title,
        price=Decimal(price) if price is not None else None,
        currency=currency,
        quantity=1,
        url=f"https://market.example/{listing_id}" if listing_id else None,
        data=dict(data),
    )


def sync(
    db: Database, remotes: list[RemoteListing], marketplace: str = "vinted", complete: bool = True
) -> SyncCounts:
    with db.session() as session, session.begin():
        return reconcile(session, marketplace, remotes, complete)


def rows(db: Database, marketplace: str = "vinted") -> dict[str, MarketplaceListing]:
    """The marketplace's rows by listing id (or SKU for rows without one)."""
    with db.session(readonly=True) as session:
        found = session.scalars(
            select(MarketplaceListing).where(MarketplaceListing.marketplace == marketplace)
        ).all()
    return {str(row.listing_id or row.sku): row for row in found}


def counts(result: SyncCounts) -> tuple[int, int, int, int]:
    return result.linked, result.unmatched, result.ambiguous, result.matched_by_title


# -- the title/price rule ---------------------------------------------------------------
def test_same_title_and_price_links_and_says_so(db: Database) -> None:
    jacket = product(db)
    result = sync(db, [remote("V1", price="47.00")])
    assert counts(result) == (1, 0, 0, 1)
    row = rows(db)["V1"]
    assert row.product_id == jacket
    assert row.data["matched_by"] == "title"
    assert "candidates" not in row.data


def test_accents_case_and_punctuation_are_folded(db: Database) -> None:
    veste = product(db, "Veste en jean Lévi's — taille M", "30.00")
    nike = product(db, "Nike Air-Max 90 (42)", "80.00")
    sync(
        db,
        [
            remote("V1", "VESTE EN JEAN LEVIS   taille m!!", "30.00"),
            remote("V2", "nike air max 90 42", "80.00"),
        ],
    )
    found = rows(db)
    assert (found["V1"].product_id, found["V2"].product_id) == (veste, nike)


def test_price_outside_ten_percent_or_another_currency_does_not_match(db: Database) -> None:
    product(db, "Wool scarf", "45.00")
    product(db, "Silk scarf", "20.00", currency="GBP")
    edge = product(db, "Linen scarf", "40.00")
    result = sync(
        db,
        [
            remote("V1", "Wool scarf", "50.00"),  # 11 % more
            remote("V2", "Silk scarf", "20.00", currency="EUR"),
            remote("V3", "Linen scarf", "36.00"),  # exactly 10 % less
        ],
    )
    assert counts(result) == (1, 2, 0, 1)
    found = rows(db)
    assert found["V1"].product_id is None and found["V2"].product_id is None
    assert found["V3"].product_id == edge
    assert "candidates" not in found["V1"].data


def test_unknown_currency_or_price(db: Database) -> None:
    belt = product(db, "Leather belt", "15.00", currency="USD")
    bag = product(db, "Canvas bag", "25.00")
    result = sync(
        db,
        [
            remote("V1", "Leather belt", "15.50", currency=None),
            remote("V2", "Canvas bag", price=None),  # title only: the seller confirms
        ],
    )
    assert counts(result) == (1, 1, 1, 1)
    found = rows(db)
    assert found["V1"].product_id == belt
    assert found["V2"].product_id is None and found["V2"].data["candidates"] == [bag]


def test_two_candidates_make_the_listing_ambiguous(db: Database) -> None:
    first = product(db, "Striped shirt", "12.00")
    second = product(db, "striped  shirt", "12.50")
    result = sync(db, [remote("V1", "Striped shirt", "12.00")])
    assert counts(result) == (0, 1, 1, 0)
    row = rows(db)["V1"]
    assert row.product_id is None
    assert row.data["candidates"] == [first, second]


def test_two_listings_for_one_product_are_both_ambiguous(db: Database) -> None:
    cap = product(db, "Baseball cap", "10.00")
    result = sync(
        db, [remote("V1", "Baseball cap", "10.00"), remote("V2", "Baseball cap", "10.50")]
    )
    assert counts(result) == (0, 2, 2, 0)
    assert [row.data["candidates"] for row in rows(db).values()] == [[cap], [cap]]


def test_product_listed_on_that_marketplace_is_not_a_candidate(db: Database) -> None:
    listed = product(db, "Denim skirt", "20.00")
    sync(db, [remote("OLD", "Denim skirt", "20.00")])
    assert rows(db)["OLD"].product_id == listed
    # the same product appears again on Vinted (relisted by hand): not matched twice
    result = sync(db, [remote("OLD", "Denim skirt"), remote("NEW", "Denim skirt", "20.00")])
    assert counts(result) == (1, 1, 0, 0)
    assert rows(db)["NEW"].product_id is None
    # listed on Vinted only: still a candidate on eBay
    sync(db, [remote("E1", "Denim skirt", "20.00")], marketplace="ebay")
    assert rows(db, "ebay")["E1"].product_id == listed


def test_sku_then_title(db: Database) -> None:
    by_sku = product(db, "Something else entirely", sku="SKU-1")
    by_title = product(db, "Vintage denim jacket")
    result = sync(db, [remote("V1", sku="SKU-1"), remote("V2")], marketplace="etsy")
    assert counts(result) == (2, 0, 0, 1)
    found = rows(db, "etsy")
    assert found["V1"].product_id == by_sku and "matched_by" not in found["V1"].data
    assert found["V2"].product_id == by_title


def test_unmatched_listing_is_linked_by_a_later_sync(db: Database) -> None:
    sync(db, [remote("V1", "Corduroy trousers", "18.00", sku="CT-1")], marketplace="etsy")
    assert rows(db, "etsy")["V1"].product_id is None
    trousers = product(db, "Brown trousers", sku="CT-1")
    result = sync(db, [remote("V1", "Corduroy trousers", "18.00", sku="CT-1")], marketplace="etsy")
    assert counts(result) == (1, 0, 0, 0)
    assert rows(db, "etsy")["V1"].product_id == trousers


def test_items_without_listing_id_are_not_duplicated(db: Database) -> None:
    # eBay inventory items without an offer have a SKU but no listing id
    for _ in range(2):
        sync(db, [remote(None, "Unknown lamp", price=None, sku="LAMP-1")], marketplace="ebay")
    assert list(rows(db, "ebay")) == ["LAMP-1"]
    # the item gets an offer and a listing: still the same row
    sync(db, [remote("L-9", "Unknown lamp", sku="LAMP-1")], marketplace="ebay")
    assert list(rows(db, "ebay")) == ["L-9"]


# -- importing twice, and the seller's decisions ----------------------------------------
def test_second_import_duplicates_nothing_and_keeps_decisions(db: Database) -> None:
    jacket = product(db)
    boots = product(db, "Chelsea boots", "60.00")
    product(db, "Chelsea boots", "60.00")
    review = ListingReview(db)
    remotes = [
        remote("V1"),  # title -> jacket
        remote("V2", "Chelsea boots", "60.00"),  # ambiguous
        remote("V3", "Wool coat", "90.00"),  # unmatched, then dismissed
        remote("V4", "Vintage denim jacket", "45.00"),  # second listing of the jacket
    ]
    first = sync(db, remotes)
    assert counts(first) == (0, 4, 3, 0)  # V1 and V4 both claim the jacket
    found = rows(db)
    assert found["V1"].data["candidates"] == [jacket] == found["V4"].data["candidates"]

    review.confirm_match(found["V1"].id, jacket)
    review.confirm_match(found["V2"].id, boots)
    review.dismiss([found["V3"].id])
    review.dismiss([found["V4"].id])
    again = sync(db, remotes)
    assert counts(again) == (2, 2, 0, 0)
    after = rows(db)
    assert len(after) == 4
    assert (after["V1"].product_id, after["V2"].product_id) == (jacket, boots)
    assert after["V3"].data["decided"] == "dismissed" and after["V3"].product_id is None
    assert "candidates" not in after["V4"].data

    # an unlinked listing stays unlinked, though its title still matches
    review.unlink(after["V1"].id)
    third = sync(db, remotes)
    assert counts(third) == (1, 3, 0, 0)
    final = rows(db)
    assert final["V1"].product_id is None and final["V1"].data["decided"] == "unlinked"
    assert len(final) == 4


# -- the review actions -----------------------------------------------------------------
def test_unmatched_listings_with_their_candidates(db: Database) -> None:
    first = product(db, "Striped shirt", "12.00")
    second = product(db, "Striped shirt", "12.00")
    sync(db, [remote("V1", "Striped shirt", "12.00"), remote("V2", "Odd vase", "5.00")])
    sync(db, [remote("E1", "Odd vase", "5.00")], marketplace="ebay")
    with db.session(readonly=True) as session:
        waiting = unmatched_listings(session, "vinted")
        everywhere = unmatched_listings(session)
    assert [(v.listing_id, v.candidates, v.product_text) for v in waiting] == [
        ("V1", (first, second), "ambiguous: 2 candidates"),
        ("V2", (), "unmatched"),
    ]
    assert [v.marketplace for v in everywhere] == ["ebay", "vinted", "vinted"]
    # a candidate that got a Vinted listing meanwhile is no longer offered
    ListingReview(db).confirm_match(waiting[1].id, second)
    with db.session(readonly=True) as session:
        (ambiguous,) = unmatched_listings(session, "vinted")
    assert ambiguous.candidates == (first,)
    assert ambiguous.product_text == "ambiguous: 1 candidate"


def test_confirm_refuses_a_product_listed_there_unless_replaced(db: Database) -> None:
    jacket = product(db)
    sync(db, [remote("V1"), remote("V2", "Old jacket", "45.00")])
    found = rows(db)
    review = ListingReview(db)
    with pytest.raises(ProductAlreadyListedError, match="already linked to listing V1 on Vinted"):
        review.confirm_match(found["V2"].id, jacket)
    with pytest.raises(ListingLinkError, match="already linked to product"):
        review.confirm_match(found["V1"].id, product(db, "Other"))
    review.confirm_match(found["V2"].id, jacket, replace=True)
    after = rows(db)
    assert after["V2"].product_id == jacket and after["V2"].data["decided"] == "linked"
    assert after["V1"].product_id is None and after["V1"].data["decided"] == "unlinked"
    sync(db, [remote("V1"), remote("V2", "Old jacket", "45.00")])
    assert rows(db)["V1"].product_id is None  # the replaced listing is not linked back


def test_import_as_product_creates_and_links(db: Database) -> None:
    product(db, "Taken", sku="USED-1")
    sync(db, [remote("E0", "Taken", sku="USED-1")], marketplace="etsy")
    sync(
        db,
        [
            remote("E0", "Taken", sku="USED-1"),
            remote(
                "V1",
                "  Blue\tdress ",
                "22.50",
                brand="Zara",
                size="S",
                photo_urls=["https://img.example/1.jpg", "not a url"],
            ),
            remote("V2", None, None, currency=None, sku="USED-1"),  # SKU of a listed product
        ],
        marketplace="etsy",
    )
    found = rows(db, "etsy")
    review = ListingReview(db)
    dress = review.import_as_product(found["V1"].id)
    other = review.import_as_product(found["V2"].id)
    with db.session(readonly=True) as session:
        made = session.get_one(Product, dress)
        plain = session.get_one(Product, other)
    assert (made.title, made.price, made.currency, made.quantity) == (
        "Blue dress",
        Decimal("22.50"),
        "EUR",
        1,
    )
    assert (made.brand, made.size, made.photos, made.sku) == (
        "Zara",
        "S",
        ["https://img.example/1.jpg"],
        None,
    )
    assert (plain.title, plain.price, plain.sku) == ("Etsy listing V2", Decimal("0.00"), None)
    after = rows(db, "etsy")
    assert after["V1"].product_id == dress and after["V1"].data["decided"] == "imported"
    with pytest.raises(ListingLinkError):
        review.import_as_product(after["V1"].id)
    with pytest.raises(ListingLinkError):
        review.dismiss([after["V1"].id])


def test_product_choices_put_candidates_first(db: Database) -> None:
    listed = product(db, "Alpha", "12.00")
    plain = product(db, "Beta", "1.00")
    first = product(db, "Striped shirt", "12.00")
    second = product(db, "Striped shirt", "12.00")
    sync(db, [remote("V0", "Alpha", "12.00"), remote("V1", "Striped shirt", "12.00")])
    choices = ListingReview(db).choices(rows(db)["V1"].id)
    assert [(c.id, c.candidate, c.listed) for c in choices] == [
        (first, True, None),
        (second, True, None),
        (plain, False, None),
        (listed, False, "active"),
    ]
    assert choices[0].label == f"#{first} Striped shirt, 12.00 EUR (candidate)"
    assert choices[3].label.endswith("(listed: active)")


# -- through the fake eBay server -------------------------------------------------------
async def test_ebay_sync_links_a_hand_made_listing_by_title(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    # listings the seller made on eBay without Marketdesk (their SKUs mean nothing here)
    for sku, title, price in (
        ("HAND-1", "Vintage Denim Jacket!", "44.00"),
        ("HAND-2", "Leather belt", "15.00"),
    ):
        made = add_product(db, sku=sku, title=title, price=price)
        _, published = await run_job(db, accounts, "ebay", "publish", made)
        assert published["status"] == "completed", published
        with db.session() as session, session.begin():
            for row in session.scalars(select(MarketplaceListing)):
                session.delete(row)
            session.delete(session.get_one(Product, made))
    jacket = add_product(db)  # "Vintage denim jacket", 45.00 USD, no SKU
    belts = [add_product(db, title="Leather belt", price="15.00") for _ in range(2)]

    _, result = await run_job(db, accounts, "ebay", "sync")
    assert result["status"] == "completed", result
    assert result["result"] == {
        "success": True,
        "seen": 2,
        "linked": 1,
        "unmatched": 1,
        "ended": 0,
        "ambiguous": 1,
        "matched_by_title": 1,
    }
    found = rows(db, "ebay")
    by_sku = {row.sku: row for row in found.values()}
    assert by_sku["HAND-1"].product_id == jacket and by_sku["HAND-1"].state == "active"
    assert by_sku["HAND-2"].data["candidates"] == belts

    ListingReview(db).confirm_match(by_sku["HAND-2"].id, belts[1])
    _, again = await run_job(db, accounts, "ebay", "sync")
    assert (again["result"]["linked"], again["result"]["seen"]) == (2, 2)
    after = {row.sku: row for row in rows(db, "ebay").values()}
    assert len(after) == 2 and after["HAND-2"].product_id == belts[1]
