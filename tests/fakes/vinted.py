"""A fake www.vinted.fr: the pages and ``/api/v2`` endpoints the Marketdesk plugin uses.

A real browser opens its pages (which hand out the ``anon_id`` and session cookies and carry
the CSRF meta tag) and calls its API from the page context, as in ``docs/bridge-protocol.md``
("The Vinted side"). Point the plugin's ``vintedOrigin`` at ``FakeVinted.url``. See
:class:`FakeVinted` for the test hooks; the shapes and validation are in ``vinted_rules``.
"""

from __future__ import annotations

import itertools
import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from tests.fakes import vinted_rules as rules
from tests.fakes.base import SECOND_LIMIT, FakeMarketplace
from tests.fakes.vinted_rules import (
    ApiRequest,
    StoredConversation,
    StoredItem,
    StoredOrder,
    StoredPhoto,
    StoredReply,
)
from tests.fakes.vinted_seed import VintedSeeding
from tests.fakes.wire import Request, Response, empty_response, json_response

API = "/api/v2"
ANY_API = r"/api/v2/.*"
ANON_COOKIE = "anon_id"
SESSION_COOKIE = "_vinted_fr_session"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Several cookies in one answer: the base sends one header line per dict key, and header
#: names are case-insensitive, so each ``Set-Cookie`` line gets its own spelling.
_SET_COOKIE_SPELLINGS = ("Set-Cookie", "set-cookie", "SET-COOKIE", "Set-cookie")
_ID = r"(?P<id>\d+)"


@dataclass(frozen=True)
class _Session:
    user_id: int
    csrf_token: str


class FakeVinted(VintedSeeding, FakeMarketplace):
    """www.vinted.fr on loopback, with one seller account (``user_id``/``login``).

    Pages (any GET outside ``/api/``) set ``anon_id`` and, when ``auto_login``, the HttpOnly
    session cookie. API calls need a live session (else 401); POST/PUT also need
    ``x-csrf-token`` = the session's token and ``x-anon-id`` = the ``anon_id`` cookie (else
    403 JSON). Snapshots (copies, taken under ``lock``): ``items``, ``deleted_items``,
    ``photos``, ``orders``, ``conversations``, ``replies``, ``api_requests``,
    ``api_request_times``. Hooks: ``log_out``, ``log_in``, ``add_item``, ``set_item_state``,
    ``sell_item``, ``add_sold_order``, ``add_conversation``, ``item_out``,
    ``rate_limit_next``, ``server_error_next``, ``challenge_next`` and the base's
    ``fail_next``, ``stall_next``, ``calls_to``, ``reset_counters``.
    """

    def __init__(
        self,
        *,
        user_id: int = 4242,
        login: str = "anna_resale",
        auto_login: bool = True,
        currency: str = "EUR",
        latency: float = 0.0,
        requests_per_second: float | None = None,
    ) -> None:
        super().__init__(latency=latency, requests_per_second=requests_per_second)
        self.user_id = user_id
        self.login = login
        self.auto_login = auto_login
        self.currency = currency
        self._sessions: dict[str, _Session] = {}
        self._items: dict[int, StoredItem] = {}
        self._deleted: dict[int, StoredItem] = {}
        self._photos: dict[int, StoredPhoto] = {}
        self._orders: dict[int, StoredOrder] = {}
        self._conversations: dict[int, StoredConversation] = {}
        self._replies: list[StoredReply] = []
        self._api_requests: list[ApiRequest] = []
        self._api_times: list[float] = []
        self._item_ids = itertools.count(5_000_001)
        self._photo_ids = itertools.count(900_001)
        self._order_ids = itertools.count(7_000_001)
        self._conversation_ids = itertools.count(11_000_001)
        self._reply_ids = itertools.count(31)
        self._touches = itertools.count(1)
        self._register_routes()

    def _register_routes(self) -> None:
        self.route("GET", rf"{API}/users/current", self._current_user)
        self.route("POST", rf"{API}/photos", self._upload_photo)
        self.route("POST", rf"{API}/item_upload/items", self._create_item)
        self.route("PUT", rf"{API}/item_upload/items/{_ID}", self._update_item)
        self.route("POST", rf"{API}/items/{_ID}/delete", self._delete_item)
        self.route("GET", rf"{API}/items/{_ID}", self._get_item)
        self.route("GET", rf"{API}/wardrobe/(?P<user>\d+)/items", self._wardrobe)
        self.route("GET", rf"{API}/my_orders", self._my_orders)
        self.route("GET", rf"{API}/inbox", self._inbox)
        self.route("POST", rf"{API}/conversations/{_ID}/replies", self._reply)
        self.route("GET", rf"/photos/{_ID}", self._photo_file, api=False)
        self.route("GET", r"/favicon\.ico", lambda _: empty_response(204), api=False)
        self.route("GET", r"/(?!api/).*", self._page, api=False)

    # -- snapshots ------------------------------------------------------------------------
    @property
    def items(self) -> dict[int, StoredItem]:
        """The seller's items (not deleted), by id."""
        with self.lock:
            return {k: replace(v) for k, v in self._items.items()}

    @property
    def deleted_items(self) -> dict[int, StoredItem]:
        """Items deleted through the API, by id."""
        with self.lock:
            return {k: replace(v) for k, v in self._deleted.items()}

    @property
    def photos(self) -> dict[int, StoredPhoto]:
        """Every photo uploaded (or seeded by ``add_item``), by id."""
        with self.lock:
            return dict(self._photos)

    @property
    def orders(self) -> dict[int, StoredOrder]:
        """Sales, by transaction id."""
        with self.lock:
            return {k: replace(v) for k, v in self._orders.items()}

    @property
    def conversations(self) -> dict[int, StoredConversation]:
        """Conversations of the inbox, by id."""
        with self.lock:
            return {k: replace(v) for k, v in self._conversations.items()}

    @property
    def replies(self) -> list[StoredReply]:
        """Messages posted through the API, oldest first."""
        with self.lock:
            return list(self._replies)

    @property
    def api_requests(self) -> list[ApiRequest]:
        """Every ``/api/`` request, oldest first (injected failures included)."""
        with self.lock:
            return list(self._api_requests)

    @property
    def api_request_times(self) -> list[float]:
        """``time.monotonic()`` of each entry of ``api_requests`` (for pacing checks)."""
        with self.lock:
            return list(self._api_times)

    @property
    def session_count(self) -> int:
        """How many live sessions the fake has handed out."""
        with self.lock:
            return len(self._sessions)

    def item_out(self, item_id: int) -> dict[str, Any]:
        """The VintedItemOut the API answers for an item (deleted ones included)."""
        with self.lock:
            item = self._items.get(item_id) or self._deleted[item_id]
            return rules.item_out(item, self.url)

    # -- hooks ----------------------------------------------------------------------------
    def log_out(self) -> None:
        """End every session and stop logging browsers in (``auto_login = False``)."""
        with self.lock:
            self._sessions.clear()
            self.auto_login = False

    def log_in(self) -> None:
        """Let the next page load log the browser in again (``auto_login = True``)."""
        with self.lock:
            self.auto_login = True

    def rate_limit_next(
        self,
        path_regex: str = ANY_API,
        retry_after: int | None = 900,
        *,
        method: str = "*",
        times: int = 1,
    ) -> None:
        """Answer the next matching requests with 429 (``Retry-After`` unless None)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = rules.vinted_error(429, "Too many requests").body
        self.fail_next(method, path_regex, 429, body, headers, times=times)

    def server_error_next(
        self, path_regex: str = ANY_API, status: int = 500, *, method: str = "*", times: int = 1
    ) -> None:
        """Answer the next matching requests with a 5xx in Vinted's error shape."""
        body = rules.vinted_error(status, "Internal server error", "internal_error").body
        self.fail_next(method, path_regex, status, body, times=times)

    def challenge_next(
        self, path_regex: str = ANY_API, *, method: str = "*", times: int = 1
    ) -> None:
        """Answer the next matching requests with 403 and an HTML captcha page."""
        headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
        self.fail_next(method, path_regex, 403, rules.CHALLENGE_HTML, headers, times=times)

    def reset_counters(self) -> None:
        """Clear the request logs (``calls`` and ``api_requests``) and the rate window."""
        with self.lock:
            super().reset_counters()
            self._api_requests.clear()
            self._api_times.clear()

    # -- base hooks -----------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        """Record ``/api/`` requests (origin, CSRF headers), then answer as the base does."""
        if request.path.startswith("/api/"):
            same_origin = (request.header("Sec-Fetch-Site") or "").lower() == "same-origin"
            with self.lock:
                entry = ApiRequest(
                    request.method.upper(), request.path, same_origin, self._csrf_ok(request)
                )
                self._api_requests.append(entry)
                self._api_times.append(time.monotonic())
        return super().dispatch(request)

    def authorize(self, request: Request) -> Response | None:
        session = self._session_of(request)
        if session is None:
            return rules.not_logged_in()
        if request.method.upper() not in WRITE_METHODS:
            return None
        if request.header("x-csrf-token") != session.csrf_token:
            return rules.vinted_error(403, "Invalid CSRF token", "invalid_csrf_token")
        if not self._anon_ok(request):
            return rules.vinted_error(
                403, "x-anon-id must be the anon_id cookie", "invalid_anon_id"
            )
        return None

    def too_many_requests(self, limit: str) -> Response:
        retry = "1" if limit == SECOND_LIMIT else "900"
        return rules.vinted_error(429, "Too many requests", headers={"Retry-After": retry})

    def error_response(self, status: int, message: str) -> Response:
        return rules.vinted_error(status, message)

    # -- sessions -------------------------------------------------------------------------
    def _session_of(self, request: Request) -> _Session | None:
        return self._sessions.get(rules.cookies(request).get(SESSION_COOKIE) or "")

    def _anon_ok(self, request: Request) -> bool:
        anon = rules.cookies(request).get(ANON_COOKIE)
        return bool(anon) and request.header("x-anon-id") == anon

    def _csrf_ok(self, request: Request) -> bool:
        session = self._session_of(request)
        token = request.header("x-csrf-token")
        return session is not None and token == session.csrf_token and self._anon_ok(request)

    def _page(self, request: Request) -> Response:
        jar = rules.cookies(request)
        set_cookies = []
        if not jar.get(ANON_COOKIE):
            set_cookies.append(rules.set_cookie(ANON_COOKIE, str(uuid.uuid4()), http_only=False))
        sid = jar.get(SESSION_COOKIE)
        session = self._sessions.get(sid or "")
        if session is None and self.auto_login:
            sid = secrets.token_urlsafe(32)
            session = _Session(self.user_id, secrets.token_urlsafe(32))
            self._sessions[sid] = session
            set_cookies.append(rules.set_cookie(SESSION_COOKIE, sid, http_only=True))
        elif session is None and sid:  # a dead session: the browser forgets it
            set_cookies.append(rules.set_cookie(SESSION_COOKIE, "", http_only=True, max_age=0))
        csrf = session.csrf_token if session else secrets.token_urlsafe(32)
        headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
        headers |= dict(zip(_SET_COOKIE_SPELLINGS, set_cookies, strict=False))
        login = self.login if session else None
        return Response(200, rules.html_page(csrf, login, request.path), headers)

    # -- photos ---------------------------------------------------------------------------
    def _store_photo(self, data: bytes, filename: str, content_type: str, temp_uuid: str) -> int:
        photo_id = next(self._photo_ids)
        self._photos[photo_id] = StoredPhoto(photo_id, data, filename, content_type, temp_uuid)
        return photo_id

    def _upload_photo(self, request: Request) -> Response:
        upload, problems = rules.photo_upload(rules.form_parts(request))
        if upload is None:
            return rules.validation_failed(problems)
        file, temp_uuid = upload
        photo_id = self._store_photo(
            file.data, file.filename or "", file.content_type or "", temp_uuid
        )
        return json_response(200, {"id": photo_id, "url": rules.photo_url(self.url, photo_id)})

    def _photo_file(self, request: Request) -> Response:
        photo = self._photos.get(int(request.param("id")))
        if photo is None:
            return rules.not_found("Photo")
        return Response(200, photo.data, {"Content-Type": photo.content_type})

    # -- items ----------------------------------------------------------------------------
    def _item_answer(self, item: StoredItem) -> Response:
        return json_response(200, {"item": rules.item_out(item, self.url)})

    def _create_item(self, request: Request) -> Response:
        body = rules.json_body(request)
        if not isinstance(body, dict):
            return rules.vinted_error(400, "body must be a JSON object")
        session_id = body.get("upload_session_id")
        fields, problems = rules.item_fields(body.get("item"), set(self._photos), self.currency)
        if not isinstance(session_id, str) or not session_id:
            problems.append(rules.problem("upload_session_id", "can't be blank"))
        if fields is None or problems:
            return rules.validation_failed(problems)
        item_id = next(self._item_ids)
        item = StoredItem(item_id, self.user_id, fields, "active", session_id)
        self._items[item_id] = item
        return self._item_answer(item)

    def _update_item(self, request: Request) -> Response:
        body = rules.json_body(request)
        item = self._items.get(int(request.param("id")))
        if item is None:
            return rules.not_found("Item")
        if not isinstance(body, dict):
            return rules.vinted_error(400, "body must be a JSON object")
        sent = body.get("item")
        fields, problems = rules.item_fields(sent, set(self._photos), self.currency)
        if isinstance(sent, dict) and sent.get("id") != item.id:
            problems.append(rules.problem("id", "must be the id of the item in the URL"))
        if item.state == "sold":
            problems.append(rules.problem("base", "a sold item cannot be edited"))
        if fields is None or problems:
            return rules.validation_failed(problems)
        item.fields = fields
        item.updates += 1
        return self._item_answer(item)

    def _delete_item(self, request: Request) -> Response:
        item = self._items.pop(int(request.param("id")), None)
        if item is None:
            return rules.not_found("Item")
        self._deleted[item.id] = item
        return json_response(200, {"code": 0})

    def _get_item(self, request: Request) -> Response:
        item = self._items.get(int(request.param("id")))
        return rules.not_found("Item") if item is None else self._item_answer(item)

    def _wardrobe(self, request: Request) -> Response:
        if int(request.param("user")) != self.user_id:
            return rules.not_found("User")
        paging = rules.paging(request)
        if isinstance(paging, Response):
            return paging
        reverse = request.arg("order") != "oldest_first"
        found = sorted(self._items.values(), key=lambda item: item.id, reverse=reverse)
        entries, pagination = rules.page_of(found, *paging)
        items = [rules.item_out(item, self.url) for item in entries]
        return json_response(200, {"items": items, "pagination": pagination})

    # -- users, orders, inbox -------------------------------------------------------------
    def _current_user(self, request: Request) -> Response:
        return json_response(200, {"user": {"id": self.user_id, "login": self.login}})

    def _my_orders(self, request: Request) -> Response:
        kind, status = request.arg("type") or "sold", request.arg("status") or "all"
        if kind not in ("sold", "purchased"):
            return rules.vinted_error(400, "type must be sold or purchased")
        paging = rules.paging(request)
        if isinstance(paging, Response):
            return paging
        found = sorted(
            (o for o in self._orders.values() if kind == "sold" and status in ("all", o.status)),
            key=lambda order: (order.date, order.transaction_id),
            reverse=True,
        )
        entries, pagination = rules.page_of(found, *paging)
        orders = [rules.order_out(order) for order in entries]
        return json_response(200, {"my_orders": orders, "pagination": pagination})

    def _inbox(self, request: Request) -> Response:
        paging = rules.paging(request)
        if isinstance(paging, Response):
            return paging
        found = sorted(self._conversations.values(), key=lambda c: c.touched, reverse=True)
        entries, pagination = rules.page_of(found, *paging)
        conversations = [rules.conversation_out(c) for c in entries]
        return json_response(200, {"conversations": conversations, "pagination": pagination})

    def _reply(self, request: Request) -> Response:
        body = rules.json_body(request)
        conversation = self._conversations.get(int(request.param("id")))
        if conversation is None:
            return rules.not_found("Conversation")
        reply = body.get("reply") if isinstance(body, dict) else None
        text = reply.get("body") if isinstance(reply, dict) else None
        if not isinstance(text, str) or not text.strip():
            return rules.validation_failed([rules.problem("body", "can't be blank")])
        stored = StoredReply(next(self._reply_ids), conversation.id, text)
        self._replies.append(stored)
        conversation.last_message = text
        conversation.unread = False
        conversation.touched = next(self._touches)
        return json_response(200, {"reply": {"id": stored.id}})


__all__ = ["ANON_COOKIE", "SESSION_COOKIE", "ApiRequest", "FakeVinted"]
