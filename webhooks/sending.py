"""Sending one webhook: the signed POST and its answer. No redirects are followed and no proxy is
used; the connection goes to the address that was checked (``addresses.resolve``)."""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from webhooks import addresses

TIMEOUT_SECONDS = 5
USER_AGENT = "KentForum-Webhooks/1"


def body_bytes(payload: dict) -> bytes:
    """The body as sent: compact JSON, keys sorted, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256, keyed by the endpoint's secret, of "<timestamp>.<body>"."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(*, secret: str, event: str, delivery_id: str, body: bytes, timestamp: int | None = None) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-KentForum-Event": event,
        "X-KentForum-Delivery": delivery_id,
        "X-KentForum-Timestamp": stamp,
        "X-KentForum-Signature": signature(secret, stamp, body),
    }


@dataclass(frozen=True)
class Answer:
    """What the endpoint said: a status code (None if no answer) and, if it was not 2xx, why."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A connection to the first of the checked addresses that answers."""
    error = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host, port, *, addresses, timeout):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self):
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to the checked address, verified against the host name (certificate and SNI)."""

    def __init__(self, host, port, *, addresses, timeout):
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.addresses = addresses

    def connect(self):
        self.sock = self.tls.wrap_socket(_connect(self.addresses, self.port, self.timeout), server_hostname=self.host)


def post(url: str, *, headers: dict, body: bytes, timeout: float = TIMEOUT_SECONDS) -> Answer:
    """POST ``body`` to ``url``; never raises for the network or the endpoint's answer."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        resolved = addresses.resolve(parts.hostname or "", port)
    except addresses.AddressRefused as exc:
        return Answer(None, f"refused: {exc}"[:300])
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPS if https else _PinnedHTTP
    connection = connection_class(parts.hostname, port, addresses=resolved, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(2048)
        status = response.status
    except (OSError, http.client.HTTPException, ValueError) as exc:  # network, TLS, a malformed answer
        return Answer(None, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        connection.close()
    if 200 <= status < 300:
        return Answer(status)
    if 300 <= status < 400:
        return Answer(status, f"HTTP {status}: redirects are not followed")
    return Answer(status, f"HTTP {status}")
