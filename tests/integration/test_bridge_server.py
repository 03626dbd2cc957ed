"""The bridge server, for real on localhost: admission, sessions, calls, bad frames."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.bridge import protocol as p
from app.bridge.config import PLUGIN_ORIGIN
from app.bridge.errors import (
    BridgeStartError,
    PluginCallError,
    PluginDisconnectedError,
    PluginNotConnectedError,
    PluginTimeoutError,
)
from app.bridge.server import BridgeServer
from app.events import BridgeStateChanged, Event, EventBus
from tests.support.plugin_client import PluginAnswer, ScriptedPlugin, Silence

TOKEN = "pairing-token-for-tests"


@pytest.fixture
async def events() -> list[Event]:
    return []


@pytest.fixture
async def bridge(events: list[Event]) -> AsyncIterator[BridgeServer]:
    bus = EventBus()
    bus.subscribe(events.append)
    server = BridgeServer(TOKEN, port=0, hello_timeout=0.5, max_frame=64 * 1024, events=bus)
    await server.start()
    yield server
    await server.stop()


def echo(payload: dict[str, Any]) -> dict[str, Any]:
    return {"echo": payload}


async def handshake_refusal(port: int, **kwargs: Any) -> tuple[int, bytes]:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(f"ws://127.0.0.1:{port}/", **kwargs):
            pass
    response = caught.value.response
    return response.status_code, response.body or b""


async def closed_with(port: int, *frames: str, origin: str = PLUGIN_ORIGIN) -> tuple[int, str]:
    """Send ``frames`` after the handshake; the close code and reason the server chose."""
    async with connect(f"ws://127.0.0.1:{port}/", origin=origin) as ws:  # type: ignore[arg-type]
        for frame in frames:
            await ws.send(frame)
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code is not None
        return ws.close_code, ws.close_reason or ""


def hello(token: str | None = TOKEN, v: int = 1) -> str:
    return json.dumps({"v": v, "type": "hello", "token": token, "plugin_version": "9"})


async def test_wrong_and_missing_origin_refused_at_handshake(bridge: BridgeServer) -> None:
    status, body = await handshake_refusal(bridge.port, origin="https://evil.example")
    assert (status, body) == (403, b"origin not allowed\n")
    status, body = await handshake_refusal(
        bridge.port, origin="chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    )
    assert (status, body) == (403, b"origin not allowed\n")
    status, body = await handshake_refusal(bridge.port)
    assert (status, body) == (403, b"origin missing\n")


async def test_foreign_host_header_refused(bridge: BridgeServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", bridge.port)
    writer.write(
        (
            "GET / HTTP/1.1\r\nHost: attacker.example:47615\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {PLUGIN_ORIGIN}\r\n\r\n"
        ).encode()
    )
    answer = await asyncio.wait_for(reader.read(4096), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 403")
    assert answer.endswith(b"bad host\n")


async def test_token_missing_wrong_late_or_bad_version(
    bridge: BridgeServer, events: list[Event]
) -> None:
    assert await closed_with(bridge.port, hello(None)) == (4401, "pairing token missing")
    assert await closed_with(bridge.port, hello("guess")) == (4401, "pairing token wrong")
    assert await closed_with(bridge.port, "not json") == (4401, "pairing token missing")
    assert await closed_with(bridge.port, json.dumps({"v": 1, "type": "ping"})) == (
        4401,
        "pairing token missing",
    )
    assert await closed_with(bridge.port, hello(v=2)) == (4400, "unsupported protocol version")
    assert await closed_with(bridge.port) == (4408, "no hello in time")
    assert bridge.status().state == "listening"
    told = [e.message for e in events if isinstance(e, BridgeStateChanged) and e.message]
    assert len(told) == 5  # token missing, wrong, not JSON, not a hello, other version
    assert "without the right pairing token" in (told[0] or "")
    assert "another version" in (told[-1] or "")


async def test_call_round_trip_and_events(bridge: BridgeServer, events: list[Event]) -> None:
    with pytest.raises(PluginNotConnectedError):
        await bridge.call("session_status", {}, 5)
    async with ScriptedPlugin(bridge.port, TOKEN, {"echo": echo}) as plugin:
        assert plugin.welcome is not None and plugin.welcome["type"] == "welcome"
        answer = await bridge.call("echo", {"n": 1}, 5, pace_ms=1500)
        assert answer == {"echo": {"n": 1}}
        assert plugin.calls[0].pace_ms == 1500
        assert plugin.calls[0].timeout_ms == 5000
        status = bridge.status()
        assert status.state == "connected"
        assert status.vinted is not None and status.vinted.login == "anna_resale"
        await plugin.send({"v": 1, "type": "status", "vinted": {"logged_in": False}})
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.1)
    states = [(e.state, e.vinted_login) for e in events if isinstance(e, BridgeStateChanged)]
    assert states == [
        ("listening", None),
        ("connected", "anna_resale"),
        ("connected", None),
        ("listening", None),
    ]


async def test_error_answers_and_timeouts(bridge: BridgeServer) -> None:
    def refuse(payload: dict[str, Any]) -> dict[str, Any]:
        raise PluginAnswer("rejected", "Validation failed", status=422, fields={"price": "too low"})

    def never(payload: dict[str, Any]) -> dict[str, Any]:
        raise Silence

    async with ScriptedPlugin(bridge.port, TOKEN, {"create_item": refuse, "wardrobe": never}):
        with pytest.raises(PluginCallError) as caught:
            await bridge.call("create_item", {}, 5)
        assert (caught.value.code, caught.value.status) == ("rejected", 422)
        assert caught.value.fields == {"price": "too low"}
        with pytest.raises(PluginTimeoutError, match=r"wardrobe within 0\.2 s"):
            await bridge.call("wardrobe", {}, 0.2)


async def test_second_plugin_replaces_the_first(bridge: BridgeServer) -> None:
    def hang(payload: dict[str, Any]) -> dict[str, Any]:
        raise Silence

    first = ScriptedPlugin(bridge.port, TOKEN, {"wardrobe": hang})
    await first.connect()
    waiting = asyncio.create_task(bridge.call("wardrobe", {}, 30))
    await asyncio.sleep(0.1)
    async with ScriptedPlugin(bridge.port, TOKEN, {"echo": echo}) as second:
        with pytest.raises(PluginDisconnectedError, match="replaced"):
            await asyncio.wait_for(waiting, 5)
        assert first.connection is not None
        await asyncio.wait_for(first.connection.wait_closed(), 5)
        assert first.connection.close_code == 4409
        assert await bridge.call("echo", {"who": 2}, 5) == {"echo": {"who": 2}}
        assert second.actions() == ["echo"]
    await first.close()


async def test_disconnect_during_a_call_fails_it_as_retryable(bridge: BridgeServer) -> None:
    def hang(payload: dict[str, Any]) -> dict[str, Any]:
        raise Silence

    plugin = ScriptedPlugin(bridge.port, TOKEN, {"delete_item": hang})
    await plugin.connect()
    waiting = asyncio.create_task(bridge.call("delete_item", {"item_id": "1"}, 30))
    await asyncio.sleep(0.1)
    await plugin.close()
    with pytest.raises(PluginDisconnectedError) as caught:
        await asyncio.wait_for(waiting, 5)
    assert caught.value.retry_after == 10.0
    assert bridge.status().state == "listening"


async def test_bad_frames_get_errors_and_the_session_goes_on(bridge: BridgeServer) -> None:
    async with ScriptedPlugin(bridge.port, TOKEN, {"echo": echo}) as plugin:
        assert plugin.connection is not None
        raw = plugin.connection
        # the client's reader task consumes frames; send junk and check the call still works
        for junk in ("{", "[]", '{"v":1,"type":"nope"}', '{"v":1,"type":"result","id":"x"}'):
            await raw.send(junk)
        await raw.send(b"\x00\x01binary")
        await plugin.send({"v": 1, "type": "result", "id": "someone-else", "ok": True})
        await plugin.send({"v": 1, "type": "hello", "token": TOKEN})
        assert await bridge.call("echo", {"still": "here"}, 5) == {"echo": {"still": "here"}}


async def test_error_frames_name_the_problem(bridge: BridgeServer) -> None:
    async with connect(f"ws://127.0.0.1:{bridge.port}/", origin=PLUGIN_ORIGIN) as ws:  # type: ignore[arg-type]
        await ws.send(hello())
        assert json.loads(await ws.recv())["type"] == "welcome"
        for sent, code in (
            ("nonsense", p.ERR_MALFORMED),
            ('{"v":1,"type":"teleport"}', p.ERR_UNKNOWN_TYPE),
            ('{"v":1,"type":"result","id":"forged","ok":true}', p.ERR_UNKNOWN_REQUEST),
            (hello(), p.ERR_ALREADY_PAIRED),
        ):
            await ws.send(sent)
            answer = json.loads(await ws.recv())
            assert (answer["type"], answer["code"]) == ("error", code)
        await ws.send('{"v":1,"type":"ping"}')
        assert json.loads(await ws.recv()) == {"v": 1, "type": "pong"}


async def test_oversized_frame_closes_with_1009(bridge: BridgeServer) -> None:
    code, _ = await closed_with(bridge.port, hello(), "x" * (bridge.max_frame + 1))
    assert code == 1009


async def test_a_result_is_accepted_only_for_its_own_id(bridge: BridgeServer) -> None:
    async def slow(payload: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.3)
        return {"real": True}

    async with ScriptedPlugin(bridge.port, TOKEN, {"get_item": slow}) as plugin:
        waiting = asyncio.create_task(bridge.call("get_item", {}, 5))
        await asyncio.sleep(0.1)
        real_id = plugin.calls[0].id
        await plugin.send({"v": 1, "type": "result", "id": real_id + "x", "ok": True})
        assert await waiting == {"real": True}


async def test_new_token_closes_the_paired_plugin(bridge: BridgeServer) -> None:
    plugin = ScriptedPlugin(bridge.port, TOKEN)
    await plugin.connect()
    await bridge.set_token("another-token")
    assert plugin.connection is not None
    await asyncio.wait_for(plugin.connection.wait_closed(), 5)
    assert plugin.connection.close_code == 4401
    assert await closed_with(bridge.port, hello(TOKEN)) == (4401, "pairing token wrong")
    async with ScriptedPlugin(bridge.port, "another-token", {"echo": echo}):
        assert await bridge.call("echo", {}, 5) == {"echo": {}}
    await plugin.close()


async def test_stop_closes_with_going_away_and_fails_calls(bridge: BridgeServer) -> None:
    def hang(payload: dict[str, Any]) -> dict[str, Any]:
        raise Silence

    plugin = ScriptedPlugin(bridge.port, TOKEN, {"wardrobe": hang})
    await plugin.connect()
    waiting = asyncio.create_task(bridge.call("wardrobe", {}, 30))
    await asyncio.sleep(0.1)
    await bridge.stop()
    with pytest.raises(PluginDisconnectedError, match="stopping"):
        await asyncio.wait_for(waiting, 5)
    assert plugin.connection is not None and plugin.connection.close_code == 1001
    assert bridge.status().state == "stopped"
    await plugin.close()


async def test_taken_port_is_a_clear_error(bridge: BridgeServer) -> None:
    other = BridgeServer(TOKEN, port=bridge.port)
    with pytest.raises(BridgeStartError, match="another program may use that port"):
        await other.start()


def test_only_loopback() -> None:
    with pytest.raises(BridgeStartError, match="loopback only"):
        BridgeServer(TOKEN, host="0.0.0.0")
