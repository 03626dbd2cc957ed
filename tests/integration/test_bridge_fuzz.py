"""Property-based fuzz of the bridge: whatever a paired plugin sends, the server serves on.

Each example pairs a plugin, sends a run of generated frames (JSON values shaped like the
protocol's frames with wrong types and values, arbitrary text, binary), then checks that
a call still gets its answer and that the server never sent anything but error, pong or
call frames.
"""

from __future__ import annotations

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from app.bridge.config import PLUGIN_ORIGIN
from app.bridge.server import BridgeServer

TOKEN = "fuzz-token"

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
frame_like = st.fixed_dictionaries(
    {
        "v": st.sampled_from([1, 1, 1, 0, 2, "1", None]),
        "type": st.sampled_from(["result", "status", "ping", "hello", "call", "x"]) | scalars,
    },
    optional={
        "id": st.text(max_size=30) | scalars,
        "ok": st.booleans() | scalars,
        "data": json_values,
        "error": st.fixed_dictionaries({}, optional={"code": scalars, "message": scalars}),
        "vinted": st.fixed_dictionaries(
            {"logged_in": st.booleans() | scalars},
            optional={"user_id": scalars, "login": scalars},
        )
        | scalars,
        "token": scalars,
    },
)
messages = (
    frame_like.map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(max_size=200)
    | st.binary(max_size=200)
)


async def exchange(frames: list[str | bytes]) -> None:
    server = BridgeServer(TOKEN, port=0, max_frame=16 * 1024)
    await server.start()
    try:
        async with connect(
            f"ws://127.0.0.1:{server.port}/",
            origin=PLUGIN_ORIGIN,  # type: ignore[arg-type]
        ) as ws:
            await ws.send(json.dumps({"v": 1, "type": "hello", "token": TOKEN}))
            assert json.loads(await ws.recv())["type"] == "welcome"
            for frame in frames:
                await ws.send(frame)
            call = asyncio.create_task(server.call("session_status", {}, 5))
            while True:
                answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert answer["type"] in ("error", "pong", "call")
                if answer["type"] == "call":
                    break
            reply = {"v": 1, "type": "result", "id": answer["id"], "ok": True, "data": {"n": 1}}
            await ws.send(json.dumps(reply))
            assert await call == {"n": 1}
    finally:
        await server.stop()


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(messages, max_size=12))
def test_any_frames_leave_the_server_serving(frames: list[str | bytes]) -> None:
    asyncio.run(exchange(frames))
