"""The loopback HTTP server every fake marketplace is built on.

A :class:`FakeMarketplace` owns a ``ThreadingHTTPServer`` bound to 127.0.0.1 on an ephemeral
port, served from a daemon thread, and a routing table of (method, path regex) -> function.
It adds what tests need around the routes: a request log, latency, a per-second and a daily
limit on API calls, injected failures and stalls. Route functions run while holding the fake's
lock, so the state they touch is consistent; test hooks take the same lock.

Order of a request: log it -> injected stall -> latency (API routes) -> injected failure ->
route lookup -> (API routes) subclass pre-check, limits, authorization -> route function.
"""

from __future__ import annotations

import contextlib
import copy
import re
import socket
import socketserver
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from tests.fakes.tokens import TokenStore
from tests.fakes.wire import BadRequestBody, Request, Response, read_chunked

RouteFunc = Callable[[Request], Response]

SECOND_LIMIT = "second"
DAY_LIMIT = "day"


@dataclass(frozen=True)
class Route:
    """One entry of the routing table."""

    method: str
    pattern: re.Pattern[str]
    func: RouteFunc
    api: bool


@dataclass
class _Rule:
    """An injected failure or stall, consumed by the next ``remaining`` matching requests."""

    method: str
    pattern: re.Pattern[str]
    remaining: int
    response: Response | None = None
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.pattern.fullmatch(path) is not None


class _Handler(BaseHTTPRequestHandler):
    """Turns each HTTP/1.1 request into a :class:`Request` and sends the fake's answer."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is dropped after this many seconds
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        try:
            body = self._read_body()
        except (BadRequestBody, ValueError):
            self.close_connection = True
            self._send(Response(400, {"error": "unreadable request body"}))
            return
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
        )
        self._send(self.server.fake.dispatch(request))

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            return read_chunked(self.rfile.readline, self.rfile.read)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise BadRequestBody("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response) -> None:
        payload, headers = response.encode()
        self.send_response(response.status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the fake keeps its own request log."""


class _Server(ThreadingHTTPServer):
    """A threading server that can close its open connections and join its worker threads."""

    daemon_threads = True

    def __init__(self, fake: FakeMarketplace) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.workers: set[threading.Thread] = set()
        self.tracking = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name; loopback needs no DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = int(self.server_address[1])

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        assert isinstance(request, socket.socket)
        worker = threading.Thread(
            target=self._work,
            args=(request, client_address),
            name=f"{type(self.fake).__name__}-conn",
            daemon=True,
        )
        with self.tracking:
            self.connections.add(request)
            self.workers.add(worker)
        worker.start()

    def _work(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.tracking:
                self.connections.discard(request)
                self.workers.discard(threading.current_thread())

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # A client that hangs up (timeouts, stop()) is normal; anything else is recorded.
        error = traceback.format_exc()
        if not any(name in error for name in ("BrokenPipeError", "ConnectionResetError")):
            with self.fake.lock:
                self.fake.server_errors.append(error)

    def drop_connections_and_join(self, timeout: float) -> None:
        with self.tracking:
            connections = list(self.connections)
            workers = list(self.workers)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))


class FakeMarketplace:
    """Base of the fakes: server lifecycle, routing, request log, limits and fault injection.

    Attributes for tests: ``latency`` (seconds slept before every API answer),
    ``requests_per_second`` (None = unlimited; a sliding one-second window over API calls),
    ``daily_quota`` (None = unlimited; API calls admitted since start/``reset_counters``),
    ``calls`` ([(method, path)], every request including OAuth ones), ``api_calls_today``,
    ``server_errors`` (tracebacks of route functions that raised; should stay empty).
    OAuth routes are registered with ``api=False``: they skip latency and the limits.
    """

    #: OAuth codes and tokens handed out (subclasses create it).
    tokens: TokenStore

    def __init__(
        self,
        *,
        latency: float = 0.0,
        requests_per_second: float | None = None,
        daily_quota: int | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.latency = latency
        self.requests_per_second = requests_per_second
        self.daily_quota = daily_quota
        self.calls: list[tuple[str, str]] = []
        self.server_errors: list[str] = []
        self.api_calls_today = 0
        self._window: deque[float] = deque()
        self._routes: list[Route] = []
        self._faults: list[_Rule] = []
        self._stalls: list[_Rule] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Self:
        """Bind 127.0.0.1 on an ephemeral port and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and open connections, join the threads."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a stall or latency
        server.shutdown()
        server.server_close()
        server.drop_connections_and_join(timeout=5.0)
        thread.join(5.0)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL of the running fake, ``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- routing --------------------------------------------------------------------------
    def route(self, method: str, pattern: str, func: RouteFunc, *, api: bool = True) -> None:
        """Register ``func`` for ``method`` on paths fully matching ``pattern``."""
        self._routes.append(Route(method.upper(), re.compile(pattern), func, api))

    def _find(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        path_known = False
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            path_known = True
            if route.method == method:
                return route, match.groupdict(), True
        return None, {}, path_known

    # -- test hooks -----------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        *,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests matching (method or "*", full-match path regex)
        with ``status``/``body``/``headers`` instead of processing them (state is untouched).
        ``body`` is sent as JSON; bytes go out as they are; None sends no body."""
        rule = _Rule(
            method.upper(), re.compile(path_regex), times, Response(status, body, headers or {})
        )
        with self.lock:
            self._faults.append(rule)

    def stall_next(self, method: str, path_regex: str, seconds: float, *, times: int = 1) -> None:
        """Sleep ``seconds`` before handling the next ``times`` matching requests (they are
        then processed normally, like a slow server a client may have given up on)."""
        with self.lock:
            self._stalls.append(_Rule(method.upper(), re.compile(path_regex), times, None, seconds))

    def calls_to(self, method: str, path_regex: str) -> int:
        """How many logged requests match (method or "*", full-match path regex)."""
        rule = _Rule(method.upper(), re.compile(path_regex), 0)
        with self.lock:
            return sum(1 for m, p in self.calls if rule.matches(m, p))

    def expire_access_tokens(self) -> None:
        """Every access token handed out so far is now expired (answers 401)."""
        with self.lock:
            self.tokens.expire_access()

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token handed out so far is now unknown (refresh: invalid_grant)."""
        with self.lock:
            self.tokens.revoke_refresh()

    def reset_counters(self) -> None:
        """Clear the request log, the per-second window and the daily usage."""
        with self.lock:
            self.calls.clear()
            self._window.clear()
            self.api_calls_today = 0

    # -- dispatch -------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        """Answer one request (called from the server's handler threads)."""
        method, path = request.method.upper(), request.path
        with self.lock:
            self.calls.append((method, path))
            stall = self._take_rule(self._stalls, method, path)
        route, params, path_known = self._find(method, path)
        if stall is not None:
            self._stopping.wait(stall.seconds)
        if route is not None and route.api and self.latency > 0:
            self._stopping.wait(self.latency)
        with self.lock:
            fault = self._take_rule(self._faults, method, path)
        if fault is not None and fault.response is not None:
            injected = fault.response
            return Response(injected.status, copy.deepcopy(injected.body), dict(injected.headers))
        if route is None:
            if path_known:
                return self.error_response(405, f"method {method} not allowed on {path}")
            return self.error_response(404, f"no such resource: {path}")
        request.params = params
        with self.lock:
            response = self._run(route, request)
            return self.decorate(request, response) if route.api else response

    def _run(self, route: Route, request: Request) -> Response:
        try:
            if route.api:
                early = self.precheck(request)
                if early is not None:
                    return early
                exceeded = self._take_quota()
                if exceeded is not None:
                    return self.too_many_requests(exceeded)
                early = self.authorize(request)
                if early is not None:
                    return early
            return route.func(request)
        except BadRequestBody as exc:
            return self.error_response(400, str(exc))
        except Exception:
            self.server_errors.append(traceback.format_exc())
            return self.error_response(500, "internal error in the fake")

    @staticmethod
    def _take_rule(rules: list[_Rule], method: str, path: str) -> _Rule | None:
        for rule in rules:
            if rule.matches(method, path):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
                return rule
        return None

    def _prune_window(self) -> None:
        horizon = time.monotonic() - 1.0
        while self._window and self._window[0] <= horizon:
            self._window.popleft()

    def _take_quota(self) -> str | None:
        """Admit one API call, or say which limit ("day" or "second") refuses it."""
        self._prune_window()
        if self.daily_quota is not None and self.api_calls_today >= self.daily_quota:
            return DAY_LIMIT
        rps = self.requests_per_second
        if rps is not None and len(self._window) >= rps:
            return SECOND_LIMIT
        self._window.append(time.monotonic())
        self.api_calls_today += 1
        return None

    def calls_this_second(self) -> int:
        """API calls admitted in the last second."""
        with self.lock:
            self._prune_window()
            return len(self._window)

    # -- what subclasses shape ------------------------------------------------------------
    def precheck(self, request: Request) -> Response | None:
        """Refuse an API call before it counts against the limits (e.g. a bad API key)."""
        return None

    def authorize(self, request: Request) -> Response | None:
        """Refuse an API call that is not authorized (after the limits)."""
        return None

    def decorate(self, request: Request, response: Response) -> Response:
        """Add headers every API answer carries."""
        return response

    def too_many_requests(self, limit: str) -> Response:
        """The 429 answer for the per-second (``"second"``) or daily (``"day"``) limit."""
        headers = {"Retry-After": "1"} if limit == SECOND_LIMIT else {}
        return Response(429, {"error": "Too many requests"}, headers)

    def error_response(self, status: int, message: str) -> Response:
        """A generic error in the marketplace's own shape."""
        return Response(status, {"error": message})
