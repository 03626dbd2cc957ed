"""A fake eBay: OAuth consent and token endpoints, Inventory API, Fulfillment orders.

One server plays both eBay hosts (``auth.ebay.com`` and ``api.ebay.com``): point the client's
auth and API base URLs at ``FakeEbay.url``. See :class:`FakeEbay` for the test hooks.
"""

from __future__ import annotations

import copy
import itertools
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes import ebay_rules as rules
from tests.fakes.base import SECOND_LIMIT, FakeMarketplace
from tests.fakes.tokens import TokenStore, basic_credentials, bearer_token
from tests.fakes.wire import Request, Response, empty_response, json_response, redirect

ACCESS_LIFETIME = 7200
REFRESH_LIFETIME = 47304000
CODE_LIFETIME = 299
INVENTORY = "/sell/inventory/v1"
_SKU = r"(?P<sku>[^/]+)"
_OFFER = r"(?P<offer>[^/]+)"


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})


def _invalid_grant() -> Response:
    return _oauth_error(
        400,
        "invalid_grant",
        "the provided authorization grant code is invalid or was issued to another client",
    )


class FakeEbay(FakeMarketplace):
    """eBay on loopback.

    State (live objects, guarded by ``lock``): ``inventory`` {sku: body as sent},
    ``offers`` {offerId: offer as GET returns it}, ``listings`` {listingId: offerId, live
    listings only}, ``orders`` {orderId: order}, ``tokens`` (:class:`TokenStore`).
    Counters: ``token_refreshes``, ``offers_created``, ``listings_published``,
    ``quantity_updates`` (bulkUpdatePriceQuantity).
    Hooks: ``issue_tokens``, ``expire_access_tokens``, ``revoke_refresh_tokens``,
    ``add_order``, ``touch_order``, ``reset_counters`` and the base's ``fail_next``,
    ``stall_next``, ``calls_to``.
    """

    def __init__(
        self,
        *,
        client_id: str = "test-client",
        client_secret: str = "test-secret",
        ru_name: str = "Test_Seller-TestApp-PRD-abc",
        accept_url: str = "https://marketdesk.invalid/ebay/accepted",
        username: str = "fake_seller",
        user_id: str = "FaKeUsEr01",
        latency: float = 0.0,
        requests_per_second: float | None = None,
        daily_quota: int | None = None,
    ) -> None:
        super().__init__(
            latency=latency, requests_per_second=requests_per_second, daily_quota=daily_quota
        )
        self.client_id = client_id
        self.client_secret = client_secret
        self.ru_name = ru_name
        self.accept_url = accept_url
        self.username = username
        self.user_id = user_id
        self.tokens = TokenStore()
        self.inventory: dict[str, dict[str, Any]] = {}
        self.locales: dict[str, str] = {}
        self.offers: dict[str, dict[str, Any]] = {}
        self.listings: dict[str, str] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self._order_times: dict[str, datetime] = {}
        self.token_refreshes = 0
        self.offers_created = 0
        self.quantity_updates = 0
        self.listings_published = 0
        self._ids = itertools.count(1)
        self._register_routes()

    def _register_routes(self) -> None:
        self.route("GET", r"/oauth2/authorize", self._authorize_page, api=False)
        self.route("POST", r"/identity/v1/oauth2/token", self._token, api=False)
        self.route("GET", r"/commerce/identity/v1/user/?", self._user)
        item = rf"{INVENTORY}/inventory_item/{_SKU}"
        self.route("GET", rf"{INVENTORY}/inventory_item/?", self._list_items)
        self.route("PUT", item, self._put_item)
        self.route("GET", item, self._get_item)
        self.route("DELETE", item, self._delete_item)
        offer = rf"{INVENTORY}/offer/{_OFFER}"
        self.route("POST", rf"{INVENTORY}/offer/?", self._create_offer)
        self.route("GET", rf"{INVENTORY}/offer/?", self._list_offers)
        self.route("PUT", offer, self._update_offer)
        self.route("GET", offer, self._get_offer)
        self.route("DELETE", offer, self._delete_offer)
        self.route("POST", rf"{offer}/publish/?", self._publish)
        self.route("POST", rf"{offer}/withdraw/?", self._withdraw)
        self.route("POST", rf"{INVENTORY}/bulk_update_price_quantity/?", self._price_quantity)
        self.route("GET", r"/sell/fulfillment/v1/order/?", self._list_orders)

    # -- hooks ----------------------------------------------------------------------------
    def issue_tokens(
        self, expires_in: int = ACCESS_LIFETIME, scope: str | None = None
    ) -> dict[str, Any]:
        """A fresh access + refresh token pair, as the authorization-code grant returns it."""
        with self.lock:
            return self._token_pair(scope or " ".join(rules.SELL_SCOPES), expires_in)

    def reset_counters(self) -> None:
        """Zero the counters, clear the request log and the rate-limit usage."""
        with self.lock:
            super().reset_counters()
            self.token_refreshes = self.offers_created = self.listings_published = 0
            self.quantity_updates = 0

    def add_order(
        self,
        sku: str,
        quantity: int = 1,
        price: str = "10.00",
        *,
        currency: str = "USD",
        buyer: str = "buyer1",
        listing_id: str | None = None,
        when: datetime | None = None,
    ) -> str:
        """Record a paid order for ``sku``; returns its orderId. ``listing_id`` defaults to the
        live listing of an offer for that sku, if any."""
        with self.lock:
            number = next(self._ids)
            order_id = f"{number:02d}-{10000 + number:05d}-{20000 + number:05d}"
            moment = rules.utc(when)
            if listing_id is None:
                listing_id = next(
                    (lid for lid, oid in self.listings.items() if self.offers[oid]["sku"] == sku),
                    None,
                )
            title = rules.dig(self.inventory.get(sku), "product.title")
            line: dict[str, Any] = {
                "lineItemId": str(10_000_000_000 + number),
                "sku": sku,
                "title": title if isinstance(title, str) else sku,
                "quantity": quantity,
            }
            if listing_id is not None:
                line["legacyItemId"] = listing_id
            self.orders[order_id] = rules.new_order(
                order_id, line, price=price, currency=currency, buyer=buyer, moment=moment
            )
            self._order_times[order_id] = moment
            return order_id

    def touch_order(
        self, order_id: str, when: datetime | None = None, fulfillment_status: str | None = None
    ) -> None:
        """Move an order's lastModifiedDate (now by default), optionally changing its status."""
        with self.lock:
            moment = rules.utc(when)
            order = self.orders[order_id]
            order["lastModifiedDate"] = rules.iso(moment)
            if fulfillment_status is not None:
                order["orderFulfillmentStatus"] = fulfillment_status
            self._order_times[order_id] = moment

    def cancel_order(self, order_id: str, when: datetime | None = None) -> None:
        """The order is cancelled (and, as eBay does, refunded); its lastModifiedDate moves."""
        with self.lock:
            order = self.orders[order_id]
            order["cancelStatus"] = {
                "cancelState": "CANCELED",
                "cancelRequests": [
                    {"cancelReason": "BUYER_ASKED_CANCEL", "cancelRequestState": "COMPLETED"}
                ],
            }
            order["orderPaymentStatus"] = "FULLY_REFUNDED"
            self.touch_order(order_id, when)

    def refund_order(
        self, order_id: str, when: datetime | None = None, *, partly: bool = False
    ) -> None:
        """The order is refunded (in full, or ``partly``); its lastModifiedDate moves."""
        with self.lock:
            status = "PARTIALLY_REFUNDED" if partly else "FULLY_REFUNDED"
            self.orders[order_id]["orderPaymentStatus"] = status
            self.touch_order(order_id, when)

    # -- base hooks -----------------------------------------------------------------------
    def authorize(self, request: Request) -> Response | None:
        if self.tokens.access_valid(bearer_token(request.header("Authorization"))):
            return None
        return rules.error(
            401,
            1001,
            "Invalid access token",
            domain="OAuth",
            long_message="Invalid access token. Check the value of the Authorization HTTP "
            "request header.",
        )

    def too_many_requests(self, limit: str) -> Response:
        headers = {"Retry-After": "1"} if limit == SECOND_LIMIT else {}
        message = "Too many requests. The request limit has been reached for the resource."
        return rules.error(429, 2001, message, domain="ACCESS", headers=headers)

    def error_response(self, status: int, message: str) -> Response:
        error_id = {404: 2002, 405: 2002, 500: 10000}.get(status, 2004)
        category = "APPLICATION" if status >= 500 else "REQUEST"
        return rules.error(status, error_id, message, domain="API_INVENTORY", category=category)

    # -- OAuth ----------------------------------------------------------------------------
    def _authorize_page(self, request: Request) -> Response:
        problems = []
        if request.arg("client_id") != self.client_id:
            problems.append("unknown client_id")
        if request.arg("redirect_uri") != self.ru_name:
            problems.append("redirect_uri must be the application's RuName")
        if request.arg("response_type") != "code":
            problems.append("response_type must be code")
        scope = (request.arg("scope") or "").strip()
        if not scope:
            problems.append("scope is required")
        if problems:
            return _oauth_error(400, "invalid_request", "; ".join(problems))
        code = self.tokens.new_code(self.ru_name, scope, CODE_LIFETIME, prefix="v^1.1#i^1#c^1#")
        query: dict[str, str] = {}
        if request.arg("state") is not None:
            query["state"] = request.arg("state") or ""
        query |= {"code": code, "expires_in": str(CODE_LIFETIME)}
        return redirect(f"{self.accept_url}?{urlencode(query)}")

    def _token_pair(self, scope: str, expires_in: int) -> dict[str, Any]:
        return {
            "access_token": self.tokens.new_access(expires_in, prefix="v^1.1#i^1#a^1#"),
            "expires_in": expires_in,
            "refresh_token": self.tokens.new_refresh(scope, prefix="v^1.1#i^1#r^1#"),
            "refresh_token_expires_in": REFRESH_LIFETIME,
            "token_type": "User Access Token",
        }

    def _token(self, request: Request) -> Response:
        if basic_credentials(request.header("Authorization")) != (
            self.client_id,
            self.client_secret,
        ):
            return _oauth_error(401, "invalid_client", "client authentication failed")
        form = request.form()
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            if not form.get("code") or not form.get("redirect_uri"):
                return _oauth_error(400, "invalid_request", "code and redirect_uri are required")
            if form["redirect_uri"] != self.ru_name:
                return _invalid_grant()
            grant = self.tokens.take_code(form["code"])
            if grant is None:
                return _invalid_grant()
            return json_response(200, self._token_pair(grant.scope, ACCESS_LIFETIME))
        if grant_type == "refresh_token":
            refresh = self.tokens.refresh.get(form.get("refresh_token") or "")
            if refresh is None:
                return _invalid_grant()
            scope = form.get("scope") or refresh.scope
            if not set(scope.split()) <= set(refresh.scope.split()):
                return _oauth_error(
                    400, "invalid_scope", "the requested scope exceeds the scope granted"
                )
            self.token_refreshes += 1
            access = self.tokens.new_access(ACCESS_LIFETIME, prefix="v^1.1#i^1#a^1#")
            return json_response(
                200,
                {
                    "access_token": access,
                    "expires_in": ACCESS_LIFETIME,
                    "token_type": "User Access Token",
                },
            )
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r}")

    def _user(self, request: Request) -> Response:
        return json_response(200, {"userId": self.user_id, "username": self.username})

    # -- inventory items ------------------------------------------------------------------
    def _put_item(self, request: Request) -> Response:
        if (refused := rules.content_language_error(request)) is not None:
            return refused
        body = request.json()
        if problems := rules.inventory_item_errors(body):
            return rules.errors(400, *problems)
        sku = request.param("sku")
        self.inventory[sku] = body
        self.locales[sku] = (request.header("Content-Language") or "").replace("-", "_")
        return empty_response(204)

    def _item_view(self, sku: str) -> dict[str, Any]:
        return {"sku": sku, "locale": self.locales.get(sku, "en_US")} | copy.deepcopy(
            self.inventory[sku]
        )

    def _get_item(self, request: Request) -> Response:
        sku = request.param("sku")
        if sku not in self.inventory:
            return rules.not_found()
        return json_response(200, self._item_view(sku))

    def _list_items(self, request: Request) -> Response:
        paging = rules.page(request, default=25, maximum=200)
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        skus = list(self.inventory)
        body = self._page_body(request, {}, paging, len(skus))
        body["size"] = len(skus[offset : offset + limit])
        body["inventoryItems"] = [self._item_view(s) for s in skus[offset : offset + limit]]
        return json_response(200, body)

    def _delete_item(self, request: Request) -> Response:
        sku = request.param("sku")
        if sku not in self.inventory:
            return rules.not_found()
        for offer_id in [o for o, offer in self.offers.items() if offer["sku"] == sku]:
            self._end_listing(offer_id)
            del self.offers[offer_id]
        del self.inventory[sku]
        self.locales.pop(sku, None)
        return empty_response(204)

    def _page_body(
        self, request: Request, params: dict[str, str], paging: tuple[int, int], total: int
    ) -> dict[str, Any]:
        limit, offset = paging
        return rules.page_body(
            self.url, request.path, params, limit=limit, offset=offset, total=total
        )

    # -- offers ---------------------------------------------------------------------------
    def _offer_problems(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        if (refused := rules.content_language_error(request)) is not None:
            return {}, refused
        body = request.json()
        if problems := rules.offer_errors(body):
            return {}, rules.errors(400, *problems)
        if body["sku"] not in self.inventory:
            return {}, rules.error(
                400,
                25702,
                f"SKU {body['sku']} is not available in the system.",
                parameters=[{"name": "sku", "value": body["sku"]}],
            )
        return body, None

    def _create_offer(self, request: Request) -> Response:
        body, refused = self._offer_problems(request)
        if refused is not None:
            return refused
        for offer_id, offer in self.offers.items():
            if (offer["sku"], offer["marketplaceId"]) == (body["sku"], body["marketplaceId"]):
                return rules.error(
                    400,
                    25002,
                    "Offer entity already exists.",
                    parameters=[{"name": "offerId", "value": offer_id}],
                )
        offer_id = str(9_000_000_000 + next(self._ids))
        self.offers[offer_id] = body | {"offerId": offer_id, "status": "UNPUBLISHED"}
        self.offers_created += 1
        return json_response(201, {"offerId": offer_id})

    def _update_offer(self, request: Request) -> Response:
        offer_id = request.param("offer")
        current = self.offers.get(offer_id)
        if current is None:
            return rules.offer_not_found()
        body, refused = self._offer_problems(request)
        if refused is not None:
            return refused
        for name in ("sku", "marketplaceId"):
            if body[name] != current[name]:
                return rules.errors(400, rules.field_error(name, "invalid"))
        kept = {k: current[k] for k in ("offerId", "status", "listing") if k in current}
        self.offers[offer_id] = body | kept
        return empty_response(204)

    def _get_offer(self, request: Request) -> Response:
        offer = self.offers.get(request.param("offer"))
        if offer is None:
            return rules.offer_not_found()
        return json_response(200, copy.deepcopy(offer))

    def _list_offers(self, request: Request) -> Response:
        sku = request.arg("sku")
        if not sku:
            return rules.error(400, 25707, "This is an invalid value for a SKU.")
        paging = rules.page(request, default=25, maximum=200)
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        market = request.arg("marketplace_id")
        found = [
            o
            for o in self.offers.values()
            if o["sku"] == sku and (market is None or o["marketplaceId"] == market)
        ]
        params = {"sku": sku} | ({"marketplace_id": market} if market else {})
        body = self._page_body(request, params, paging, len(found))
        body["size"] = len(found[offset : offset + limit])
        body["offers"] = copy.deepcopy(found[offset : offset + limit])
        return json_response(200, body)

    def _delete_offer(self, request: Request) -> Response:
        offer_id = request.param("offer")
        if offer_id not in self.offers:
            return rules.offer_not_found()
        self._end_listing(offer_id)
        del self.offers[offer_id]
        return empty_response(204)

    def _publish(self, request: Request) -> Response:
        offer_id = request.param("offer")
        offer = self.offers.get(offer_id)
        if offer is None:
            return rules.offer_not_found()
        if offer["sku"] not in self.inventory:
            return rules.error(400, 25702, f"SKU {offer['sku']} is not available in the system.")
        if "listing" not in offer:
            listing_id = str(110_000_000_000 + next(self._ids))
            offer["listing"] = {"listingId": listing_id, "listingStatus": "ACTIVE"}
            offer["status"] = "PUBLISHED"
            self.listings[listing_id] = offer_id
            self.listings_published += 1
        return json_response(200, {"listingId": offer["listing"]["listingId"], "warnings": []})

    def _withdraw(self, request: Request) -> Response:
        offer_id = request.param("offer")
        offer = self.offers.get(offer_id)
        if offer is None:
            return rules.offer_not_found()
        if "listing" not in offer:
            return rules.error(400, 25002, "A user error has occurred. The offer is not published.")
        listing_id = offer["listing"]["listingId"]
        self._end_listing(offer_id)
        return json_response(200, {"listingId": listing_id, "warnings": []})

    def _price_quantity(self, request: Request) -> Response:
        """bulkUpdatePriceQuantity: quantities only here; one answer per offer (HTTP 200
        even when an item is refused, as eBay does)."""
        answers = []
        for entry in (request.json() or {}).get("requests") or []:
            sku = entry.get("sku")
            quantity = (entry.get("shipToLocationAvailability") or {}).get("quantity")
            item = self.inventory.get(sku)
            for change in entry.get("offers") or []:
                offer_id = str(change.get("offerId"))
                offer = self.offers.get(offer_id)
                answer: dict[str, Any] = {"offerId": offer_id, "sku": sku}
                if item is None or offer is None or offer.get("sku") != sku:
                    answers.append(
                        answer
                        | {"statusCode": 404, "errors": [rules.field_error("offerId", "invalid")]}
                    )
                    continue
                if offer.get("status") != "PUBLISHED":
                    problem = {"errorId": 25713, "message": "This Offer is not available."}
                    answers.append(answer | {"statusCode": 400, "errors": [problem]})
                    continue
                item.setdefault("availability", {}).setdefault("shipToLocationAvailability", {})[
                    "quantity"
                ] = quantity
                offer["availableQuantity"] = change.get("availableQuantity")
                self.quantity_updates += 1
                answers.append(answer | {"statusCode": 200})
        return json_response(200, {"responses": answers})

    def _end_listing(self, offer_id: str) -> None:
        offer = self.offers[offer_id]
        listing = offer.pop("listing", None)
        if listing is not None:
            self.listings.pop(listing["listingId"], None)
        offer["status"] = "UNPUBLISHED"

    # -- orders ---------------------------------------------------------------------------
    def _list_orders(self, request: Request) -> Response:
        paging = rules.page(request, default=50, maximum=200)
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        raw_filter = request.arg("filter")
        wanted = rules.order_filter(raw_filter)
        if isinstance(wanted, str):
            return rules.error(400, 30700, wanted, domain="API_FULFILLMENT")
        times = self._order_times
        found = sorted(
            (o for o in self.orders if rules.order_matches(self.orders[o], times[o], wanted)),
            key=lambda o: (times[o], o),
        )
        params = {"filter": raw_filter} if raw_filter else {}
        body = self._page_body(request, params, paging, len(found))
        body["orders"] = [copy.deepcopy(self.orders[o]) for o in found[offset : offset + limit]]
        return json_response(200, body)
