"""The local WebSocket server the browser plugin connects to.

:class:`BridgeServer` listens on loopback only, admits a connection when its ``Host`` and
``Origin`` pass the checks of :mod:`app.bridge.protocol` and its first frame carries the
pairing token, and keeps one plugin session at a time: the newest paired session wins
and the older one is closed with 4409 (its waiting calls fail as retryable). Vinted
handlers reach the plugin through :meth:`BridgeServer.call`, the
:class:`app.marketplace.base_handler.PluginTransport` of the processor. State changes are
published as :class:`app.events.BridgeStateChanged`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import Event

from app import __version__
from app.bridge import protocol as p
from app.bridge.config import PLUGIN_ORIGIN
from app.bridge.errors import (
    BridgeStartError,
    PluginCallError,
    PluginDisconnectedError,
    PluginNotConnectedError,
    PluginTimeoutError,
    ProtocolError,
)
from app.bridge.status import BridgeStatus
from app.events import BridgeStateChanged, EventBus

log = logging.getLogger("marketdesk.bridge")
#: websockets' own log: warnings only (its debug lines show frames, and so the token).
FRAME_LOG = logging.getLogger("marketdesk.bridge.websockets")
FRAME_LOG.setLevel(logging.WARNING)

#: The largest frame the plugin may send (results are small; photos only go out).
MAX_FRAME = 4 * 1024 * 1024
#: How long the program waits past a call's budget for the plugin's own timeout answer.
ANSWER_GRACE = 2.0


class BridgeConnection(ServerConnection):
    """A server connection that hands answers to their callers as soon as they are read.

    Once paired, every complete text frame goes to :attr:`on_text` first, from the
    protocol's ``data_received``; a frame it takes (a result some call waits for) skips
    the queue and the reading task, a task switch saved per call. Anything else goes the
    usual way to the connection's reading loop.
    """

    on_text: Callable[[p.TextData], bool] | None = None

    def process_event(self, event: Event) -> None:
        """Offer complete text frames to :attr:`on_text` before queueing them."""
        on_text = self.on_text
        if (
            on_text is not None
            and isinstance(event, Frame)
            and event.opcode is Opcode.TEXT
            and event.fin
            and on_text(event.data)
        ):
            return
        super().process_event(event)


@dataclass
class PluginSession:
    """One paired plugin connection and the calls waiting on it."""

    connection: ServerConnection
    id: str
    hello: p.Hello
    vinted: p.VintedSession | None
    pending: dict[str, asyncio.Future[p.Result]] = field(default_factory=dict)
    #: Set when the program itself ends the session (new token, stopping): not a loss.
    ended_by_program: bool = False

    def fail_pending(self, reason: str) -> None:
        """Fail every waiting call as 'plugin disconnected'."""
        for future in self.pending.values():
            if not future.done():
                future.set_exception(PluginDisconnectedError(reason))
        self.pending.clear()


class BridgeServer:
    """The plugin bridge: admission, one session, calls with request ids and timeouts."""

    def __init__(
        self,
        token: str,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        origins: frozenset[str] = frozenset({PLUGIN_ORIGIN}),
        hello_timeout: float = 5.0,
        max_frame: int = MAX_FRAME,
        events: EventBus | None = None,
        user_id: int = 1,
    ) -> None:
        if host != "127.0.0.1":
            raise BridgeStartError(f"The bridge listens on loopback only (127.0.0.1), not {host}")
        self._token = token
        self.host = host
        self.port = port
        self.origins = origins
        self.hello_timeout = hello_timeout
        self.max_frame = max_frame
        self.events = events
        self.user_id = user_id
        self._server: Server | None = None
        self._session: PluginSession | None = None
        self._closing: set[asyncio.Task[None]] = set()

    # -- life cycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Listen; with port 0 the system picks one and :attr:`port` tells it."""
        try:
            self._server = await serve(
                self._serve,
                self.host,
                self.port,
                process_request=self._admit,
                create_connection=BridgeConnection,
                max_size=self.max_frame,
                compression=None,
                ping_interval=20,
                ping_timeout=20,
                server_header=None,
                logger=FRAME_LOG,
            )
        except OSError as exc:
            raise BridgeStartError(
                f"The plugin bridge cannot listen on {self.host}:{self.port} ({exc.strerror}); "
                "another program may use that port: choose another one in Settings"
            ) from exc
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        log.info("plugin bridge listening on %s:%s", self.host, self.port)
        self._publish("listening")

    async def stop(self) -> None:
        """Close the session (1001, the plugin reconnects later) and stop listening."""
        server, self._server = self._server, None
        if server is None:
            return
        session = self._session
        if session is not None:
            session.ended_by_program = True
            session.fail_pending("Marketdesk is stopping")
            await session.connection.close(p.CLOSE_GOING_AWAY, p.REASON_STOPPING)
        server.close()
        await server.wait_closed()
        log.info("plugin bridge stopped")
        self._publish("stopped")

    @property
    def listening(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    def status(self) -> BridgeStatus:
        """What the bridge is doing now."""
        session = self._session
        if self._server is None:
            return BridgeStatus("stopped", self.port)
        if session is None:
            return BridgeStatus("listening", self.port)
        return BridgeStatus(
            "connected",
            self.port,
            session.hello.plugin_version,
            session.hello.browser,
            session.vinted,
        )

    async def set_token(self, token: str) -> None:
        """Use a new pairing token; a plugin paired with the old one is closed."""
        self._token = token
        session = self._session
        if session is not None:
            session.ended_by_program = True
            await session.connection.close(p.CLOSE_BAD_TOKEN, "pairing token changed")

    # -- calls (the processor's PluginTransport) ----------------------------------------
    async def call(
        self, action_name: str, payload: dict[str, Any], timeout: float, pace_ms: int = 0
    ) -> dict[str, Any]:
        """Run ``action_name`` in the plugin; its data, or a bridge/plugin error."""
        session = self._session
        if session is None:
            raise PluginNotConnectedError()
        request_id = p.new_request_id()
        frame = p.build_call(request_id, action_name, payload, int(timeout * 1000), pace_ms)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[p.Result] = loop.create_future()
        session.pending[request_id] = future
        # one timer per call, cheaper than asyncio.timeout() on this hot path
        timer = loop.call_at(loop.time() + timeout + ANSWER_GRACE, _expire, future)
        try:
            await session.connection.send(frame)
            result = await future
        except TimeoutError:
            raise PluginTimeoutError(action_name, timeout) from None
        except ConnectionClosed as exc:
            raise PluginDisconnectedError(str(exc)) from None
        finally:
            timer.cancel()
            session.pending.pop(request_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # seen here, whichever way the call ended
        if result.ok:
            return result.data
        code, message, status, retry_after, fields = p.error_fields(result.error)
        raise PluginCallError(code, message, status=status, retry_after=retry_after, fields=fields)

    # -- connections --------------------------------------------------------------------
    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        reason = p.host_refusal(request.headers.get("Host"), self.port) or p.origin_refusal(
            request.headers.get("Origin"), self.origins
        )
        if reason is None:
            return None
        log.warning(
            "refused a connection from %s: %s (Origin %r, Host %r)",
            connection.remote_address,
            reason,
            request.headers.get("Origin"),
            request.headers.get("Host"),
        )
        return connection.respond(HTTPStatus.FORBIDDEN, reason + "\n")

    async def _serve(self, connection: ServerConnection) -> None:
        session = await self._pair(connection)
        if session is None:
            return
        try:
            async for message in connection:
                reply = self._receive(session, message)
                if reply is not None:
                    await connection.send(reply)
        except ConnectionClosed:
            pass
        finally:
            if self._session is session:
                self._session = None
                session.fail_pending("the plugin disconnected")
                log.info("plugin disconnected (%s)", connection.close_reason or "no reason")
                lost = None if session.ended_by_program else "The plugin disconnected"
                self._publish("listening", message=lost)

    async def _pair(self, connection: ServerConnection) -> PluginSession | None:
        """Wait for the hello; the new session, or None after closing the connection."""
        try:
            first = await asyncio.wait_for(connection.recv(), self.hello_timeout)
        except TimeoutError:
            return await self._refuse(connection, p.CLOSE_NO_HELLO, p.REASON_NO_HELLO)
        except ConnectionClosed:
            return None
        try:
            hello = p.parse_frame(first, self.max_frame)
        except ProtocolError as exc:
            if exc.code == p.ERR_BAD_VERSION:
                return await self._refuse(connection, p.CLOSE_BAD_VERSION, p.REASON_BAD_VERSION)
            return await self._refuse(connection, p.CLOSE_BAD_TOKEN, p.REASON_TOKEN_MISSING)
        if not isinstance(hello, p.Hello):
            return await self._refuse(connection, p.CLOSE_BAD_TOKEN, p.REASON_TOKEN_MISSING)
        refusal = p.hello_refusal(hello, self._token)
        if refusal is not None:
            return await self._refuse(connection, *refusal)
        session = PluginSession(connection, secrets.token_urlsafe(12), hello, hello.vinted)
        if isinstance(connection, BridgeConnection):
            connection.on_text = functools.partial(self._answer, session)
        try:  # welcomed before any call can reach it
            await connection.send(p.build_welcome(session.id, __version__, self.max_frame))
        except ConnectionClosed:
            return None
        old, self._session = self._session, session
        if old is not None:
            log.info("a new plugin session replaces the previous one")
            old.fail_pending(p.REASON_REPLACED)
            # closing waits for the old peer (up to websockets' close timeout): not here
            closing = asyncio.create_task(old.connection.close(p.CLOSE_REPLACED, p.REASON_REPLACED))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        log.info(
            "plugin %s paired (%s, Vinted %s)",
            hello.plugin_version,
            hello.browser,
            _describe(hello.vinted),
        )
        self._publish("connected")
        return session

    async def _refuse(
        self, connection: ServerConnection, code: int, reason: str
    ) -> PluginSession | None:
        """Close ``connection`` with ``code`` and ``reason``; no session (None)."""
        log.warning("refused plugin from %s: %s", connection.remote_address, reason)
        await connection.close(code, reason)
        words = _REFUSAL_WORDS.get(code)
        if words is not None:  # the seller can act on these: say so in the window
            self._publish("connected" if self._session else "listening", message=words)
        return None

    def _answer(self, session: PluginSession, data: p.TextData) -> bool:
        """Hand a result to the call waiting for it at once; False for anything else."""
        try:
            frame = p.parse_text(data, self.max_frame)
        except ProtocolError:
            return False  # the reading loop answers with an error frame
        return isinstance(frame, p.Result) and _deliver(session, frame)

    def _receive(self, session: PluginSession, message: str | bytes) -> str | None:
        """Handle one frame of a paired plugin; the reply frame, if any."""
        try:
            frame = p.parse_frame(message, self.max_frame)
        except ProtocolError as exc:
            log.warning("bad frame from the plugin: %s", exc.message)
            return p.build_error(exc.code, exc.message)
        if isinstance(frame, p.Result):
            if _deliver(session, frame):
                return None
            return p.build_error(p.ERR_UNKNOWN_REQUEST, "no call is waiting for that id")
        if isinstance(frame, p.Ping):
            return p.build_pong()
        if isinstance(frame, p.Status):
            if frame.vinted != session.vinted:
                session.vinted = frame.vinted
                log.info("Vinted in the browser: %s", _describe(frame.vinted))
                self._publish("connected")
            return None
        return p.build_error(p.ERR_ALREADY_PAIRED, "this connection is already paired")

    def _publish(self, state: str, message: str | None = None) -> None:
        if self.events is None:
            return
        session = self._session if state == "connected" else None
        vinted = session.vinted if session is not None else None
        self.events.publish(
            BridgeStateChanged(
                state=state,
                port=self.port,
                plugin_version=session.hello.plugin_version if session else None,
                browser=session.hello.browser if session else None,
                vinted_logged_in=vinted.logged_in if vinted else None,
                vinted_login=vinted.login if vinted and vinted.logged_in else None,
                message=message,
                user_id=self.user_id,
            )
        )


_REFUSAL_WORDS = {
    p.CLOSE_BAD_TOKEN: "A browser plugin tried to pair without the right pairing token: "
    "enter the token shown in Settings in the plugin's options",
    p.CLOSE_BAD_VERSION: "A browser plugin of another version tried to connect: install the "
    "plugin that comes with this Marketdesk",
}


def _deliver(session: PluginSession, result: p.Result) -> bool:
    """Hand ``result`` to the call of ``session`` waiting for it; False when none waits."""
    future = session.pending.get(result.id)
    if future is None:
        return False
    if not future.done():
        future.set_result(result)
    return True


def _expire(future: asyncio.Future[p.Result]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


def _describe(vinted: p.VintedSession | None) -> str:
    if vinted is None:
        return "not seen yet"
    if not vinted.logged_in:
        return "logged out"
    return f"logged in as {vinted.login or vinted.user_id} on {vinted.domain or '?'}"
