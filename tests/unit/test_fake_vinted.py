"""The fake Vinted site behaves like the parts of www.vinted.fr the browser plugin relies on."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.vinted import ANON_COOKIE, SESSION_COOKIE, FakeVinted

API = "/api/v2"
#: Bytes that would break a sloppy multipart parser: CRLFs, dashes, NULs, high bytes.
PHOTO = b"\xff\xd8\xff\xe0JFIF\r\n--\r\n\x00\x01--boundary\r\n\r\n\xfe\xff" * 50


@pytest.fixture
def vinted() -> Iterator[FakeVinted]:
    with FakeVinted() as fake:
        yield fake
    assert fake.server_errors == []


def open_page(client: httpx.Client, path: str = "/") -> str:
    """Load a page like the plugin's tab does; returns its CSRF token."""
    page = client.get(path)
    assert page.status_code == 200
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert match is not None
    return match.group(1)


class Tab:
    """A logged-in Vinted tab: cookies from the page, headers as the plugin sends them."""

    def __init__(self, fake: FakeVinted) -> None:
        self.client = httpx.Client(base_url=fake.url, timeout=5)
        self.csrf = open_page(self.client)

    @property
    def headers(self) -> dict[str, str]:
        return {
            "x-csrf-token": self.csrf,
            "x-anon-id": self.client.cookies[ANON_COOKIE],
            "accept": "application/json",
            "Sec-Fetch-Site": "same-origin",
        }

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(f"{API}{path}", params=params, headers=self.headers)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(f"{API}{path}", headers=self.headers, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.put(f"{API}{path}", headers=self.headers, **kwargs)

    def upload(self, data: bytes = PHOTO, temp_uuid: str = "tmp-1") -> httpx.Response:
        return self.post(
            "/photos",
            data={"photo[type]": "item", "photo[temp_uuid]": temp_uuid},
            files={"photo[file]": ("robe été.jpg", data, "image/jpeg")},
        )


@pytest.fixture
def tab(vinted: FakeVinted) -> Iterator[Tab]:
    tab = Tab(vinted)
    try:
        yield tab
    finally:
        tab.client.close()


def vinted_item(photo_ids: list[int], **changes: Any) -> dict[str, Any]:
    item = {
        "title": "Robe d'été Zara",
        "description": "Portée deux fois.",
        "price": 12.5,
        "currency": "EUR",
        "catalog_id": 1904,
        "brand": "Zara",
        "size": "M",
        "status_id": 2,
        "package_size_id": 1,
        "assigned_photos": [{"id": pid, "orientation": 0} for pid in photo_ids],
    }
    return item | changes


def create(tab: Tab, item: dict[str, Any]) -> httpx.Response:
    body = {"item": item, "feedback_id": None, "push_up": False, "upload_session_id": "tmp-1"}
    return tab.post("/item_upload/items", json=body)


def test_page_sets_cookies_and_the_csrf_meta(vinted: FakeVinted) -> None:
    with httpx.Client(base_url=vinted.url, timeout=5) as client:
        page = client.get("/")
        assert page.headers["content-type"].startswith("text/html")
        cookies = page.headers.get_list("set-cookie")
        anon = next(c for c in cookies if c.startswith(f"{ANON_COOKIE}="))
        session = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
        assert "HttpOnly" not in anon
        assert "HttpOnly" in session and "Path=/" in session
        uuid.UUID(client.cookies[ANON_COOKIE])
        csrf = open_page(client)
        # a known browser keeps its cookies and its session's token, on any page
        again = client.get("/items/123-robe")
        assert again.headers.get_list("set-cookie") == []
        assert open_page(client, "/member/4242") == csrf
        assert vinted.session_count == 1
        me = client.get(f"{API}/users/current")
        assert me.json() == {"user": {"id": 4242, "login": "anna_resale"}}


def test_api_without_a_session_is_401(vinted: FakeVinted) -> None:
    logged_out = {
        "code": 100,
        "message": "Not logged in",
        "message_code": "invalid_authentication_token",
    }
    with httpx.Client(base_url=vinted.url, timeout=5) as client:
        answer = client.get(f"{API}/users/current")
        assert (answer.status_code, answer.json()) == (401, logged_out)
        open_page(client)
        assert client.get(f"{API}/users/current").status_code == 200
        vinted.log_out()
        assert client.get(f"{API}/users/current").status_code == 401
        open_page(client)  # auto_login is now off: the page forgets the dead session
        assert SESSION_COOKIE not in client.cookies
        assert client.get(f"{API}/users/current").status_code == 401
        vinted.log_in()
        open_page(client)
        assert client.get(f"{API}/users/current").status_code == 200


def test_writes_need_the_csrf_token_and_the_anon_id(vinted: FakeVinted, tab: Tab) -> None:
    item_id = vinted.add_item("Jean Levi's 501")
    path = f"{API}/items/{item_id}/delete"
    bare = tab.client.post(path)
    assert bare.status_code == 403
    assert bare.json()["message_code"] == "invalid_csrf_token"
    wrong_anon = tab.client.post(path, headers=tab.headers | {"x-anon-id": "someone-else"})
    assert (wrong_anon.status_code, wrong_anon.json()["message_code"]) == (403, "invalid_anon_id")
    assert item_id in vinted.items
    assert tab.post(f"/items/{item_id}/delete").json() == {"code": 0}
    assert [(r.same_origin, r.csrf_ok) for r in vinted.api_requests] == [
        (False, False),
        (True, False),
        (True, True),
    ]


def test_photo_upload_then_create_item(vinted: FakeVinted, tab: Tab) -> None:
    uploaded = tab.upload()
    assert uploaded.status_code == 200
    photo = uploaded.json()
    assert set(photo) == {"id", "url"}
    stored = vinted.photos[photo["id"]]
    assert (stored.data, stored.filename, stored.content_type) == (
        PHOTO,
        "robe été.jpg",
        "image/jpeg",
    )
    assert stored.temp_uuid == "tmp-1"
    assert tab.client.get(photo["url"]).content == PHOTO

    created = create(tab, vinted_item([photo["id"]]))
    assert created.status_code == 200, created.text
    item = created.json()["item"]
    assert item == {
        "id": item["id"],
        "title": "Robe d'été Zara",
        "description": "Portée deux fois.",
        "price": {"amount": "12.5", "currency_code": "EUR"},
        "url": f"{vinted.url}/items/{item['id']}-robe-d-ete-zara",
        "is_closed": False,
        "is_reserved": False,
        "is_hidden": False,
        "is_draft": False,
        "brand_title": "Zara",
        "size_title": "M",
        "photos": [{"id": photo["id"], "url": photo["url"]}],
    }
    second = create(tab, vinted_item([photo["id"]], title="Pull en laine", brand=None))
    assert second.json()["item"]["id"] == item["id"] + 1
    assert second.json()["item"]["brand_title"] == ""
    assert tab.get(f"/items/{item['id']}").json() == {"item": item}

    updated = tab.put(
        f"/item_upload/items/{item['id']}",
        json={"item": vinted_item([photo["id"]], id=item["id"], price=20)},
    )
    assert updated.json()["item"]["price"] == {"amount": "20.0", "currency_code": "EUR"}
    assert vinted.items[item["id"]].updates == 1


def test_refused_data_is_422_in_vinteds_shape(vinted: FakeVinted, tab: Tab) -> None:
    bad = vinted_item([999], title="Robe", description="", price=0.5, catalog_id="1904")
    answer = create(tab, bad | {"status_id": 5, "package_size_id": 4})
    assert answer.status_code == 422
    body = answer.json()
    assert {k: body[k] for k in ("code", "message", "message_code")} == {
        "code": 99,
        "message": "Validation failed",
        "message_code": "validation_error",
    }
    assert {e["field"] for e in body["errors"]} == {
        "title",
        "description",
        "price",
        "catalog_id",
        "status_id",
        "package_size_id",
        "assigned_photos",
    }
    assert all(set(e) == {"field", "value"} for e in body["errors"])
    text_headers = tab.headers | {"content-type": "text/plain"}
    as_text = tab.client.post(f"{API}/item_upload/items", content=b"{}", headers=text_headers)
    assert (as_text.status_code, as_text.json()["message_code"]) == (400, "bad_request")
    no_photos = create(tab, vinted_item([]))
    assert [e["field"] for e in no_photos.json()["errors"]] == ["assigned_photos"]
    not_an_image = tab.post(
        "/photos",
        data={"photo[type]": "item", "photo[temp_uuid]": "t"},
        files={"photo[file]": ("a.txt", b"hello", "text/plain")},
    )
    assert not_an_image.status_code == 422
    sold = vinted.add_item("Veste en jean", state="sold")
    edit = tab.put(f"/item_upload/items/{sold}", json={"item": vinted_item([], id=sold)})
    assert edit.status_code == 422
    assert list(vinted.items) == [sold]


def test_wardrobe_is_paginated_newest_first(vinted: FakeVinted, tab: Tab) -> None:
    ids = [vinted.add_item(f"Article numéro {n}", n + 1) for n in range(5)]
    vinted.set_item_state(ids[0], "reserved")
    pages = [tab.get("/wardrobe/4242/items", page=p, per_page=2, order="newest_first").json()
             for p in (1, 2, 3)]  # fmt: skip
    assert [[i["id"] for i in page["items"]] for page in pages] == [
        ids[4:2:-1],
        ids[2:0:-1],
        ids[:1],
    ]
    assert pages[0]["pagination"] == {
        "current_page": 1,
        "total_pages": 3,
        "total_entries": 5,
        "per_page": 2,
    }
    assert pages[2]["items"][0]["is_reserved"] is True
    assert tab.get("/wardrobe/4242/items", page=4, per_page=2).json()["items"] == []
    assert tab.get("/wardrobe/1/items").status_code == 404


def test_delete_makes_the_item_gone(vinted: FakeVinted, tab: Tab) -> None:
    item_id = vinted.add_item("Sac à main cuir")
    assert tab.get(f"/items/{item_id}").status_code == 200
    assert tab.post(f"/items/{item_id}/delete").json() == {"code": 0}
    gone = tab.get(f"/items/{item_id}")
    assert (gone.status_code, gone.json()["message_code"]) == (404, "not_found")
    assert tab.post(f"/items/{item_id}/delete").status_code == 404
    assert item_id in vinted.deleted_items and item_id not in vinted.items
    assert tab.get("/wardrobe/4242/items").json()["pagination"]["total_entries"] == 0


def test_orders_inbox_and_replies(vinted: FakeVinted, tab: Tab) -> None:
    item_id = vinted.add_item("Baskets Nike", "35.90")
    transaction = vinted.sell_item(item_id, buyer="lea_b")
    assert tab.get(f"/items/{item_id}").json()["item"]["is_closed"] is True
    orders = tab.get("/my_orders", type="sold", status="all", page=1, per_page=20).json()
    assert orders["my_orders"] == [
        {
            "transaction_id": transaction,
            "item_id": item_id,
            "title": "Baskets Nike",
            "price": {"amount": "35.9", "currency_code": "EUR"},
            "status": "completed",
            "date": vinted.orders[transaction].date.isoformat(timespec="seconds"),
            "user": {"login": "lea_b"},
        }
    ]
    first = vinted.add_conversation("lea_b", "Toujours dispo ?", item_id=item_id)
    second = vinted.add_conversation("tom", "Bonjour")
    inbox = tab.get("/inbox", page=1, per_page=20).json()["conversations"]
    assert [c["id"] for c in inbox] == [second, first]
    assert inbox[1] == {
        "id": first,
        "description": "Baskets Nike",
        "unread": True,
        "item_id": item_id,
        "opposite_user": {"login": "lea_b"},
        "last_message": {"body": "Toujours dispo ?"},
    }
    assert "item_id" not in inbox[0]
    reply = tab.post(f"/conversations/{first}/replies", json={"reply": {"body": "Oui !"}})
    assert reply.json() == {"reply": {"id": vinted.replies[0].id}}
    assert (vinted.replies[0].conversation_id, vinted.replies[0].body) == (first, "Oui !")
    assert tab.get("/inbox").json()["conversations"][0]["id"] == first
    assert tab.post("/conversations/1/replies", json={"reply": {"body": "x"}}).status_code == 404


def test_injected_failures(vinted: FakeVinted, tab: Tab) -> None:
    vinted.rate_limit_next(r"/api/v2/users/current", retry_after=120)
    limited = tab.get("/users/current")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "120")
    vinted.challenge_next()
    challenged = tab.get("/users/current")
    assert challenged.status_code == 403
    assert challenged.headers["content-type"].startswith("text/html")
    assert "captcha" in challenged.text
    vinted.server_error_next(method="POST")
    assert tab.get("/users/current").status_code == 200  # only POSTs are hit
    assert tab.post(f"/items/{vinted.add_item('Chemise lin')}/delete").status_code == 500
    vinted.stall_next("GET", r"/api/v2/inbox", 0.5)
    with pytest.raises(httpx.ReadTimeout):
        tab.client.get(f"{API}/inbox", headers=tab.headers, timeout=0.05)
    assert vinted.calls_to("*", r"/api/v2/.*") == len(vinted.api_requests) == 5
