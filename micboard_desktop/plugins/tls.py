"""TLS modes shared by every plugin: ``verify``, ``insecure`` and a pinned fingerprint.

Receivers and the Shure System API ship self-signed certificates. ``verify`` is the safe
default and works once the certificate is trusted by the OS. ``insecure`` accepts any
certificate (the user asked for it explicitly). ``sha256:<hex>`` accepts exactly one
certificate, whatever its issuer: the handshake itself skips chain validation, and
:func:`check_pinned_certificate` compares the peer's DER bytes with the pin on every
response, so a different device answering at the address is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import ssl
from typing import Any
from urllib.parse import urlsplit

from micboard_desktop.core.errors import DeviceMismatch

PIN_PREFIX = "sha256:"


def normalize_fingerprint(text: str) -> str:
    """Return a fingerprint as 64 lower-case hex digits (accepts colons and upper case)."""
    digits = text.removeprefix(PIN_PREFIX).replace(":", "").strip().lower()
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise ValueError(f"not a SHA-256 fingerprint: {text!r}")
    return digits


def certificate_fingerprint(der: bytes) -> str:
    """Return the SHA-256 fingerprint (hex) of a DER-encoded certificate."""
    return hashlib.sha256(der).hexdigest()


@functools.lru_cache(maxsize=8)
def client_ssl_context(mode: str) -> ssl.SSLContext:
    """Return the client SSL context for a configured TLS mode (shared; do not modify it).

    Building one loads the whole CA bundle: done per device and per poll it cost 18 % of
    the engine's CPU with 500 channels, so each mode's context is built once.
    """
    if mode == "verify":
        return ssl.create_default_context()
    if mode == "insecure" or mode.startswith(PIN_PREFIX):
        if mode != "insecure":
            normalize_fingerprint(mode)  # reject a malformed pin before connecting
        context = ssl.create_default_context()
        # Chain validation is off on purpose here: 'insecure' was chosen by the user, and a
        # pinned certificate is checked byte for byte after the handshake instead.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # insecure or pinned mode only
        return context
    raise ValueError(f"unknown TLS mode {mode!r}")


def peer_certificate(extra_info: Any) -> bytes | None:
    """Return the peer's DER certificate from an ``ssl_object`` (or ``None`` if not TLS)."""
    if extra_info is None:
        return None
    der = extra_info.getpeercert(binary_form=True)
    return der if isinstance(der, bytes) else None


def check_pinned_certificate(mode: str, der: bytes | None) -> None:
    """Raise :class:`DeviceMismatch` unless ``der`` matches the pin in ``mode``.

    Does nothing for the ``verify`` and ``insecure`` modes.
    """
    if not mode.startswith(PIN_PREFIX):
        return
    expected = normalize_fingerprint(mode)
    if der is None:
        raise DeviceMismatch("a pinned certificate was configured but the device sent none")
    actual = certificate_fingerprint(der)
    if actual != expected:
        raise DeviceMismatch(
            f"certificate fingerprint {actual} does not match the pinned {expected}"
        )


def check_httpx_response(mode: str, response: Any) -> None:
    """Check the pin against the TLS connection an ``httpx.Response`` arrived on."""
    if not mode.startswith(PIN_PREFIX):
        return
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    check_pinned_certificate(mode, peer_certificate(ssl_object))


async def fetch_fingerprint(url: str, *, within_seconds: float = 5.0) -> str:
    """Connect to an ``https://`` URL and return its certificate as ``"sha256:<hex>"``.

    The handshake accepts any certificate on purpose: the point is to show the user what
    the device presents so they can compare it (on the device's screen or web page) and pin
    it, which is how self-signed receivers are trusted safely.

    Raises:
        ValueError: ``url`` is not an https URL.
        OSError: the device cannot be reached (``TimeoutError`` after ``within_seconds``).
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"not an https:// URL: {url!r}")
    port = parts.port or 443
    context = client_ssl_context("insecure")
    async with asyncio.timeout(within_seconds):
        _reader, writer = await asyncio.open_connection(
            parts.hostname, port, ssl=context, server_hostname=parts.hostname
        )
    try:
        der = peer_certificate(writer.get_extra_info("ssl_object"))
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    if der is None:
        raise OSError(f"{url} sent no certificate")
    digest = certificate_fingerprint(der).upper()
    return PIN_PREFIX + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
