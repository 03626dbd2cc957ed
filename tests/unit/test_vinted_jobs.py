"""Pure parts of the Vinted handlers: item addresses, sent messages, times, plugin errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.bridge.errors import PluginCallError
from app.marketplace.errors import AuthRequiredError, PermanentJobError, RetryableJobError
from app.marketplace.fields import FieldError
from app.vinted.jobs.base import VintedItemNotFoundError, item_id_from, job_error
from app.vinted.jobs.message import already_sent, message_input
from app.vinted.jobs.orders import utc_time


@pytest.mark.parametrize(
    ("given", "item_id"),
    [
        ("123", "123"),
        (456, "456"),
        ("https://www.vinted.fr/items/789-robe-d-ete?referrer=catalog", "789"),
        (" https://www.vinted.co.uk/items/42 ", "42"),
    ],
)
def test_item_ids_from_numbers_and_addresses(given: object, item_id: str) -> None:
    assert item_id_from(given) == item_id


def test_a_bad_item_reference_names_the_field() -> None:
    with pytest.raises(FieldError, match="item_id: not a Vinted item"):
        item_id_from("https://www.vinted.fr/member/12")


def test_already_sent_reads_shortened_previews() -> None:
    body = "Hello! Yes, the jacket is still available and I can ship it tomorrow."
    assert already_sent(body, body)
    assert already_sent(
        body, "Hello!  Yes, the jacket\nis still available and I can ship it tomorrow."
    )
    assert already_sent(body, "Hello! Yes, the jacket is still avail…")
    assert not already_sent(body, "Hello!")  # too short a preview to be sure
    assert not already_sent(body, "Thanks, I'll take it")
    assert not already_sent(body, None)


def test_message_input_is_checked() -> None:
    assert message_input({"conversation_id": 77, "body": " Hi "}) == ("77", "Hi")
    with pytest.raises(FieldError) as caught:
        message_input({"conversation_id": "x", "body": "y" * 2001})
    assert set(caught.value.problems) == {"conversation_id", "body"}


def test_times_become_utc() -> None:
    assert utc_time("2026-11-20T10:00:00Z") == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert utc_time("2026-11-20T11:00:00+01:00") == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert utc_time("2026-11-20T10:00:00") == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert utc_time("yesterday") is None
    assert utc_time(None) is None


@pytest.mark.parametrize(
    ("code", "kind", "consumes_retry"),
    [
        ("not_logged_in", AuthRequiredError, None),
        ("rate_limited", RetryableJobError, False),
        ("challenge", RetryableJobError, False),
        ("server_error", RetryableJobError, True),
        ("network", RetryableJobError, True),
        ("no_tab", RetryableJobError, True),
        ("timeout", RetryableJobError, True),
        ("not_found", VintedItemNotFoundError, None),
        ("rejected", FieldError, None),
        ("bad_request", PermanentJobError, None),
        ("unknown_action", PermanentJobError, None),
        ("something_new", PermanentJobError, None),
    ],
)
def test_plugin_errors_map_to_job_errors(
    code: str, kind: type[Exception], consumes_retry: bool | None
) -> None:
    error = job_error(PluginCallError(code, "words", retry_after=60, fields={"price": "low"}))
    assert isinstance(error, kind)
    if consumes_retry is not None:
        assert isinstance(error, RetryableJobError)
        assert error.consumes_retry is consumes_retry
    if code == "challenge":
        assert isinstance(error, RetryableJobError) and error.retry_after == 1800
    if code == "rate_limited":
        assert isinstance(error, RetryableJobError) and error.retry_after == 60
    if code == "rejected":
        assert isinstance(error, FieldError) and error.problems == {"price": "low"}
