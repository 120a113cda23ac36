"""Where a webhook may be sent: the one home of the endpoint address rules (SSRF).

An endpoint is an ``https://`` URL whose host is, and resolves to, public addresses only: never
loopback, private, link-local (cloud metadata), multicast, reserved or unspecified. With
``settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP`` (the tests, a local demo; forced off in production)
``http://127.0.0.1``, ``http://localhost`` and ``http://[::1]`` are allowed too and the address
checks are skipped. The address is checked when an endpoint is saved and again, after a fresh DNS
lookup, at each delivery, which then connects to the very address it checked (no rebinding
between the check and the connection)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_URL_LENGTH = 500


class AddressRefused(Exception):
    """The endpoint's host resolves to an address a webhook may not reach."""


def loopback_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK_HTTP", False))


def check_url(url: str) -> None:
    """Refuse (ValidationError) an endpoint URL that is not ``https://host[:port]/path`` with a
    public host; plain HTTP only to loopback when the setting allows it. No DNS lookup here
    (``check_resolves_public`` does that)."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise ValidationError(f"Give an https:// address of at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError("This is not a valid address.") from None
    host = (parts.hostname or "").lower()
    if not host or any(c.isspace() for c in url):
        raise ValidationError("This is not a valid address.")
    if parts.username or parts.password:
        raise ValidationError("The address may not carry a user name or password; sign with the endpoint's secret.")
    if parts.fragment:
        raise ValidationError("The address may not have a #fragment.")
    if port == 0:
        raise ValidationError("This is not a valid port.")
    if parts.scheme == "http" and host in LOOPBACK_HOSTS and loopback_allowed():
        return
    if parts.scheme != "https":
        raise ValidationError("Webhook endpoints must use https://.")
    if loopback_allowed():
        return
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not is_public(literal):
            raise ValidationError("Webhook endpoints may not be private, loopback or link-local addresses.")
    elif host in LOOPBACK_HOSTS or host.endswith((".localhost", ".local", ".internal")) or "." not in host.strip("."):
        raise ValidationError("Webhook endpoints must be on a public host name or address.")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, public ones only unless loopback is allowed; refuse
    (AddressRefused) a host that resolves to any other."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not loopback_allowed():
        for address in addresses:
            if not is_public(ipaddress.ip_address(address.split("%")[0])):
                raise AddressRefused(f"{host} resolves to a non-public address")
    if not addresses:
        raise AddressRefused(f"cannot resolve {host}")
    return addresses


def check_resolves_public(url: str) -> None:
    """Refuse (ValidationError) an endpoint whose host resolves to a non-public address (or not
    at all). Skipped when loopback is allowed."""
    if loopback_allowed():
        return
    parts = urlsplit(url)
    try:
        resolve(parts.hostname or "", parts.port or 443)
    except AddressRefused as exc:
        raise ValidationError(f"Webhook endpoints must resolve to public addresses ({exc}).") from None
