"""The REST client pieces without a server: error shapes, tokens, pacing, fields."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.ebay.client import EbayClient, seconds_until_quota_reset
from app.etsy.client import EtsyClient
from app.marketplace.fields import FieldError, FieldSpec, resolve_fields
from app.restapi.pacing import RequestPacer
from app.restapi.tokens import TokenSet


def response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, json=body, headers=headers, request=httpx.Request("GET", "http://x")
    )


async def test_etsy_reads_all_three_error_shapes() -> None:
    client = EtsyClient("http://x", api_key="k:s", tokens=None)
    try:
        plain = client.error_info(response(404, {"error": "Listing not found"}))
        assert (plain.message, plain.code) == ("Listing not found", "Listing not found")
        oauth = client.error_info(
            response(400, {"error": "invalid_grant", "error_description": "code expired"})
        )
        assert (oauth.message, oauth.code) == ("invalid_grant: code expired", "invalid_grant")
        array = client.error_info(
            response(
                400,
                [
                    {"path": "/quantity", "type": "range", "message": "Must be at least 1"},
                    {"path": "/title", "type": "required", "message": "title is required"},
                ],
            )
        )
        assert array.message == "quantity: Must be at least 1; title is required"
        assert array.fields == ("quantity", "title")
        empty = client.error_info(httpx.Response(502, request=httpx.Request("GET", "http://x")))
        assert empty.message == "HTTP 502 Bad Gateway"
    finally:
        await client.aclose()


async def test_etsy_learns_its_pace_from_the_limit_headers() -> None:
    client = EtsyClient("http://x", api_key="k:s", tokens=None)
    try:
        client.observe(response(200, {}, {"x-limit-per-second": "7", "x-remaining-today": "99"}))
        assert client.pacer.requests_per_second == pytest.approx(7)
        assert client.remaining_today == 99
        quota = response(429, {"error": "x"}, {"x-remaining-today": "0"})
        assert client.quota_reset_in(quota, client.error_info(quota)) == 3600.0
        burst = response(429, {"error": "x"}, {"x-remaining-today": "5", "Retry-After": "1"})
        assert client.quota_reset_in(burst, client.error_info(burst)) is None
    finally:
        await client.aclose()


async def test_ebay_error_and_quota() -> None:
    client = EbayClient("http://x", tokens=None)
    try:
        body = {
            "errors": [
                {
                    "errorId": 25002,
                    "message": "A user error has occurred.",
                    "longMessage": "Offer entity already exists.",
                    "parameters": [{"name": "field", "value": "sku"}],
                },
                {"errorId": 25002, "longMessage": "Offer entity already exists."},
            ]
        }
        info = client.error_info(response(400, body))
        assert (info.message, info.code, info.fields) == (
            "Offer entity already exists.",
            "25002",
            ("sku",),
        )
        quota = response(429, {"errors": [{"errorId": 2001, "message": "Too many requests."}]})
        assert client.quota_reset_in(quota, client.error_info(quota)) is not None
        burst = response(429, {"errors": [{"errorId": 2001, "message": "x"}]}, {"Retry-After": "1"})
        assert client.quota_reset_in(burst, client.error_info(burst)) is None
    finally:
        await client.aclose()


def test_ebay_quota_resets_at_pacific_midnight() -> None:
    # 2026-11-23 07:00 UTC is 23:00 PST: one hour to go
    assert seconds_until_quota_reset(datetime(2026, 11, 23, 7, 0, tzinfo=UTC)) == 3600
    # summer time: 2026-07-01 06:30 UTC is 23:30 PDT
    assert seconds_until_quota_reset(datetime(2026, 7, 1, 6, 30, tzinfo=UTC)) == 1800


def test_token_set_round_trip_and_rotation() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    first = TokenSet.from_response(
        {
            "access_token": "a1",
            "expires_in": 7200,
            "refresh_token": "r1",
            "refresh_token_expires_in": 100,
        },
        now=now,
    )
    assert first.expires_at == now + timedelta(hours=2)
    assert TokenSet.from_json(first.to_json()) == first
    assert "a1" not in repr(first) and "r1" not in repr(first)
    kept = TokenSet.from_response({"access_token": "a2", "expires_in": 60}, previous=first, now=now)
    assert (kept.refresh_token, kept.refresh_expires_at) == ("r1", first.refresh_expires_at)
    rotated = TokenSet.from_response(
        {"access_token": "a3", "expires_in": 60, "refresh_token": "r2"}, previous=first, now=now
    )
    assert rotated.refresh_token == "r2"
    assert kept.expires_within(timedelta(minutes=5), now=now)
    assert not first.expires_within(timedelta(minutes=5), now=now)


async def test_pacer_spaces_requests() -> None:
    pacer = RequestPacer(20.0)
    started = time.monotonic()
    await asyncio.gather(*(pacer.wait() for _ in range(6)))
    elapsed = time.monotonic() - started
    assert elapsed >= 5 * (1 / 20) * 0.99
    pacer.set_rate(None)
    started = time.monotonic()
    pacer.hold(0.1)
    await pacer.wait()
    assert time.monotonic() - started >= 0.09
    with pytest.raises(ValueError, match="negative"):
        pacer.set_rate(-1)


def test_fields_resolution_order_and_messages() -> None:
    specs = (
        FieldSpec("taxonomy_id", "Category", "integer"),
        FieldSpec("who_made", "Who made it", "choice", choices=("i_did", "someone_else")),
        FieldSpec("is_supply", "Craft supply", "boolean", required=False, default=False),
    )
    values = resolve_fields(
        "Etsy", specs, {"taxonomy_id": "12"}, {"who_made": "i_did", "taxonomy_id": 9}
    )
    assert values == {"taxonomy_id": 12, "who_made": "i_did", "is_supply": False}
    with pytest.raises(FieldError) as caught:
        resolve_fields("Etsy", specs, {"taxonomy_id": "x", "is_supply": "maybe"}, {})
    assert caught.value.problems == {
        "taxonomy_id": "Category must be a whole number, not 'x'",
        "who_made": "Who made it is required (in the job, or as a default in Settings)",
        "is_supply": "Craft supply must be true or false",
    }
    assert str(caught.value).startswith("Invalid Etsy fields: taxonomy_id: ")
