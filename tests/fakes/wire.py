"""HTTP plumbing for the fake marketplaces: parsed requests, answers, body decoding.

Nothing here knows about eBay or Etsy. A :class:`Request` is what a route function receives;
a :class:`Response` is what it returns. Bodies are decoded on demand: JSON, URL-encoded forms
and ``multipart/form-data`` (only field values and the names/sizes of file parts are kept).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, unquote


class BadRequestBody(ValueError):
    """The request body could not be decoded as the content type it claims."""


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart body: its field name, file name and size in bytes."""

    name: str
    filename: str
    size: int
    content_type: str


@dataclass
class Request:
    """One HTTP request as seen by a route function."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The value of a header (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def arg(self, name: str) -> str | None:
        """The last value of a query parameter, or None."""
        values = self.query.get(name)
        return values[-1] if values else None

    def param(self, name: str) -> str:
        """A named group of the route's path pattern, percent-decoded."""
        return unquote(self.params[name])

    @property
    def content_type(self) -> str:
        """The media type of the body, lower case, without parameters."""
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body decoded as JSON (BadRequestBody if it is not)."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequestBody(f"body is not valid JSON: {exc}") from exc

    def form(self) -> dict[str, str]:
        """The body decoded as an URL-encoded form (last value wins)."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequestBody("form body is not UTF-8") from exc
        return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def fields(self) -> dict[str, Any]:
        """Body fields whatever the encoding: a JSON object, a form, or multipart fields."""
        kind = self.content_type
        if kind == "application/json":
            data = self.json()
            if not isinstance(data, dict):
                raise BadRequestBody("JSON body must be an object")
            return data
        if kind == "multipart/form-data":
            return dict(self.multipart()[0])
        if not self.body:
            return {}
        return dict(self.form())

    def multipart(self) -> tuple[dict[str, str], list[UploadedFile]]:
        """The text fields and file parts of a multipart/form-data body."""
        boundary = _boundary(self.header("Content-Type") or "")
        return parse_multipart(self.body, boundary)


@dataclass
class Response:
    """An answer: status, headers, and a body (JSON-able value, raw bytes, or None)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        """The body bytes and the headers to send (Content-Type set for JSON bodies)."""
        headers = dict(self.headers)
        if self.body is None:
            return b"", headers
        if isinstance(self.body, bytes):
            headers.setdefault("Content-Type", "application/octet-stream")
            return self.body, headers
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body).encode("utf-8"), headers


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer."""
    return Response(status, body, dict(headers or {}))


def empty_response(status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
    """An answer without a body."""
    return Response(status, None, dict(headers or {}))


def redirect(location: str) -> Response:
    """A 302 redirect."""
    return Response(302, None, {"Location": location})


def _boundary(content_type: str) -> str:
    message = Message()
    message["Content-Type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise BadRequestBody("multipart body without a boundary")
    return boundary


def _disposition(headers: Message) -> tuple[str | None, str | None]:
    name = headers.get_param("name", header="content-disposition")
    filename = headers.get_param("filename", header="content-disposition")
    return (
        name if isinstance(name, str) else None,
        filename if isinstance(filename, str) else None,
    )


def parse_multipart(body: bytes, boundary: str) -> tuple[dict[str, str], list[UploadedFile]]:
    """Split a multipart/form-data body into text fields and file parts."""
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise BadRequestBody("multipart body has no parts")
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    for chunk in chunks[1:-1]:
        part = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            raise BadRequestBody("multipart part without a header block")
        headers = Message()
        for line in head.decode("latin-1").split("\r\n"):
            key, colon, value = line.partition(":")
            if colon:
                headers[key.strip()] = value.strip()
        name, filename = _disposition(headers)
        if name is None:
            raise BadRequestBody("multipart part without a name")
        if filename is not None:
            ctype = headers.get("Content-Type", "application/octet-stream")
            files.append(UploadedFile(name, filename, len(content), str(ctype)))
        else:
            fields[name] = content.decode("utf-8", errors="replace")
    if not chunks[-1].startswith(b"--"):
        raise BadRequestBody("multipart body is not terminated")
    return fields, files


def read_chunked(readline: Callable[[int], bytes], read: Callable[[int], bytes]) -> bytes:
    """Read a ``Transfer-Encoding: chunked`` body through the given file methods."""
    out = bytearray()
    while True:
        size_line = readline(65537)
        match = re.match(rb"\s*([0-9a-fA-F]+)", size_line)
        if match is None:
            raise BadRequestBody("malformed chunk size")
        size = int(match.group(1), 16)
        if size == 0:
            while readline(65537) not in (b"\r\n", b"\n", b""):
                pass
            return bytes(out)
        out += read(size)
        read(2)
