"""The title and price rule of listing imports, without a database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.marketplace.matching import (
    CatalogEntry,
    ListingKey,
    TitleIndex,
    TitleMatch,
    match_titles,
    normalize_title,
    price_close,
    same_currency,
)


@pytest.mark.parametrize(
    ("title", "normalized"),
    [
        ("Vintage denim jacket", "vintage denim jacket"),
        ("  VINTAGE   Denim\tJacket!! ", "vintage denim jacket"),
        ("Veste en jean Lévi's — taille M", "veste en jean levis taille m"),
        ("Levi\u2019s 501 (W32/L34)", "levis 501 w32 l34"),
        ("Straße_Schuhe", "strasse schuhe"),
        ("Crème brûlée mug", "creme brulee mug"),
        ("", ""),
        (None, ""),
        ("!!!", ""),
    ],
)
def test_normalize_title(title: str | None, normalized: str) -> None:
    assert normalize_title(title) == normalized


def test_price_and_currency() -> None:
    assert price_close(Decimal("49.50"), Decimal("45.00"))
    assert price_close(Decimal("40.50"), Decimal("45.00"))
    assert not price_close(Decimal("49.51"), Decimal("45.00"))
    assert price_close(Decimal("0"), Decimal("0")) and not price_close(Decimal("1"), Decimal(0))
    assert same_currency("eur", "EUR") and same_currency(None, "USD")
    assert not same_currency("GBP", "EUR")


def test_one_to_one_links_the_rest_is_for_the_seller() -> None:
    index = TitleIndex(
        [
            CatalogEntry(1, "Denim jacket", Decimal("45"), "EUR"),
            CatalogEntry(2, "Boots", Decimal("60"), "EUR"),
            CatalogEntry(3, "boots", Decimal("62"), "EUR"),
            CatalogEntry(4, "Cap", Decimal("10"), "EUR"),
            CatalogEntry(5, "", Decimal("10"), "EUR"),
        ]
    )
    answers = match_titles(
        [
            ListingKey("denim JACKET", Decimal("44"), "EUR"),
            ListingKey("Boots", Decimal("61"), None),
            ListingKey("Cap", Decimal("10"), "EUR"),
            ListingKey("cap!", Decimal("10.50"), "EUR"),
            ListingKey("Denim jacket", Decimal("44"), "USD"),
            ListingKey("", Decimal("10"), "EUR"),
        ],
        index,
    )
    assert answers == [
        TitleMatch(product_id=1),
        TitleMatch(candidates=(2, 3)),
        TitleMatch(candidates=(4,)),
        TitleMatch(candidates=(4,)),
        TitleMatch(),
        TitleMatch(),
    ]
    assert [a.ambiguous for a in answers] == [False, True, True, True, False, False]


def test_a_listing_without_price_is_never_linked_by_title() -> None:
    index = TitleIndex([CatalogEntry(1, "Lamp", Decimal("30"), "EUR")])
    (answer,) = match_titles([ListingKey("Lamp", None, None)], index)
    assert answer == TitleMatch(candidates=(1,))
