"""HTTP plumbing of the remote engine: server addresses, typed errors and server-sent event streams."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mindgarden.core.errors import MindGardenError

log = logging.getLogger(__name__)

# llama-server listens on port 8080 by default; MindGarden never assumes a non-local server.
DEFAULT_BASE_URL = "http://127.0.0.1:8080/v1"
MAX_SERVER_MESSAGE = 300


class RemoteError(MindGardenError):
    """A model server could not be reached or returned an unusable response.

    ``status`` is the HTTP status of the response when there was one, else None.
    """

    def __init__(self, message: str, base_url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.base_url = base_url
        self.status = status


@dataclass(frozen=True)
class ServerAddress:
    """A parsed base URL: scheme, host, port and the path prefix of the OpenAI API (for example ``/v1``)."""

    base_url: str
    scheme: str
    host: str
    port: int
    api_path: str

    def endpoint(self, name: str) -> str:
        return f"{self.api_path}/{name}"


def parse_base_url(base_url: str) -> ServerAddress:
    """Parse ``http(s)://host[:port][/prefix]``; the API path is the prefix plus ``/v1`` unless it ends with ``/v1``."""
    text = base_url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteError(
            f"The server address {base_url!r} is invalid: use http://host:port or https://host:port, "
            f"for example {DEFAULT_BASE_URL}.",
            base_url,
        )
    if parts.username or parts.password:
        # Credentials in the URL would reach logs and the session's model record.
        raise RemoteError(
            "The server address contains a user name or password: remove it and enter the API key "
            "in the API key field instead.",
            f"{parts.scheme}://{parts.hostname}",
        )
    if parts.query or parts.fragment:
        raise RemoteError(
            f"The server address {base_url!r} has a query or fragment: remove everything after '?' or '#'.",
            base_url,
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise RemoteError(f"The server address {base_url!r} has an invalid port ({error}).", base_url) from error
    path = parts.path.rstrip("/")
    api_path = path if path.endswith("/v1") else f"{path}/v1"
    return ServerAddress(text, parts.scheme, parts.hostname, port, api_path)


def open_connection(address: ServerAddress, timeout: float) -> http.client.HTTPConnection:
    """Create a connection; ``timeout`` bounds the connect and every later read, in seconds."""
    if address.scheme == "https":
        return http.client.HTTPSConnection(address.host, address.port, timeout=timeout,
                                           context=ssl.create_default_context())
    return http.client.HTTPConnection(address.host, address.port, timeout=timeout)


def request_headers(api_key: str | None, accept: str) -> dict[str, str]:
    headers = {"Accept": accept, "Content-Type": "application/json", "User-Agent": "MindGarden"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def shutdown_socket(sock: socket.socket) -> None:
    """Unblock a thread that is reading from ``sock`` by shutting the socket down; safe from any thread."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError as error:
        # The socket is already closed, so no reader is blocked on it.
        log.debug("Shutting down a connection socket failed: %s", error)


def connection_error(address: ServerAddress, error: OSError, timeout: float) -> RemoteError:
    """Translate a socket error into a RemoteError that names the server and the fix."""
    url = address.base_url
    if isinstance(error, TimeoutError):
        return RemoteError(
            f"The model server at {url} sent nothing for {timeout:g} seconds. Check that it is running and "
            "not overloaded, or raise the time-out.",
            url,
        )
    if isinstance(error, socket.gaierror):
        return RemoteError(
            f"The host of {url} could not be resolved ({error.strerror or error}). Check the server address.",
            url,
        )
    if isinstance(error, ConnectionRefusedError):
        return RemoteError(
            f"The model server at {url} refused the connection. Start the server, or check the host and port.",
            url,
        )
    if isinstance(error, ssl.SSLError):
        return RemoteError(
            f"The TLS connection to {url} failed ({error}). Check that the server speaks https, "
            "or use an http:// address.",
            url,
        )
    return RemoteError(
        f"The connection to the model server at {url} failed ({error}). Check the server address and "
        "that the server is running.",
        url,
    )


def server_message(body: bytes) -> str:
    """Extract the error text from an error response: OpenAI's ``{"error": {"message": ...}}`` or the raw body."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            text = error if isinstance(error, str) else json.dumps(error)
    if len(text) > MAX_SERVER_MESSAGE:
        text = text[:MAX_SERVER_MESSAGE] + "…"
    return text or "no message"


def status_error(address: ServerAddress, status: int, body: bytes, model: str, path: str) -> RemoteError:
    """Translate an HTTP error status into a RemoteError that names the server and the fix."""
    url = address.base_url
    message = server_message(body)
    if status in (401, 403):
        return RemoteError(
            f"The model server at {url} rejected the API key (HTTP {status}: {message}). "
            "Enter a valid API key for this server.",
            url, status,
        )
    if status == 404:
        return RemoteError(
            f"The model server at {url} returned HTTP 404 for {path} with model {model!r} ({message}). "
            f"Check the model name, and that the address is the API root (for example {DEFAULT_BASE_URL}).",
            url, status,
        )
    if status in (400, 422):
        return RemoteError(
            f"The model server at {url} rejected the request (HTTP {status}: {message}). If it names an "
            "extra sampler setting such as min_p or top_k, turn extra sampler settings off for this server.",
            url, status,
        )
    return RemoteError(
        f"The model server at {url} failed with HTTP {status}: {message}. Check the server's log.",
        url, status,
    )


def malformed_stream(address: ServerAddress, detail: str) -> RemoteError:
    return RemoteError(
        f"The model server at {address.base_url} sent a malformed stream ({detail}). "
        "Check that it is an OpenAI-compatible server.",
        address.base_url,
    )


def iter_sse_data(response: http.client.HTTPResponse) -> Iterator[str]:
    """Yield the ``data`` field of each server-sent event, joining multi-line data with newlines.

    Comment lines (``: ping``) and other fields are skipped. The iterator ends at the end of
    the body; the caller decides whether the stream ended properly (``[DONE]`` or a finish reason).
    """
    data_lines: list[str] = []
    while True:
        raw = response.readline()
        if not raw:
            if data_lines:
                yield "\n".join(data_lines)
            return
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if data_lines:
                yield "\n".join(data_lines)
                data_lines = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data_lines.append(value[1:] if value.startswith(" ") else value)


def parse_chunk(address: ServerAddress, data: str) -> dict[str, Any]:
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as error:
        raise malformed_stream(address, f"invalid JSON in an event ({error}), which starts {data[:80]!r}") from error
    if not isinstance(chunk, dict):
        raise malformed_stream(address, f"an event is {type(chunk).__name__}, expected a JSON object")
    return chunk
