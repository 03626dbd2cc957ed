"""Vinted's rules as the fake applies them: bodies read, items validated, answers shaped.

Everything here is pure (no server state): the records the fake stores, the reading of
request bodies (JSON with exact decimals, ``multipart/form-data`` keeping the file bytes,
cookies), the validation of an item as ``/api/v2/item_upload/items`` does it, and the JSON
shapes of answers and errors of ``docs/bridge-protocol.md`` ("The Vinted side").
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from email.message import Message
from email.parser import HeaderParser
from typing import Any, NamedTuple

from tests.fakes.wire import BadRequestBody, Request, Response, json_response

#: ``status_id`` of each ``condition`` of the protocol's ItemFields.
STATUS_IDS = {
    "new_with_tags": 6,
    "new_without_tags": 1,
    "very_good": 2,
    "good": 3,
    "satisfactory": 4,
}
#: ``package_size_id`` of each package size.
PACKAGE_SIZE_IDS = {"small": 1, "medium": 2, "large": 3}
#: What an item can be; the ``is_*`` flags of VintedItemOut are derived from it.
STATES = ("active", "sold", "reserved", "hidden", "draft")
MIN_TITLE = 5
MIN_PRICE = Decimal(1)
MAX_PRICE = Decimal(100_000)
MAX_PER_PAGE = 96
COOKIE_MAX_AGE = 365 * 24 * 3600
DEFAULT_PER_PAGE = 20

#: The ``code`` of Vinted's error JSON for each status. 100 (401) and 99 (422) are the
#: documented ones; the others are the fake's own choice.
ERROR_CODES = {400: 99, 401: 100, 403: 106, 404: 104, 405: 99, 422: 99, 429: 107, 500: 1}
_MESSAGE_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "too_many_requests",
    500: "internal_error",
}

Problem = dict[str, str]


# -- records ------------------------------------------------------------------------------
class ApiRequest(NamedTuple):
    """One ``/api/`` request as the fake saw it (recorded before any injected failure)."""

    method: str
    path: str
    same_origin: bool  # Sec-Fetch-Site was "same-origin": the call came from a page
    csrf_ok: bool  # x-csrf-token is its session's token and x-anon-id its anon_id cookie


@dataclass(frozen=True)
class StoredPhoto:
    """An uploaded photo: its bytes exactly as received and what the upload said of them."""

    id: int
    data: bytes
    filename: str
    content_type: str
    temp_uuid: str


@dataclass(frozen=True)
class ItemFields:
    """A validated VintedItem (what create and update send)."""

    title: str
    description: str
    price: Decimal
    currency: str
    catalog_id: int
    brand: str | None
    size: str | None
    status_id: int
    package_size_id: int
    photo_ids: tuple[int, ...]


@dataclass
class StoredItem:
    """An item of the seller's wardrobe (``state`` is one of :data:`STATES`)."""

    id: int
    user_id: int
    fields: ItemFields
    state: str = "active"
    upload_session_id: str | None = None
    updates: int = 0


@dataclass
class StoredOrder:
    """A sale (``my_orders?type=sold``)."""

    transaction_id: int
    item_id: int
    title: str
    price: Decimal
    currency: str
    status: str
    date: datetime
    buyer: str


@dataclass
class StoredConversation:
    """A conversation of the inbox."""

    id: int
    description: str
    other_user: str
    last_message: str
    unread: bool
    item_id: int | None
    touched: int = 0


@dataclass(frozen=True)
class StoredReply:
    """A message the seller posted into a conversation."""

    id: int
    conversation_id: int
    body: str


@dataclass(frozen=True)
class FormPart:
    """One part of a ``multipart/form-data`` body (``filename`` is None for a text field)."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)


# -- errors -------------------------------------------------------------------------------
def vinted_error(
    status: int,
    message: str,
    message_code: str | None = None,
    errors: Sequence[Problem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``{"code", "message", "message_code"[, "errors"]}``, Vinted's error shape."""
    body: dict[str, Any] = {
        "code": ERROR_CODES.get(status, 99),
        "message": message,
        "message_code": message_code or _MESSAGE_CODES.get(status, "error"),
    }
    if errors is not None:
        body["errors"] = [dict(problem) for problem in errors]
    return json_response(status, body, headers)


def not_logged_in() -> Response:
    """The 401 of every API call without a valid session cookie."""
    return vinted_error(401, "Not logged in", "invalid_authentication_token")


def validation_failed(errors: Sequence[Problem]) -> Response:
    """The 422 of a refused item, photo or reply."""
    return vinted_error(422, "Validation failed", "validation_error", errors)


def not_found(what: str) -> Response:
    """A 404 in Vinted's shape."""
    return vinted_error(404, f"{what} not found", "not_found")


def problem(field_name: str, message: str) -> Problem:
    """One entry of ``errors``."""
    return {"field": field_name, "value": message}


# -- reading requests ---------------------------------------------------------------------
def cookies(request: Request) -> dict[str, str]:
    """The cookies the browser sent (first value wins, as in a browser's order)."""
    jar: dict[str, str] = {}
    for pair in (request.header("Cookie") or "").split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep and name and name not in jar:
            jar[name] = value
    return jar


def json_body(request: Request) -> Any:
    """The body as JSON (decimals kept exact); BadRequestBody when it is not JSON."""
    if request.content_type != "application/json":
        raise BadRequestBody("Content-Type must be application/json")
    try:
        return json.loads(request.body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequestBody(f"body is not valid JSON: {exc}") from exc


def form_parts(request: Request) -> list[FormPart]:
    """The parts of a ``multipart/form-data`` body, file bytes kept exactly."""
    if request.content_type != "multipart/form-data":
        raise BadRequestBody("Content-Type must be multipart/form-data")
    header = Message()
    header["Content-Type"] = request.header("Content-Type") or ""
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise BadRequestBody("multipart body without a boundary")
    # A delimiter is CRLF "--" boundary; the CRLF before it belongs to the delimiter, not
    # to the content, and the first one may start the body.
    pieces = (b"\r\n" + request.body).split(b"\r\n--" + boundary.encode("latin-1"))
    if len(pieces) < 2 or not pieces[-1].startswith(b"--"):
        raise BadRequestBody("multipart body is not terminated")
    parts = []
    for piece in pieces[1:-1]:
        _, eol, rest = piece.partition(b"\r\n")  # the rest of the delimiter line
        head, sep, content = rest.partition(b"\r\n\r\n")
        if not eol or not sep:
            raise BadRequestBody("multipart part without a header block")
        headers = HeaderParser().parsestr(head.decode("utf-8", errors="replace"))
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise BadRequestBody("multipart part without a name")
        kind = headers.get_content_type() if headers["Content-Type"] else None
        parts.append(FormPart(name, headers.get_filename(), kind, content))
    return parts


def set_cookie(name: str, value: str, *, http_only: bool, max_age: int = COOKIE_MAX_AGE) -> str:
    """A ``Set-Cookie`` value for the whole site (no ``Secure``: the fake speaks plain HTTP)."""
    flags = "; HttpOnly" if http_only else ""
    return f"{name}={value}; Path=/; Max-Age={max_age}; SameSite=Lax{flags}"


def photo_upload(parts: Sequence[FormPart]) -> tuple[tuple[FormPart, str] | None, list[Problem]]:
    """Check a ``POST /api/v2/photos`` form: ``photo[type]=item``, a ``photo[temp_uuid]`` and
    an image in ``photo[file]``. The file part and the temp_uuid, or None and the problems."""
    texts = {p.name: p.data.decode("utf-8", "replace") for p in parts if p.filename is None}
    file = next((p for p in parts if p.name == "photo[file]" and p.filename is not None), None)
    problems = []
    if texts.get("photo[type]") != "item":
        problems.append(problem("type", "must be item"))
    temp_uuid = texts.get("photo[temp_uuid]", "")
    if not temp_uuid:
        problems.append(problem("temp_uuid", "can't be blank"))
    if file is None or not file.data:
        problems.append(problem("file", "can't be blank"))
    elif not (file.content_type or "").startswith("image/"):
        problems.append(problem("file", "must be an image"))
    if file is None or problems:
        return None, problems
    return (file, temp_uuid), []


def paging(request: Request) -> tuple[int, int] | Response:
    """``(page, per_page)`` from the query: page >= 1, per_page clamped to 1..96."""
    numbers = []
    for name, default in (("page", 1), ("per_page", DEFAULT_PER_PAGE)):
        raw = request.arg(name)
        if raw is None or raw == "":
            numbers.append(default)
        elif raw.isdigit() and int(raw) >= 1:
            numbers.append(int(raw))
        else:
            return vinted_error(400, f"{name} must be a positive integer", "bad_request")
    page, per_page = numbers
    return page, min(per_page, MAX_PER_PAGE)


# -- validation ---------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any) -> int | None:
    return int(value) if _is_int(value) and value >= 1 else None


def _price(value: Any) -> tuple[Decimal | None, str | None]:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None, "must be a number"
    price = Decimal(value)
    if not price.is_finite() or price < MIN_PRICE:
        return None, "must be at least 1"
    if price > MAX_PRICE:
        return None, f"must be at most {MAX_PRICE}"
    if price != price.quantize(Decimal("0.01")):
        return None, "must have at most 2 decimals"
    return price, None


def _photo_ids(value: Any, known: set[int], problems: list[Problem]) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        problems.append(problem("assigned_photos", "can't be blank"))
        return ()
    ids = []
    for entry in value:
        photo_id = entry.get("id") if isinstance(entry, dict) else None
        if not _is_int(photo_id):
            problems.append(problem("assigned_photos", "each photo needs an integer id"))
        elif photo_id not in known:
            problems.append(problem("assigned_photos", f"photo {photo_id} does not exist"))
        else:
            ids.append(int(photo_id))
    return tuple(ids)


def item_fields(
    item: Any, known_photos: set[int], currency: str
) -> tuple[ItemFields | None, list[Problem]]:
    """Validate a VintedItem as Vinted does; the fields, or None and every problem found."""
    if not isinstance(item, dict):
        return None, [problem("item", "must be an object")]
    problems: list[Problem] = []
    title = item.get("title")
    if not isinstance(title, str) or len(title.strip()) < MIN_TITLE:
        problems.append(problem("title", f"is too short (minimum is {MIN_TITLE} characters)"))
    description = item.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(problem("description", "can't be blank"))
    price, price_problem = _price(item.get("price"))
    if price_problem is not None:
        problems.append(problem("price", price_problem))
    if item.get("currency") != currency:
        problems.append(problem("currency", f"must be {currency}"))
    catalog_id = _positive_int(item.get("catalog_id"))
    if catalog_id is None:
        problems.append(problem("catalog_id", "must be a catalog id (a positive integer)"))
    texts = {}
    for name in ("brand", "size"):
        value = item.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(problem(name, "must be text or null"))
        texts[name] = value or None
    status_id = _positive_int(item.get("status_id"))
    if status_id not in STATUS_IDS.values():
        problems.append(problem("status_id", "is not included in the list"))
    package_size_id = _positive_int(item.get("package_size_id"))
    if package_size_id not in PACKAGE_SIZE_IDS.values():
        problems.append(problem("package_size_id", "is not included in the list"))
    photo_ids = _photo_ids(item.get("assigned_photos"), known_photos, problems)
    if problems:
        return None, problems
    assert isinstance(title, str) and isinstance(description, str) and price is not None
    assert catalog_id is not None and status_id is not None and package_size_id is not None
    return ItemFields(
        title=title.strip(),
        description=description,
        price=price,
        currency=currency,
        catalog_id=catalog_id,
        brand=texts["brand"],
        size=texts["size"],
        status_id=status_id,
        package_size_id=package_size_id,
        photo_ids=photo_ids,
    ), []


# -- answers ------------------------------------------------------------------------------
def amount_text(value: Decimal) -> str:
    """A price amount as Vinted writes it: ``"12.5"``, ``"12.0"``, ``"19.99"``."""
    text = f"{value:f}"
    if "." not in text:
        return f"{text}.0"
    text = text.rstrip("0")
    return f"{text}0" if text.endswith(".") else text


def money(value: Decimal, currency: str) -> dict[str, str]:
    """``{"amount", "currency_code"}``."""
    return {"amount": amount_text(value), "currency_code": currency}


def slug(title: str) -> str:
    """The URL slug of a title: ``"Robe d'été Zara"`` -> ``"robe-d-ete-zara"``."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-") or "item"


def photo_url(base: str, photo_id: int) -> str:
    """Where the fake serves a photo's bytes."""
    return f"{base}/photos/{photo_id}"


def item_out(item: StoredItem, base: str) -> dict[str, Any]:
    """VintedItemOut, exactly the documented keys."""
    fields = item.fields
    return {
        "id": item.id,
        "title": fields.title,
        "description": fields.description,
        "price": money(fields.price, fields.currency),
        "url": f"{base}/items/{item.id}-{slug(fields.title)}",
        "is_closed": item.state == "sold",
        "is_reserved": item.state == "reserved",
        "is_hidden": item.state == "hidden",
        "is_draft": item.state == "draft",
        "brand_title": fields.brand or "",
        "size_title": fields.size or "",
        "photos": [{"id": pid, "url": photo_url(base, pid)} for pid in fields.photo_ids],
    }


def order_out(order: StoredOrder) -> dict[str, Any]:
    """VintedOrder."""
    return {
        "transaction_id": order.transaction_id,
        "item_id": order.item_id,
        "title": order.title,
        "price": money(order.price, order.currency),
        "status": order.status,
        "date": order.date.isoformat(timespec="seconds"),
        "user": {"login": order.buyer},
    }


def conversation_out(conversation: StoredConversation) -> dict[str, Any]:
    """VintedConversation (``item_id`` only when the conversation is about an item)."""
    out: dict[str, Any] = {
        "id": conversation.id,
        "description": conversation.description,
        "unread": conversation.unread,
        "opposite_user": {"login": conversation.other_user},
        "last_message": {"body": conversation.last_message},
    }
    if conversation.item_id is not None:
        out["item_id"] = conversation.item_id
    return out


def page_of(entries: Sequence[Any], page: int, per_page: int) -> tuple[list[Any], dict[str, int]]:
    """One page of ``entries`` and its ``pagination`` (total_pages is 0 when empty)."""
    start = (page - 1) * per_page
    pagination = {
        "current_page": page,
        "total_pages": math.ceil(len(entries) / per_page),
        "total_entries": len(entries),
        "per_page": per_page,
    }
    return list(entries[start : start + per_page]), pagination


def html_page(csrf_token: str, login: str | None, path: str) -> bytes:
    """The small HTML page every non-API path serves (the plugin reads the csrf meta)."""
    who = f"Logged in as {html.escape(login)}" if login else "Not logged in"
    return (
        '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8">'
        f'<meta name="csrf-token" content="{html.escape(csrf_token)}">'
        "<title>Vinted (fake)</title></head>"
        f'<body data-path="{html.escape(path)}" data-logged-in="{str(bool(login)).lower()}">'
        f'<h1>Vinted</h1><p id="session">{who}</p></body></html>\n'
    ).encode()


#: What a bot-protection wall looks like to a fetch(): 403 and an HTML captcha page (no
#: external resources, so a browser that opens it makes no request outside the fake).
CHALLENGE_HTML = (
    b'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    b"<title>vinted.fr</title></head><body>"
    b'<div id="captcha-container"><h1>Please verify you are a human</h1>'
    b"<p>Access to this page has been denied because we believe you are using automation "
    b"tools to browse the website.</p>"
    b'<form id="captcha-form"><input type="checkbox" id="captcha-checkbox"> '
    b"I am not a robot</form></div></body></html>\n"
)
