"""The plugin bridge protocol, free of I/O: admission checks, frame parsing and building.

Everything here is a pure function over strings and dicts, so the rules are tested
synchronously; :mod:`app.bridge.server` only moves frames. JSON goes through orjson (this
is the bridge's hot path). The contract, shared with the plugin, is
``docs/bridge-protocol.md``.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from app.bridge.errors import ProtocolError

VERSION = 1

# Close codes (4000-4999 are the application's own).
CLOSE_BAD_VERSION = 4400
CLOSE_BAD_TOKEN = 4401
CLOSE_NO_HELLO = 4408
CLOSE_REPLACED = 4409
CLOSE_GOING_AWAY = 1001

REASON_TOKEN_MISSING = "pairing token missing"
REASON_TOKEN_WRONG = "pairing token wrong"
REASON_NO_HELLO = "no hello in time"
REASON_BAD_VERSION = "unsupported protocol version"
REASON_REPLACED = "replaced by another plugin session"
REASON_STOPPING = "Marketdesk is stopping"

# Error frame codes.
ERR_MALFORMED = "malformed"
ERR_UNKNOWN_TYPE = "unknown_type"
ERR_UNKNOWN_REQUEST = "unknown_request"
ERR_ALREADY_PAIRED = "already_paired"
ERR_BINARY = "binary_not_accepted"
ERR_BAD_VERSION = "unsupported_version"


@dataclass(frozen=True)
class VintedSession:
    """What the plugin sees of the seller's Vinted login."""

    logged_in: bool
    user_id: str | None = None
    login: str | None = None
    domain: str | None = None


@dataclass(frozen=True)
class Hello:
    """The plugin's first frame: who it is and the pairing token."""

    token: str | None
    plugin_version: str
    browser: str
    vinted: VintedSession | None


@dataclass(frozen=True)
class Result:
    """The answer to one call: ``data`` when ``ok``, else ``error``."""

    id: str
    ok: bool
    data: dict[str, Any]
    error: dict[str, Any]


@dataclass(frozen=True)
class Status:
    """The plugin saw the Vinted login change."""

    vinted: VintedSession


@dataclass(frozen=True)
class Ping:
    """Keep-alive traffic from the plugin."""


Frame = Hello | Result | Status | Ping


# -- admission ----------------------------------------------------------------------------
def host_refusal(host: str | None, port: int) -> str | None:
    """Why a handshake's ``Host`` header is refused (DNS rebinding), or None when fine."""
    if host is None:
        return "host missing"
    allowed = {f"127.0.0.1:{port}", f"localhost:{port}"}
    return None if host.strip().lower() in allowed else "bad host"


def origin_refusal(origin: str | None, allowed: frozenset[str]) -> str | None:
    """Why a handshake's ``Origin`` is refused (exact allow-list), or None when fine."""
    if not origin:
        return "origin missing"
    return None if origin in allowed else "origin not allowed"


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the pairing token."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def hello_refusal(hello: Hello, expected_token: str) -> tuple[int, str] | None:
    """The close code and reason for a hello that must be refused, or None."""
    if not hello.token:
        return CLOSE_BAD_TOKEN, REASON_TOKEN_MISSING
    if not token_matches(hello.token, expected_token):
        return CLOSE_BAD_TOKEN, REASON_TOKEN_WRONG
    return None


def new_request_id() -> str:
    """An unguessable request id."""
    return secrets.token_urlsafe(16)


def new_pairing_token() -> str:
    """A fresh pairing token for the seller to give the plugin."""
    return secrets.token_urlsafe(24)


# -- parsing ------------------------------------------------------------------------------
def _text(obj: dict[str, Any], key: str, *, optional: bool = False) -> str | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ProtocolError(ERR_MALFORMED, f"{key} must be a string")
    return value


def _object(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(ERR_MALFORMED, f"{key} must be an object")
    return value


def _id_text(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ProtocolError(ERR_MALFORMED, f"vinted.{key} must be a string")
    return str(value)


def parse_vinted(value: Any) -> VintedSession | None:
    """A :class:`VintedSession` from its JSON form (None stays None)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProtocolError(ERR_MALFORMED, "vinted must be an object or null")
    logged_in = value.get("logged_in")
    if not isinstance(logged_in, bool):
        raise ProtocolError(ERR_MALFORMED, "vinted.logged_in must be true or false")
    return VintedSession(
        logged_in=logged_in,
        user_id=_id_text(value.get("user_id"), "user_id"),
        login=_id_text(value.get("login"), "login"),
        domain=_id_text(value.get("domain"), "domain"),
    )


TextData = str | bytes | bytearray | memoryview


def decode(message: TextData, max_chars: int) -> dict[str, Any]:
    """The JSON object of a text frame's content; :class:`ProtocolError` for anything else.

    ``message`` may be the frame's raw UTF-8 bytes (orjson checks the encoding).
    """
    if len(message) > max_chars:
        raise ProtocolError(ERR_MALFORMED, "frame too large")
    try:
        obj = orjson.loads(message)
    except orjson.JSONDecodeError:
        raise ProtocolError(ERR_MALFORMED, "frame is not JSON") from None
    if not isinstance(obj, dict):
        raise ProtocolError(ERR_MALFORMED, "frame must be a JSON object")
    version = obj.get("v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProtocolError(ERR_MALFORMED, "frame has no protocol version v")
    if version != VERSION:
        raise ProtocolError(ERR_BAD_VERSION, f"protocol version {version} is not {VERSION}")
    if not isinstance(obj.get("type"), str):
        raise ProtocolError(ERR_MALFORMED, "frame has no type")
    return obj


def parse_frame(message: str | bytes, max_chars: int = 4 * 1024 * 1024) -> Frame:
    """A frame from the plugin as websockets gives it (text: str, binary: bytes), checked."""
    if isinstance(message, bytes):
        raise ProtocolError(ERR_BINARY, "binary frames are not accepted; send JSON text")
    return parse_text(message, max_chars)


def parse_text(message: TextData, max_chars: int = 4 * 1024 * 1024) -> Frame:
    """A text frame's content (str, or its UTF-8 bytes), checked field by field."""
    obj = decode(message, max_chars)
    kind = obj["type"]
    if kind == "hello":
        return Hello(
            token=_text(obj, "token", optional=True),
            plugin_version=_text(obj, "plugin_version", optional=True) or "unknown",
            browser=_text(obj, "browser", optional=True) or "unknown",
            vinted=parse_vinted(obj.get("vinted")),
        )
    if kind == "result":
        request_id = _text(obj, "id")
        ok = obj.get("ok")
        if not isinstance(ok, bool):
            raise ProtocolError(ERR_MALFORMED, "ok must be true or false")
        error = _object(obj, "error")
        if not ok and not isinstance(error.get("code"), str):
            raise ProtocolError(ERR_MALFORMED, "a failed result needs error.code")
        return Result(id=request_id or "", ok=ok, data=_object(obj, "data"), error=error)
    if kind == "status":
        vinted = parse_vinted(obj.get("vinted"))
        if vinted is None:
            raise ProtocolError(ERR_MALFORMED, "status needs vinted")
        return Status(vinted)
    if kind == "ping":
        return Ping()
    raise ProtocolError(ERR_UNKNOWN_TYPE, f"unknown frame type {kind!r}")


# -- building -----------------------------------------------------------------------------
def _dump(obj: dict[str, Any]) -> str:
    return orjson.dumps({"v": VERSION, **obj}).decode()


def build_welcome(session_id: str, server_version: str, max_frame: int) -> str:
    """The answer to an accepted hello."""
    return _dump(
        {
            "type": "welcome",
            "session": session_id,
            "server_version": server_version,
            "max_frame": max_frame,
        }
    )


def build_call(
    request_id: str, action: str, payload: dict[str, Any], timeout_ms: int, pace_ms: int
) -> str:
    """A call for the plugin to run."""
    return _dump(
        {
            "type": "call",
            "id": request_id,
            "action": action,
            "payload": payload,
            "timeout_ms": timeout_ms,
            "pace_ms": pace_ms,
        }
    )


def build_pong() -> str:
    """The answer to a ping."""
    return _dump({"type": "pong"})


def build_error(code: str, message: str) -> str:
    """An error frame about a frame the plugin sent."""
    return _dump({"type": "error", "code": code, "message": message})


def error_fields(error: dict[str, Any]) -> tuple[str, str, int | None, float | None, Any]:
    """``(code, message, status, retry_after, fields)`` of a failed result's error."""
    code = str(error.get("code"))
    message = error.get("message")
    status = error.get("status")
    retry_after = error.get("retry_after")
    return (
        code,
        message if isinstance(message, str) and message else code.replace("_", " "),
        status if isinstance(status, int) and not isinstance(status, bool) else None,
        float(retry_after)
        if isinstance(retry_after, int | float) and not isinstance(retry_after, bool)
        else None,
        error.get("fields") if isinstance(error.get("fields"), dict) else None,
    )
