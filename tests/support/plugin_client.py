"""A scripted stand-in for the browser plugin: a real WebSocket client of the bridge.

:class:`ScriptedPlugin` connects with the plugin's Origin, pairs with the token and
answers every ``call`` through a script: ``answers[action]`` is a function of the payload
returning the result's data, or raising :class:`PluginAnswer` to answer with an error, or
:class:`Silence` to answer nothing (a timeout). Every call is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from websockets.asyncio.client import ClientConnection, connect

from app.bridge.config import PLUGIN_ORIGIN

Answer = Callable[[dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


class PluginAnswer(Exception):
    """Raised by an answer function: the plugin answers with this error."""

    def __init__(self, code: str, message: str = "", **extra: Any) -> None:
        super().__init__(message or code)
        self.error = {"code": code, "message": message or code, **extra}


class Silence(Exception):
    """Raised by an answer function: the plugin never answers this call."""


@dataclass
class Call:
    """One call the plugin received."""

    id: str
    action: str
    payload: dict[str, Any]
    timeout_ms: int
    pace_ms: int


@dataclass
class ScriptedPlugin:
    """A paired plugin client answering from a script."""

    port: int
    token: str
    answers: dict[str, Answer] = field(default_factory=dict)
    origin: str = PLUGIN_ORIGIN
    vinted: dict[str, Any] | None = field(
        default_factory=lambda: {
            "logged_in": True,
            "user_id": "4242",
            "login": "anna_resale",
            "domain": "www.vinted.fr",
        }
    )
    calls: list[Call] = field(default_factory=list)
    welcome: dict[str, Any] | None = None
    connection: ClientConnection | None = None
    _task: asyncio.Task[None] | None = None
    _answering: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connect, pair, and start answering calls."""
        self.connection = await connect(
            f"ws://127.0.0.1:{self.port}/",
            origin=self.origin,
            compression=None,  # type: ignore[arg-type]
        )
        hello = {
            "v": 1,
            "type": "hello",
            "token": self.token,
            "plugin_version": "1.0.0",
            "browser": "Scripted/1",
            "vinted": self.vinted,
        }
        await self.connection.send(json.dumps(hello))
        self.welcome = json.loads(await self.connection.recv())
        self._task = asyncio.create_task(self._serve(self.connection))

    async def close(self) -> None:
        """Disconnect."""
        if self.connection is not None:
            await self.connection.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def send(self, frame: dict[str, Any]) -> None:
        """Send a raw frame (for tests of the server's checks)."""
        assert self.connection is not None
        await self.connection.send(json.dumps(frame))

    async def _serve(self, connection: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for message in connection:
                frame = json.loads(message)
                if frame.get("type") == "call":
                    call = Call(
                        frame["id"],
                        frame["action"],
                        frame["payload"],
                        frame["timeout_ms"],
                        frame["pace_ms"],
                    )
                    self.calls.append(call)
                    task = asyncio.create_task(self._answer(connection, call))
                    self._answering.add(task)
                    task.add_done_callback(self._answering.discard)

    async def _answer(self, connection: ClientConnection, call: Call) -> None:
        answer = self.answers.get(call.action)
        reply: dict[str, Any] = {"v": 1, "type": "result", "id": call.id}
        try:
            if answer is None:
                raise PluginAnswer("unknown_action", f"no script for {call.action}")
            data = answer(call.payload)
            if asyncio.iscoroutine(data):
                data = await data
            reply.update(ok=True, data=data)
        except PluginAnswer as exc:
            reply.update(ok=False, error=exc.error)
        except Silence:
            return
        with contextlib.suppress(Exception):
            await connection.send(json.dumps(reply))

    def actions(self) -> list[str]:
        """The actions called so far, in order."""
        return [call.action for call in self.calls]
