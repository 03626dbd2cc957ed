"""Plugin bridge round trips against a bare ``websockets`` echo, in one run.

Run it from the project root::

    python -m tests.bench.bridge [--calls N] [--repeat R]

What is measured
----------------
Both sides run in one asyncio loop of one process, server and client on 127.0.0.1,
permessage-deflate off on both, and do ``N`` round trips one after another (default
10,000), each timed with ``time.perf_counter``:

1. **bridge** - ``BridgeServer.call("session_status", payload, timeout=30,
   pace_ms=2500)``: the server builds a call frame with a fresh request id, sends it to
   a paired plugin client (a real ``websockets`` client that passed the Origin and token
   checks), which parses the call and answers a result frame with a small data object
   (with orjson: it stands in for the browser, whose JSON is native code);
   the server parses and checks the result (version, type, fields, the id waiting on
   that connection) and resolves the caller's future. A call returns once the answer
   is in the caller's hands.
2. **echo** - a bare ``websockets`` server that sends every message back unchanged, and
   a client that sends a frame of the same size as the bridge's call frame and waits
   for it. No JSON, no ids, no checks: the floor of a WebSocket round trip here.

Each repeat runs both, alternating which goes first, after a 500-round-trip warm-up of
each. Reported: mean and p99 round trip in microseconds and the ratio bridge / echo of
the means (the issue's target: at most 1.3x).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from app.bridge.config import PLUGIN_ORIGIN
from app.bridge.server import BridgeServer

TOKEN = "bench-token"
PAYLOAD: dict[str, Any] = {"page": 1, "per_page": 96}
ANSWER: dict[str, Any] = {"logged_in": True, "user_id": "4242", "login": "anna_resale"}
WARM_UP = 500
TARGET = 1.3


async def plugin_client(port: int) -> tuple[ClientConnection, asyncio.Task[None]]:
    """A paired plugin answering every call at once."""
    ws = await connect(
        f"ws://127.0.0.1:{port}/",
        origin=PLUGIN_ORIGIN,  # type: ignore[arg-type]
        compression=None,
    )
    await ws.send(json.dumps({"v": 1, "type": "hello", "token": TOKEN}))
    await ws.recv()

    async def answer() -> None:
        async for message in ws:
            call = orjson.loads(message)
            reply = {"v": 1, "type": "result", "id": call["id"], "ok": True, "data": ANSWER}
            await ws.send(orjson.dumps(reply).decode())

    return ws, asyncio.create_task(answer())


async def timed(calls: int, one: Callable[[], Awaitable[Any]]) -> list[float]:
    for _ in range(WARM_UP):
        await one()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        await one()
        times.append(time.perf_counter() - start)
    return times


async def run_bridge(calls: int) -> list[float]:
    server = BridgeServer(TOKEN, port=0)
    await server.start()
    ws, task = await plugin_client(server.port)
    try:
        return await timed(calls, lambda: server.call("session_status", PAYLOAD, 30, 2500))
    finally:
        await ws.close()
        await task
        await server.stop()


async def run_echo(calls: int) -> list[float]:
    async def echo(connection: ServerConnection) -> None:
        async for message in connection:
            await connection.send(message)

    frame = json.dumps(
        {
            "v": 1,
            "type": "call",
            "id": "x" * 22,
            "action": "session_status",
            "payload": PAYLOAD,
            "timeout_ms": 30000,
            "pace_ms": 2500,
        }
    )
    async with serve(echo, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/", compression=None) as ws:

            async def one() -> None:
                await ws.send(frame)
                await ws.recv()

            return await timed(calls, one)


def summary(times: list[float]) -> tuple[float, float]:
    """Mean and p99 in microseconds."""
    ordered = sorted(times)
    return statistics.fmean(times) * 1e6, ordered[int(len(ordered) * 0.99) - 1] * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.calls} sequential round trips per run; target bridge/echo <= {TARGET}x")
    for run in range(args.repeat):
        order = [("bridge", run_bridge), ("echo", run_echo)]
        if run % 2:
            order.reverse()
        results = {name: summary(asyncio.run(fn(args.calls))) for name, fn in order}
        (b_mean, b_p99), (e_mean, e_p99) = results["bridge"], results["echo"]
        print(
            f"run {run + 1}: bridge mean {b_mean:.0f} us p99 {b_p99:.0f} us | "
            f"echo mean {e_mean:.0f} us p99 {e_p99:.0f} us | "
            f"ratio mean {b_mean / e_mean:.2f}x p99 {b_p99 / e_p99:.2f}x"
        )


if __name__ == "__main__":
    main()
