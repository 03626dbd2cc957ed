"""The fake eBay and Etsy servers behave like the parts of the real APIs the clients rely on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fakes import FakeEbay, FakeEtsy
from tests.fakes.tokens import pkce_challenge

INV = "/sell/inventory/v1"
ETSY_REDIRECT = "http://localhost:8765/etsy/callback"
ITEM = {
    "product": {"title": "Vintage lamp"},
    "availability": {"shipToLocationAvailability": {"quantity": 2}},
    "condition": "USED_GOOD",
}
OFFER = {
    "sku": "LAMP-1",
    "marketplaceId": "EBAY_US",
    "format": "FIXED_PRICE",
    "categoryId": "112581",
    "pricingSummary": {"price": {"value": "24.50", "currency": "USD"}},
    "availableQuantity": 2,
    "listingPolicies": {
        "fulfillmentPolicyId": "f1",
        "paymentPolicyId": "p1",
        "returnPolicyId": "r1",
    },
    "merchantLocationKey": "home",
}
LISTING = {
    "quantity": "1",
    "title": "Brass candle holder",
    "description": "Solid brass, 1970s.",
    "price": "18.00",
    "who_made": "someone_else",
    "when_made": "1970s",
    "taxonomy_id": "1027",
    "shipping_profile_id": "11",
    "readiness_state_id": "22",
}


@pytest.fixture
def ebay() -> Iterator[FakeEbay]:
    with FakeEbay() as fake:
        yield fake
    assert fake.server_errors == []


@pytest.fixture
def etsy() -> Iterator[FakeEtsy]:
    with FakeEtsy(redirect_uris=[ETSY_REDIRECT]) as fake:
        yield fake
    assert fake.server_errors == []


@pytest.fixture
def ebay_http(ebay: FakeEbay) -> Iterator[httpx.Client]:
    token = ebay.issue_tokens()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Language": "en-US"}
    with httpx.Client(base_url=ebay.url, headers=headers, timeout=5) as client:
        yield client


@pytest.fixture
def etsy_http(etsy: FakeEtsy) -> Iterator[httpx.Client]:
    headers = {
        "x-api-key": "testkeystring:testsecret",
        "Authorization": f"Bearer {etsy.issue_tokens()['access_token']}",
    }
    with httpx.Client(base_url=f"{etsy.url}/v3/application", headers=headers, timeout=5) as c:
        yield c


def _query(location: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(location).query).items()}


def _error_ids(response: httpx.Response) -> list[int]:
    return [e["errorId"] for e in response.json()["errors"]]


def _draft(etsy: FakeEtsy, client: httpx.Client, **extra: Any) -> int:
    response = client.post(f"/shops/{etsy.shop_id}/listings", data=LISTING | extra)
    assert response.status_code == 201, response.text
    return int(response.json()["listing_id"])


# -- OAuth ------------------------------------------------------------------------------
def test_ebay_consent_code_and_refresh(ebay: FakeEbay) -> None:
    with httpx.Client(base_url=ebay.url, timeout=5) as client:
        consent = client.get(
            "/oauth2/authorize",
            params={
                "client_id": "test-client",
                "redirect_uri": ebay.ru_name,
                "response_type": "code",
                "scope": "https://api.ebay.com/oauth/api_scope/sell.inventory",
                "state": "xyz",
            },
        )
        assert consent.status_code == 302
        assert consent.headers["location"].startswith(ebay.accept_url)
        query = _query(consent.headers["location"])
        assert query["state"] == "xyz" and query["expires_in"] == "299"
        form = {"grant_type": "authorization_code", "code": query["code"]}
        form["redirect_uri"] = ebay.ru_name
        token_url = "/identity/v1/oauth2/token"
        assert client.post(token_url, data=form, auth=("test-client", "nope")).status_code == 401
        tokens = client.post(token_url, data=form, auth=("test-client", "test-secret")).json()
        assert tokens["token_type"] == "User Access Token" and tokens["expires_in"] == 7200
        reused = client.post(token_url, data=form, auth=("test-client", "test-secret"))
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"

        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        fresh = client.post(token_url, data=refresh, auth=("test-client", "test-secret"))
        assert fresh.status_code == 200 and "refresh_token" not in fresh.json()
        assert ebay.token_refreshes == 1
        user = client.get(
            "/commerce/identity/v1/user/",
            headers={"Authorization": f"Bearer {fresh.json()['access_token']}"},
        )
        assert user.json()["username"] == "fake_seller"

        ebay.expire_access_tokens()
        expired = client.get("/commerce/identity/v1/user/", headers=user.request.headers)
        assert expired.status_code == 401 and _error_ids(expired) == [1001]
        ebay.revoke_refresh_tokens()
        revoked = client.post(token_url, data=refresh, auth=("test-client", "test-secret"))
        assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"


def test_etsy_pkce_and_refresh_rotation(etsy: FakeEtsy) -> None:
    verifier = "v" * 64
    with httpx.Client(base_url=etsy.url, timeout=5) as client:
        params = {
            "response_type": "code",
            "client_id": "testkeystring",
            "redirect_uri": ETSY_REDIRECT,
            "scope": "listings_r listings_w transactions_r",
            "state": "st8",
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
        unregistered = client.get("/oauth/connect", params=params | {"redirect_uri": "http://x/"})
        assert unregistered.status_code == 400
        plain = client.get("/oauth/connect", params=params | {"code_challenge_method": "plain"})
        assert _query(plain.headers["location"])["error"] == "invalid_request"
        consent = client.get("/oauth/connect", params=params)
        assert consent.status_code == 302
        query = _query(consent.headers["location"])
        assert query["state"] == "st8"
        form = {"grant_type": "authorization_code", "client_id": "testkeystring"}
        form |= {"redirect_uri": ETSY_REDIRECT, "code": query["code"]}
        wrong = client.post("/v3/public/oauth/token", data=form | {"code_verifier": "w" * 64})
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        assert etsy.pkce_verified == 0
        good = client.post("/v3/public/oauth/token", data=form | {"code_verifier": verifier})
        assert good.status_code == 200, good.text
        tokens = good.json()
        assert tokens["access_token"].startswith("5551234.") and tokens["expires_in"] == 3600
        assert etsy.pkce_verified == 1

        refresh = {"grant_type": "refresh_token", "client_id": "testkeystring"}
        rotated = client.post(
            "/v3/public/oauth/token", data=refresh | {"refresh_token": tokens["refresh_token"]}
        )
        assert rotated.json()["refresh_token"] != tokens["refresh_token"]
        stale = client.post(
            "/v3/public/oauth/token", data=refresh | {"refresh_token": tokens["refresh_token"]}
        )
        assert stale.status_code == 400 and etsy.token_refreshes == 1


def test_etsy_api_key_must_include_the_shared_secret(etsy: FakeEtsy) -> None:
    token = etsy.issue_tokens()["access_token"]
    with httpx.Client(base_url=etsy.url, timeout=5) as client:
        only_key = client.get(
            "/v3/application/users/me",
            headers={"x-api-key": "testkeystring", "Authorization": f"Bearer {token}"},
        )
        assert only_key.status_code == 403
        assert "only the keystring" in only_key.json()["error"]
        assert "x-remaining-today" in only_key.headers
        headers = {"x-api-key": "testkeystring:testsecret", "Authorization": "Bearer 5551234.x"}
        bad_token = client.get("/v3/application/users/me", headers=headers)
        assert bad_token.status_code == 401 and bad_token.json()["error"] == "invalid_token"


# -- eBay inventory, offers, orders -------------------------------------------------------
def test_ebay_requires_content_language_and_fields(ebay_http: httpx.Client) -> None:
    no_language = ebay_http.put(
        f"{INV}/inventory_item/LAMP-1", json=ITEM, headers={"Content-Language": ""}
    )
    assert no_language.status_code == 400 and _error_ids(no_language) == [25709]
    incomplete = ebay_http.put(f"{INV}/inventory_item/LAMP-1", json={"condition": "NEW"})
    assert incomplete.status_code == 400
    fields = [e["parameters"][0]["value"] for e in incomplete.json()["errors"]]
    assert fields == ["product.title", "availability.shipToLocationAvailability.quantity"]
    missing = ebay_http.get(f"{INV}/inventory_item/LAMP-1")
    assert missing.status_code == 404 and _error_ids(missing) == [25710]


def test_ebay_publish_flow(ebay: FakeEbay, ebay_http: httpx.Client) -> None:
    assert ebay_http.put(f"{INV}/inventory_item/LAMP-1", json=ITEM).status_code == 204
    created = ebay_http.post(f"{INV}/offer", json=OFFER)
    assert created.status_code == 201
    offer_id = created.json()["offerId"]
    duplicate = ebay_http.post(f"{INV}/offer", json=OFFER)
    assert duplicate.status_code == 400 and _error_ids(duplicate) == [25002]
    assert duplicate.json()["errors"][0]["parameters"] == [{"name": "offerId", "value": offer_id}]

    listing_id = ebay_http.post(f"{INV}/offer/{offer_id}/publish").json()["listingId"]
    assert len(listing_id) == 12 and listing_id.isdigit()
    again = ebay_http.post(f"{INV}/offer/{offer_id}/publish").json()["listingId"]
    assert again == listing_id and ebay.listings_published == 1
    offers = ebay_http.get(f"{INV}/offer", params={"sku": "LAMP-1"}).json()["offers"]
    assert offers[0]["status"] == "PUBLISHED" and offers[0]["listing"]["listingId"] == listing_id
    assert ebay_http.get(f"{INV}/offer").status_code == 400  # sku is required

    withdrawn = ebay_http.post(f"{INV}/offer/{offer_id}/withdraw")
    assert withdrawn.json()["listingId"] == listing_id
    assert ebay.offers[offer_id]["status"] == "UNPUBLISHED"
    assert ebay_http.delete(f"{INV}/inventory_item/LAMP-1").status_code == 204
    assert ebay.offers == {} and ebay.offers_created == 1


def test_ebay_pagination_and_orders(ebay: FakeEbay, ebay_http: httpx.Client) -> None:
    for n in range(3):
        ebay_http.put(f"{INV}/inventory_item/SKU-{n}", json=ITEM)
    first = ebay_http.get(f"{INV}/inventory_item", params={"limit": 2}).json()
    assert first["total"] == 3 and first["size"] == 2
    second = ebay_http.get(first["next"]).json()
    assert [i["sku"] for i in second["inventoryItems"]] == ["SKU-2"] and "next" not in second

    ebay.add_order("SKU-0", when=datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    on_bound = ebay.add_order("SKU-1", 2, "5.00", when=datetime(2026, 1, 1, tzinfo=UTC))
    later = ebay.add_order("SKU-2", when=datetime(2026, 1, 2, tzinfo=UTC))
    query = {"filter": "lastmodifieddate:[2026-01-01T00:00:00.000Z..]", "limit": "1"}
    page = ebay_http.get("/sell/fulfillment/v1/order", params=query).json()
    assert page["total"] == 2 and page["orders"][0]["orderId"] == on_bound
    assert page["orders"][0]["pricingSummary"]["total"]["value"] == "10.00"
    rest = ebay_http.get(page["next"]).json()
    assert [o["orderId"] for o in rest["orders"]] == [later] and "next" not in rest


# -- limits and fault injection ------------------------------------------------------------
def test_ebay_rate_limit_and_daily_quota(ebay: FakeEbay, ebay_http: httpx.Client) -> None:
    ebay.requests_per_second = 2
    answers = [ebay_http.get("/commerce/identity/v1/user/") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "1" and _error_ids(answers[2]) == [2001]

    ebay.requests_per_second = None
    ebay.daily_quota = ebay.api_calls_today
    daily = ebay_http.get("/commerce/identity/v1/user/")
    assert daily.status_code == 429 and _error_ids(daily) == [2001]
    assert "Retry-After" not in daily.headers


def test_etsy_rate_headers_and_limits(etsy: FakeEtsy, etsy_http: httpx.Client) -> None:
    etsy.requests_per_second = 1
    ok = etsy_http.get("/users/me")
    assert ok.status_code == 200 and ok.json() == {"user_id": 5551234, "shop_id": 7654321}
    assert ok.headers["x-limit-per-second"] == "1" and ok.headers["x-remaining-today"] == "9999"
    limited = etsy_http.get("/users/me")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.headers["x-remaining-this-second"] == "0"

    etsy.requests_per_second = None
    etsy.daily_quota = 1
    daily = etsy_http.get("/users/me")
    assert daily.status_code == 429 and daily.json() == {"error": "Too many requests"}
    assert "Retry-After" not in daily.headers and daily.headers["x-remaining-today"] == "0"


def test_fail_next_and_stall_next(ebay: FakeEbay, ebay_http: httpx.Client) -> None:
    ebay.fail_next("PUT", rf"{INV}/inventory_item/.*", 500, {"errors": []}, times=2)
    for _ in range(2):
        assert ebay_http.put(f"{INV}/inventory_item/A", json=ITEM).status_code == 500
    assert ebay.inventory == {}
    assert ebay_http.put(f"{INV}/inventory_item/A", json=ITEM).status_code == 204
    assert ebay.calls_to("PUT", rf"{INV}/inventory_item/A") == 3

    ebay.stall_next("GET", r"/commerce/.*", seconds=3)
    with pytest.raises(httpx.ReadTimeout):
        ebay_http.get("/commerce/identity/v1/user/", timeout=0.2)


# -- Etsy listings, inventory, receipts ---------------------------------------------------
def test_etsy_validation_lists_every_bad_field(etsy: FakeEtsy, etsy_http: httpx.Client) -> None:
    bad = LISTING | {"price": "0", "when_made": "2031"}
    del bad["title"]
    response = etsy_http.post(f"/shops/{etsy.shop_id}/listings", json=bad)
    assert response.status_code == 400
    assert {(p["path"], p["type"]) for p in response.json()} == {
        ("/title", "required"),
        ("/price", "invalid"),
        ("/when_made", "invalid"),
    }
    assert etsy_http.post("/shops/1/listings", data=LISTING).status_code == 403


def test_etsy_draft_needs_an_image_to_go_active(etsy: FakeEtsy, etsy_http: httpx.Client) -> None:
    listing_id = _draft(etsy, etsy_http)
    path = f"/shops/{etsy.shop_id}/listings/{listing_id}"
    refused = etsy_http.patch(path, data={"state": "active"})
    assert refused.status_code == 400
    assert refused.json() == {"error": "Cannot activate a listing without images"}
    assert etsy_http.post(f"{path}/images", data={"rank": "1"}).status_code == 400
    image = etsy_http.post(f"{path}/images", files={"image": ("a.jpg", b"\xff\xd8" * 50)})
    assert image.status_code == 201 and image.json()["rank"] == 1
    assert etsy.images[listing_id][0]["size"] == 100
    active = etsy_http.patch(path, data={"state": "active"})
    assert active.status_code == 200 and active.json()["state"] == "active"
    listed = etsy_http.get(f"/shops/{etsy.shop_id}/listings", params={"state": "active"})
    assert listed.json()["count"] == 1


def test_etsy_inventory_listing_pages_and_receipts(etsy: FakeEtsy, etsy_http: httpx.Client) -> None:
    ids = [_draft(etsy, etsy_http) for _ in range(3)]
    products: dict[str, Any] = {
        "products": [
            {
                "sku": "CANDLE-1",
                "offerings": [{"price": 21.5, "quantity": 4, "is_enabled": True}],
                "property_values": [],
            }
        ]
    }
    put = etsy_http.put(f"/listings/{ids[0]}/inventory", json=products)
    assert put.status_code == 200
    listing = etsy_http.get(f"/listings/{ids[0]}").json()
    assert listing["quantity"] == 4 and listing["skus"] == ["CANDLE-1"]
    assert listing["price"] == {"amount": 2150, "divisor": 100, "currency_code": "USD"}
    products["products"][0]["offerings"][0]["quantity"] = -1
    bad = etsy_http.put(f"/listings/{ids[0]}/inventory", json=products)
    assert bad.json()[0]["path"] == "/products/0/offerings/0/quantity"

    page = etsy_http.get(f"/shops/{etsy.shop_id}/listings", params={"state": "draft", "limit": 2})
    assert page.json()["count"] == 3 and len(page.json()["results"]) == 2

    etsy.add_receipt(ids[0], when=datetime(2026, 1, 1, tzinfo=UTC))
    recent = etsy.add_receipt(ids[0], 2, when=datetime(2026, 2, 1, tzinfo=UTC))
    since = int(datetime(2026, 2, 1, tzinfo=UTC).timestamp())
    receipts = etsy_http.get(
        f"/shops/{etsy.shop_id}/receipts", params={"min_last_modified": since}
    ).json()
    assert receipts["count"] == 1
    receipt = receipts["results"][0]
    assert receipt["receipt_id"] == recent and receipt["grandtotal"]["amount"] == 4300
    assert receipt["transactions"][0]["sku"] == "CANDLE-1"
    assert etsy_http.delete(f"/listings/{ids[0]}").status_code == 204
    assert etsy_http.get(f"/listings/{ids[0]}").status_code == 404
