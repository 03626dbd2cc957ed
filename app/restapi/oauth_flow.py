"""Pieces of the OAuth 2.0 connect flows of a desktop program.

- :func:`new_state` and :func:`pkce_pair` (S256, RFC 7636);
- :func:`code_from_redirect`: the seller pastes the page address the marketplace sent
  them to (or just the code); the state is checked and an error the marketplace put in
  the address is reported in its words;
- :func:`token_request`: a POST to a token endpoint with the error shapes of RFC 6749
  mapped onto :mod:`app.restapi.errors`;
- :class:`LoopbackRedirect`: a one-shot HTTP listener on the loopback interface that
  receives the browser's redirect (Etsy), answers a page telling the seller to return to
  Marketdesk, and stops.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import logging
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from app.restapi.client import json_or_none
from app.restapi.errors import (
    ApiAuthError,
    ApiRetryableError,
    InvalidGrantError,
    OAuthError,
)

log = logging.getLogger("marketdesk.oauth")

MAX_REQUEST_BYTES = 16 * 1024


def new_state() -> str:
    """An unguessable ``state`` value tying a redirect to the flow that started it."""
    return secrets.token_urlsafe(24)


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``(code_verifier, code_challenge)`` pair for the S256 method."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def code_from_query(query: dict[str, list[str]], expected_state: str, name: str) -> str:
    """The authorization code of a redirect's query, after checking state and errors."""
    if "error" in query:
        error = query["error"][0]
        description = query.get("error_description", [""])[0]
        raise OAuthError(f"{name} did not grant access: {description or error}", code=error)
    state = query.get("state", [None])[0]
    if state is None or not secrets.compare_digest(state, expected_state):
        raise OAuthError(f"This {name} answer belongs to another connection attempt: start again")
    code = query.get("code", [""])[0]
    if not code:
        raise OAuthError(f"The {name} answer holds no authorization code")
    return code


def code_from_redirect(pasted: str, expected_state: str, name: str) -> str:
    """The code in what the seller pasted: the final page address, or the bare code."""
    text = pasted.strip()
    if not text:
        raise OAuthError(f"Paste the address of the page {name} showed after you agreed")
    if "://" not in text and "?" not in text and "=" not in text:
        return text  # the bare code: no state to check, the seller copied it by hand
    query = parse_qs(urlsplit(text).query or text.lstrip("?"))
    return code_from_query(query, expected_state, name)


async def token_request(
    http: httpx.AsyncClient,
    url: str,
    data: dict[str, str],
    *,
    name: str,
    auth: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """POST ``data`` to a token endpoint and return its JSON answer."""
    try:
        response = await http.post(
            url,
            data=data,
            auth=httpx.BasicAuth(*auth) if auth else httpx.USE_CLIENT_DEFAULT,
            headers={"Accept": "application/json"},
        )
    except httpx.TimeoutException as exc:
        raise ApiRetryableError(f"{name} sign-in did not answer in time") from exc
    except httpx.TransportError as exc:
        raise ApiRetryableError(f"Network error talking to {name} sign-in: {exc}") from exc
    body = json_or_none(response) or {}
    if response.is_success and isinstance(body, dict) and body.get("access_token"):
        return body
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
    words = description or error or f"HTTP {response.status_code}"
    if response.status_code >= 500 or response.status_code == 429:
        raise ApiRetryableError(
            f"{name} sign-in is unavailable: {words}", status=response.status_code
        )
    if error == "invalid_grant":
        raise InvalidGrantError(words, status=response.status_code, code=error)
    if error == "invalid_client" or response.status_code == 401:
        raise ApiAuthError(
            f"{name} rejected the app credentials ({words}): check them in Settings",
            status=response.status_code,
            code=error or None,
        )
    raise OAuthError(f"{name} sign-in failed: {words}", status=response.status_code, code=error)


_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Marketdesk</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p></body></html>"
)


class LoopbackRedirect:
    """Receives one OAuth redirect on ``http://localhost:<port><path>``.

    ``await listener.start()`` binds (127.0.0.1, and ::1 where available), then
    ``await listener.wait(timeout)`` returns the query of the first request to ``path``
    that carries ``code`` or ``error``; other requests (a favicon) get 404. The listener
    closes itself after that one redirect or on timeout.
    """

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            raise OAuthError(
                f"The redirect address must be http://localhost:<port>/..., not {redirect_uri}"
            )
        if parts.port is None:
            raise OAuthError(f"The redirect address {redirect_uri} needs a port number")
        self.redirect_uri = redirect_uri
        self.port = parts.port
        self.path = parts.path or "/"
        self._servers: list[asyncio.Server] = []
        self._result: asyncio.Future[dict[str, list[str]]] | None = None

    async def start(self) -> None:
        """Start listening; raises :class:`OAuthError` when the IPv4 port is taken.

        IPv4 loopback is required; IPv6 loopback is added where the system has it (a
        browser may resolve ``localhost`` to ``::1`` first).
        """
        self._result = asyncio.get_running_loop().create_future()
        try:
            self._servers.append(await asyncio.start_server(self._serve, "127.0.0.1", self.port))
        except OSError as exc:
            raise OAuthError(
                f"Cannot listen on port {self.port} for the sign-in redirect: {exc}"
            ) from exc
        try:
            self._servers.append(await asyncio.start_server(self._serve, "::1", self.port))
        except OSError as exc:
            log.debug("no IPv6 loopback for the redirect listener: %s", exc)

    async def wait(self, timeout: float) -> dict[str, list[str]]:
        """The redirect's query parameters; :class:`OAuthError` after ``timeout`` seconds."""
        assert self._result is not None, "start() first"
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except TimeoutError as exc:
            raise OAuthError("No answer from the browser in time: start connecting again") from exc
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop listening."""
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        for server in servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10.0)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        if len(head) > MAX_REQUEST_BYTES:
            await self._answer(writer, 431, "Too large", "The request was too large.")
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        target = urlsplit(parts[1]) if len(parts) == 3 else None
        if target is None or parts[0] != "GET" or target.path != self.path:
            await self._answer(writer, 404, "Not found", "Nothing here.")
            return
        query = parse_qs(target.query)
        if "code" not in query and "error" not in query:
            await self._answer(writer, 400, "Not a sign-in answer", "No code in this address.")
            return
        ok = "code" in query
        await self._answer(
            writer,
            200,
            "Connected" if ok else "Not connected",
            "You can close this tab and return to Marketdesk."
            if ok
            else "Access was not granted. Return to Marketdesk to try again.",
        )
        if self._result is not None and not self._result.done():
            self._result.set_result(query)

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
        head = (
            f"HTTP/1.1 {status} {title}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            "Cache-Control: no-store\r\n\r\n"
        ).encode("latin-1")
        try:
            writer.write(head + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
