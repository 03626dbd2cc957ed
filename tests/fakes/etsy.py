"""A fake Etsy Open API v3: OAuth with PKCE, listings, images, inventory, receipts.

One server plays ``www.etsy.com`` (``/oauth/connect``) and ``api.etsy.com`` (``/v3/...``):
point both base URLs at ``FakeEtsy.url``. See :class:`FakeEtsy` for the test hooks.
"""

from __future__ import annotations

import copy
import itertools
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes import etsy_rules as rules
from tests.fakes.base import FakeMarketplace
from tests.fakes.tokens import TokenStore, bearer_token, pkce_challenge
from tests.fakes.wire import Request, Response, empty_response, json_response, redirect

ACCESS_LIFETIME = 3600
CODE_LIFETIME = 300
NOMINAL_PER_SECOND = 10  # reported in x-limit-per-second when requests_per_second is None
NOMINAL_PER_DAY = 10000  # reported in x-limit-per-day when daily_quota is None
APP = "/v3/application"
_SHOP = r"(?P<shop>\d+)"
_LISTING = r"(?P<listing>\d+)"


class FakeEtsy(FakeMarketplace):
    """Etsy on loopback.

    State (live objects, guarded by ``lock``): ``listings`` {listing_id: listing},
    ``images`` {listing_id: [image]}, ``inventories`` {listing_id: inventory},
    ``receipts`` {receipt_id: receipt}, ``redirect_uris``, ``tokens`` (:class:`TokenStore`).
    Counters: ``token_refreshes``, ``pkce_verified``. ``daily_quota`` defaults to 10000.
    Hooks: ``register_redirect_uri``, ``issue_tokens``, ``expire_access_tokens``,
    ``revoke_refresh_tokens``, ``add_receipt``, ``touch_receipt``, ``reset_counters`` and
    the base's ``fail_next``, ``stall_next``, ``calls_to``.
    """

    def __init__(
        self,
        *,
        keystring: str = "testkeystring",
        shared_secret: str = "testsecret",
        user_id: int = 5551234,
        shop_id: int = 7654321,
        shop_name: str = "FakeVintageShop",
        redirect_uris: list[str] | None = None,
        latency: float = 0.0,
        requests_per_second: float | None = None,
        daily_quota: int | None = NOMINAL_PER_DAY,
    ) -> None:
        super().__init__(
            latency=latency, requests_per_second=requests_per_second, daily_quota=daily_quota
        )
        self.keystring = keystring
        self.shared_secret = shared_secret
        self.user_id = user_id
        self.shop_id = shop_id
        self.shop_name = shop_name
        self.redirect_uris: list[str] = list(redirect_uris or [])
        self.tokens = TokenStore()
        self.listings: dict[int, dict[str, Any]] = {}
        self.images: dict[int, list[dict[str, Any]]] = {}
        self.inventories: dict[int, dict[str, Any]] = {}
        self.receipts: dict[int, dict[str, Any]] = {}
        self.token_refreshes = 0
        self.pkce_verified = 0
        self._ids = itertools.count(1)
        self._register_routes()

    def _register_routes(self) -> None:
        self.route("GET", r"/oauth/connect", self._connect, api=False)
        self.route("POST", r"/v3/public/oauth/token", self._token, api=False)
        self.route("GET", rf"{APP}/users/me", self._me)
        self.route("GET", rf"{APP}/shops/{_SHOP}", self._shop)
        shop_listings = rf"{APP}/shops/{_SHOP}/listings"
        self.route("POST", shop_listings, self._create_listing)
        self.route("GET", shop_listings, self._list_listings)
        self.route("PATCH", rf"{shop_listings}/{_LISTING}", self._update_listing)
        self.route("POST", rf"{shop_listings}/{_LISTING}/images", self._upload_image)
        self.route("GET", rf"{APP}/listings/{_LISTING}/images", self._list_images)
        self.route("GET", rf"{APP}/listings/{_LISTING}", self._get_listing)
        self.route("DELETE", rf"{APP}/listings/{_LISTING}", self._delete_listing)
        self.route("GET", rf"{APP}/listings/{_LISTING}/inventory", self._get_inventory)
        self.route("PUT", rf"{APP}/listings/{_LISTING}/inventory", self._put_inventory)
        self.route("GET", rf"{APP}/shops/{_SHOP}/receipts", self._list_receipts)

    # -- hooks ----------------------------------------------------------------------------
    def register_redirect_uri(self, uri: str) -> None:
        """Register a redirect URI, as in the app's settings on etsy.com/developers."""
        with self.lock:
            if uri not in self.redirect_uris:
                self.redirect_uris.append(uri)

    def issue_tokens(self, expires_in: int = ACCESS_LIFETIME) -> dict[str, Any]:
        """A fresh access + refresh token pair, as the token endpoint returns it."""
        with self.lock:
            return self._token_pair("listings_r listings_w transactions_r", expires_in)

    def reset_counters(self) -> None:
        """Zero the counters, clear the request log and the rate-limit usage."""
        with self.lock:
            super().reset_counters()
            self.token_refreshes = self.pkce_verified = 0

    def add_receipt(
        self,
        listing_id: int,
        quantity: int = 1,
        when: datetime | None = None,
        buyer: str = "Etsy Buyer",
    ) -> int:
        """Record a paid receipt for one listing (its title, first sku and price); returns
        the receipt_id. The listing's quantity is not changed."""
        with self.lock:
            receipt_id = 3_000_000_000 + next(self._ids)
            ids = (receipt_id, 4_000_000_000 + next(self._ids))
            self.receipts[receipt_id] = rules.new_receipt(
                ids, self.listings[listing_id], quantity, rules.epoch(when), buyer
            )
            return receipt_id

    def touch_receipt(
        self, receipt_id: int, when: datetime | None = None, status: str | None = None
    ) -> None:
        """Move a receipt's updated_timestamp (now by default), optionally its status."""
        with self.lock:
            receipt = self.receipts[receipt_id]
            receipt["updated_timestamp"] = rules.epoch(when)
            if status is not None:
                receipt["status"] = status
                receipt["is_shipped"] = status == "completed"

    # -- base hooks -----------------------------------------------------------------------
    def precheck(self, request: Request) -> Response | None:
        key = request.header("x-api-key")
        if key == f"{self.keystring}:{self.shared_secret}":
            return None
        message = "Invalid API key: the x-api-key header must be <keystring>:<shared secret>"
        if key == self.keystring:
            message += " (only the keystring was sent; append ':' and the shared secret)"
        elif key is None:
            message += " (the header is missing)"
        return rules.plain_error(403, message)

    def authorize(self, request: Request) -> Response | None:
        if self.tokens.access_valid(bearer_token(request.header("Authorization"))):
            return None
        return rules.oauth_error(401, "invalid_token", "access token is expired or invalid")

    def decorate(self, request: Request, response: Response) -> Response:
        self._prune_window()
        per_second = self.requests_per_second
        limit_second = f"{per_second:g}" if per_second is not None else str(NOMINAL_PER_SECOND)
        remaining_second = max(0, int(float(limit_second)) - len(self._window))
        per_day = self.daily_quota if self.daily_quota is not None else NOMINAL_PER_DAY
        response.headers |= {
            "x-limit-per-second": limit_second,
            "x-remaining-this-second": str(remaining_second),
            "x-limit-per-day": str(per_day),
            "x-remaining-today": str(max(0, per_day - self.api_calls_today)),
        }
        return response

    # -- OAuth ----------------------------------------------------------------------------
    def _connect(self, request: Request) -> Response:
        redirect_uri = request.arg("redirect_uri") or ""
        if request.arg("client_id") != self.keystring:
            return rules.oauth_error(400, "invalid_request", "unknown client_id")
        if redirect_uri not in self.redirect_uris:
            return rules.oauth_error(
                400, "invalid_request", "redirect_uri is not registered for this application"
            )
        state = request.arg("state")
        problems = []
        if request.arg("response_type") != "code":
            problems.append("response_type must be code")
        if not state:
            problems.append("state is required")
        if not (request.arg("scope") or "").strip():
            problems.append("scope is required")
        if not request.arg("code_challenge"):
            problems.append("code_challenge is required")
        if request.arg("code_challenge_method") != "S256":
            problems.append("code_challenge_method must be S256")
        if problems:
            query = {"error": "invalid_request", "error_description": "; ".join(problems)}
            return redirect(f"{redirect_uri}?{urlencode(query | {'state': state or ''})}")
        code = self.tokens.new_code(
            redirect_uri,
            request.arg("scope") or "",
            CODE_LIFETIME,
            code_challenge=request.arg("code_challenge") or "",
        )
        return redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")

    def _token_pair(self, scope: str, expires_in: int) -> dict[str, Any]:
        prefix = f"{self.user_id}."
        return {
            "access_token": self.tokens.new_access(expires_in, prefix=prefix),
            "token_type": "Bearer",
            "expires_in": expires_in,
            "refresh_token": self.tokens.new_refresh(scope, prefix=prefix),
        }

    def _token(self, request: Request) -> Response:
        form = request.fields()
        grant_type = form.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            return rules.oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r}")
        if form.get("client_id") != self.keystring:
            return rules.oauth_error(400, "invalid_client", "unknown client_id")
        if grant_type == "refresh_token":
            old = str(form.get("refresh_token") or "")
            refresh = self.tokens.refresh.pop(old, None)
            if refresh is None:
                return rules.oauth_error(400, "invalid_grant", "refresh_token is invalid")
            self.token_refreshes += 1
            return json_response(200, self._token_pair(refresh.scope, ACCESS_LIFETIME))
        missing = [k for k in ("code", "redirect_uri", "code_verifier") if not form.get(k)]
        if missing:
            return rules.oauth_error(400, "invalid_request", f"missing {', '.join(missing)}")
        grant = self.tokens.peek_code(str(form["code"]))
        if grant is None:
            return rules.oauth_error(400, "invalid_grant", "code is invalid, used or expired")
        if form["redirect_uri"] != grant.redirect_uri:
            return rules.oauth_error(
                400, "invalid_grant", "redirect_uri does not match the authorization request"
            )
        if pkce_challenge(str(form["code_verifier"])) != grant.code_challenge:
            return rules.oauth_error(
                400, "invalid_grant", "code_verifier does not match the code_challenge"
            )
        grant.used = True
        self.pkce_verified += 1
        return json_response(200, self._token_pair(grant.scope, ACCESS_LIFETIME))

    # -- users and shops ------------------------------------------------------------------
    def _me(self, request: Request) -> Response:
        return json_response(200, {"user_id": self.user_id, "shop_id": self.shop_id})

    def _shop(self, request: Request) -> Response:
        if int(request.param("shop")) != self.shop_id:
            return rules.plain_error(404, "Shop not found")
        return json_response(
            200,
            {
                "shop_id": self.shop_id,
                "shop_name": self.shop_name,
                "user_id": self.user_id,
                "currency_code": "USD",
                "url": f"https://www.etsy.com/shop/{self.shop_name}",
            },
        )

    def _foreign_shop(self, request: Request) -> Response | None:
        shop = int(request.param("shop"))
        if shop == self.shop_id:
            return None
        return rules.plain_error(403, f"Shop {shop} does not belong to the authenticated user")

    # -- listings -------------------------------------------------------------------------
    def _create_listing(self, request: Request) -> Response:
        if (refused := self._foreign_shop(request)) is not None:
            return refused
        fields, problems = rules.create_listing_fields(request.fields())
        if problems:
            return json_response(400, problems)
        listing_id = 1_000_000_000 + next(self._ids)
        listing = rules.new_listing(
            listing_id, self.shop_id, self.user_id, fields, int(time.time())
        )
        self.listings[listing_id] = listing
        self.images[listing_id] = []
        self._set_inventory(
            listing_id,
            [{"sku": "", "offerings": [{"price": fields["price"], "quantity": fields["quantity"],
                                        "is_enabled": True}], "property_values": []}],
        )  # fmt: skip
        return json_response(201, copy.deepcopy(listing))

    def _listing(self, request: Request) -> dict[str, Any] | None:
        return self.listings.get(int(request.param("listing")))

    def _update_listing(self, request: Request) -> Response:
        if (refused := self._foreign_shop(request)) is not None:
            return refused
        listing = self._listing(request)
        if listing is None:
            return rules.plain_error(404, "Listing not found")
        fields, problems = rules.update_listing_fields(request.fields())
        if problems:
            return json_response(400, problems)
        if fields.get("state") == "active" and not self.images[listing["listing_id"]]:
            return rules.plain_error(400, "Cannot activate a listing without images")
        listing |= fields
        listing["updated_timestamp"] = int(time.time())
        return json_response(200, copy.deepcopy(listing))

    def _get_listing(self, request: Request) -> Response:
        listing = self._listing(request)
        if listing is None:
            return rules.plain_error(404, "Listing not found")
        return json_response(200, copy.deepcopy(listing))

    def _delete_listing(self, request: Request) -> Response:
        listing_id = int(request.param("listing"))
        if listing_id not in self.listings:
            return rules.plain_error(404, "Listing not found")
        del self.listings[listing_id]
        self.images.pop(listing_id, None)
        self.inventories.pop(listing_id, None)
        return empty_response(204)

    def _list_listings(self, request: Request) -> Response:
        if (refused := self._foreign_shop(request)) is not None:
            return refused
        paging = rules.page(request)
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        state = request.arg("state") or "active"
        order = request.arg("sort_order") or "desc"
        if state not in rules.LISTED_STATES or order not in (
            "asc",
            "desc",
            "ascending",
            "descending",
        ):
            return json_response(400, [rules.problem("/state", "invalid", "bad state/order")])
        found = sorted(
            (x for x in self.listings.values() if x["state"] == state),
            key=lambda x: (x["created_timestamp"], x["listing_id"]),
            reverse=order.startswith("desc"),
        )
        results = copy.deepcopy(found[offset : offset + limit])
        return json_response(200, {"count": len(found), "results": results})

    # -- images ---------------------------------------------------------------------------
    def _upload_image(self, request: Request) -> Response:
        if (refused := self._foreign_shop(request)) is not None:
            return refused
        listing = self._listing(request)
        if listing is None:
            return rules.plain_error(404, "Listing not found")
        if request.content_type != "multipart/form-data":
            return rules.plain_error(400, "image is required")
        fields, files = request.multipart()
        upload = next((f for f in files if f.name == "image" and f.size > 0), None)
        if upload is None:
            return rules.plain_error(400, "image is required")
        images = self.images[listing["listing_id"]]
        rank = rules.as_int(fields.get("rank")) or len(images) + 1
        image = {
            "listing_id": listing["listing_id"],
            "listing_image_id": 5_000_000_000 + next(self._ids),
            "rank": rank,
            "filename": upload.filename,
            "size": upload.size,
        }
        images.append(image)
        return json_response(201, {k: image[k] for k in ("listing_id", "listing_image_id", "rank")})

    def _list_images(self, request: Request) -> Response:
        listing = self._listing(request)
        if listing is None:
            return rules.plain_error(404, "Listing not found")
        images = copy.deepcopy(self.images[listing["listing_id"]])
        return json_response(200, {"count": len(images), "results": images})

    # -- inventory ------------------------------------------------------------------------
    def _set_inventory(self, listing_id: int, products: list[dict[str, Any]]) -> None:
        inventory = rules.new_inventory(products, lambda: next(self._ids))
        self.inventories[listing_id] = inventory
        self.listings[listing_id] |= rules.inventory_totals(inventory)

    def _get_inventory(self, request: Request) -> Response:
        listing = self._listing(request)
        if listing is None:
            return rules.plain_error(404, "Listing not found")
        return json_response(200, copy.deepcopy(self.inventories[listing["listing_id"]]))

    def _put_inventory(self, request: Request) -> Response:
        listing = self._listing(request)
        if listing is None:
            return rules.plain_error(404, "Listing not found")
        products, problems = rules.inventory_products(request.json())
        if problems:
            return json_response(400, problems)
        self._set_inventory(listing["listing_id"], products)
        listing["updated_timestamp"] = int(time.time())
        return json_response(200, copy.deepcopy(self.inventories[listing["listing_id"]]))

    # -- receipts -------------------------------------------------------------------------
    def _list_receipts(self, request: Request) -> Response:
        if (refused := self._foreign_shop(request)) is not None:
            return refused
        paging = rules.page(request)
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        bounds = []
        for name in ("min_last_modified", "max_last_modified"):
            raw = request.arg(name)
            value = rules.as_int(raw) if raw is not None else None
            if raw is not None and value is None:
                return json_response(
                    400, [rules.problem(f"/{name}", "invalid", f"{name} must be an integer")]
                )
            bounds.append(value)
        low, high = bounds
        found = sorted(
            (
                r
                for r in self.receipts.values()
                if (low is None or r["updated_timestamp"] >= low)
                and (high is None or r["updated_timestamp"] <= high)
            ),
            key=lambda r: (r["updated_timestamp"], r["receipt_id"]),
        )
        results = copy.deepcopy(found[offset : offset + limit])
        return json_response(200, {"count": len(found), "results": results})
