"""The bridge protocol's pure functions: admission checks, parsing, building."""

from __future__ import annotations

import json

import pytest

from app.bridge import protocol as p
from app.bridge.config import PLUGIN_ORIGIN
from app.bridge.errors import ProtocolError

ORIGINS = frozenset({PLUGIN_ORIGIN})


def frame(**fields: object) -> str:
    return json.dumps({"v": 1, **fields})


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1:47615", None),
        ("localhost:47615", None),
        ("LOCALHOST:47615", None),
        ("127.0.0.1:8080", "bad host"),
        ("evil.example:47615", "bad host"),
        ("127.0.0.1", "bad host"),
        (None, "host missing"),
    ],
)
def test_host_check_stops_dns_rebinding(host: str | None, reason: str | None) -> None:
    assert p.host_refusal(host, 47615) == reason


@pytest.mark.parametrize(
    ("origin", "reason"),
    [
        (PLUGIN_ORIGIN, None),
        (PLUGIN_ORIGIN + "/", "origin not allowed"),
        ("chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "origin not allowed"),
        ("https://www.vinted.fr", "origin not allowed"),
        ("null", "origin not allowed"),
        ("", "origin missing"),
        (None, "origin missing"),
    ],
)
def test_origin_is_an_exact_allow_list(origin: str | None, reason: str | None) -> None:
    assert p.origin_refusal(origin, ORIGINS) == reason


def test_token_comparison() -> None:
    assert p.token_matches("abc", "abc")
    assert not p.token_matches("abd", "abc")
    assert not p.token_matches("", "abc")
    assert not p.token_matches(None, "abc")
    assert not p.token_matches("abc", "")  # no token set: nobody pairs


def test_hello_refusals() -> None:
    hello = p.Hello(token=None, plugin_version="1", browser="b", vinted=None)
    assert p.hello_refusal(hello, "t") == (p.CLOSE_BAD_TOKEN, p.REASON_TOKEN_MISSING)
    wrong = p.Hello(token="x", plugin_version="1", browser="b", vinted=None)
    assert p.hello_refusal(wrong, "t") == (p.CLOSE_BAD_TOKEN, p.REASON_TOKEN_WRONG)
    good = p.Hello(token="t", plugin_version="1", browser="b", vinted=None)
    assert p.hello_refusal(good, "t") is None


def test_parse_hello_with_vinted_session() -> None:
    parsed = p.parse_frame(
        frame(
            type="hello",
            token="tok",
            plugin_version="1.0.0",
            browser="Chrome/150",
            vinted={"logged_in": True, "user_id": 4242, "login": "anna", "domain": "www.vinted.fr"},
        )
    )
    assert parsed == p.Hello(
        token="tok",
        plugin_version="1.0.0",
        browser="Chrome/150",
        vinted=p.VintedSession(True, "4242", "anna", "www.vinted.fr"),
    )


def test_parse_result_status_ping() -> None:
    ok = p.parse_frame(frame(type="result", id="r1", ok=True, data={"a": 1}))
    assert ok == p.Result("r1", True, {"a": 1}, {})
    failed = p.parse_frame(
        frame(type="result", id="r2", ok=False, error={"code": "not_found", "message": "gone"})
    )
    assert isinstance(failed, p.Result)
    assert failed.error["code"] == "not_found"
    status = p.parse_frame(frame(type="status", vinted={"logged_in": False}))
    assert status == p.Status(p.VintedSession(False))
    assert p.parse_frame(frame(type="ping")) == p.Ping()
    # unknown fields are ignored
    assert p.parse_frame(frame(type="ping", extra=[1, 2])) == p.Ping()


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (b'{"v":1,"type":"ping"}', p.ERR_BINARY),
        ("not json", p.ERR_MALFORMED),
        ("[1, 2]", p.ERR_MALFORMED),
        ('{"type": "ping"}', p.ERR_MALFORMED),
        ('{"v": true, "type": "ping"}', p.ERR_MALFORMED),
        ('{"v": 2, "type": "ping"}', p.ERR_BAD_VERSION),
        ('{"v": 1}', p.ERR_MALFORMED),
        ('{"v": 1, "type": 5}', p.ERR_MALFORMED),
        ('{"v": 1, "type": "launch_missiles"}', p.ERR_UNKNOWN_TYPE),
        ('{"v": 1, "type": "result", "ok": true}', p.ERR_MALFORMED),
        ('{"v": 1, "type": "result", "id": "x", "ok": "yes"}', p.ERR_MALFORMED),
        ('{"v": 1, "type": "result", "id": "x", "ok": false}', p.ERR_MALFORMED),
        ('{"v": 1, "type": "result", "id": "x", "ok": true, "data": []}', p.ERR_MALFORMED),
        ('{"v": 1, "type": "status"}', p.ERR_MALFORMED),
        ('{"v": 1, "type": "status", "vinted": {"logged_in": "yes"}}', p.ERR_MALFORMED),
        ('{"v": 1, "type": "hello", "token": 12}', p.ERR_MALFORMED),
        ("[" * 100_000 + "]" * 100_000, p.ERR_MALFORMED),
    ],
)
def test_malformed_frames_are_protocol_errors(message: str | bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        p.parse_frame(message)
    assert caught.value.code == code


def test_frame_size_limit() -> None:
    with pytest.raises(ProtocolError, match="too large"):
        p.parse_frame(frame(type="ping", pad="x" * 100), max_chars=50)


def test_built_frames_carry_version_and_fields() -> None:
    call = json.loads(p.build_call("id1", "create_item", {"a": 1}, 120000, 2500))
    assert call == {
        "v": 1,
        "type": "call",
        "id": "id1",
        "action": "create_item",
        "payload": {"a": 1},
        "timeout_ms": 120000,
        "pace_ms": 2500,
    }
    assert json.loads(p.build_welcome("s", "0.1.0", 10))["type"] == "welcome"
    assert json.loads(p.build_pong()) == {"v": 1, "type": "pong"}
    assert json.loads(p.build_error("malformed", "bad")) == {
        "v": 1,
        "type": "error",
        "code": "malformed",
        "message": "bad",
    }


def test_request_ids_are_unguessable_and_unique() -> None:
    ids = {p.new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) >= 20 for i in ids)


def test_error_fields_are_read_defensively() -> None:
    assert p.error_fields(
        {"code": "rate_limited", "message": "slow", "status": 429, "retry_after": 900}
    ) == ("rate_limited", "slow", 429, 900.0, None)
    assert p.error_fields({"code": "rejected", "status": True, "retry_after": "x"}) == (
        "rejected",
        "rejected",
        None,
        None,
        None,
    )
    assert p.error_fields({"code": "rejected", "fields": {"price": "too low"}})[4] == {
        "price": "too low"
    }
