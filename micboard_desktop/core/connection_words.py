"""Say in plain words what a connection is, where it goes and why it is in its state.

The connections view and (later) the ``status`` command show the same words, so they are
made here, without Qt. A technician reads "No answer from 192.168.1.50:2202", not
``[Errno 110] Connect call failed``; the raw error stays available next to the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

from micboard_desktop.core.control import ConnectionView
from micboard_desktop.core.coordinator import AUTH_FAILED_MESSAGE
from micboard_desktop.core.model import ConnectionStatus

SILENT_AFTER_SECONDS: Final = 60.0
"""A connected link that sent nothing for this long is called silent (as the engine logs it)."""

PASSWORD_REFUSED: Final = "Password refused \u2014 enter it in Settings"
STOPPED_BY_USER: Final = "Stopped by you"

# (substrings of a low-level error, lower case) -> words; ``{address}`` is filled in.
# Ordered: the first matching rule wins, so the more specific texts come first.
_ERROR_WORDS: Final[tuple[tuple[tuple[str, ...], str], ...]] = (
    ((AUTH_FAILED_MESSAGE, "refused the api key"), PASSWORD_REFUSED),
    (("certificate_verify_failed", "certificate verify failed", "self-signed", "self signed"),
     "Certificate not trusted \u2014 pin it or choose another TLS mode in Settings"),
    # DeviceMismatch from plugins/tls.py: terminal, so no "retrying" in these words.
    (("pinned certificate", "does not match the pinned"),
     "Certificate changed \u2014 not the device that was pinned; check it, then pin again"),
    (("name or service not known", "nodename nor servname", "getaddrinfo failed",
      "name resolution", "no address associated"),
     "Unknown host name {address} \u2014 check the address in Settings"),
    (("no route to host", "host is unreachable", "network is unreachable"),
     "No route to {address} \u2014 check the network cable and the address"),
    (("connection refused", "connect call failed", "errno 111", "errno 61", "winerror 10061"),
     "{address} refused the connection \u2014 wrong port, or its network control is off"),
    (("no data for", "device silent"), "{address} stopped sending data"),
    (("timed out", "timeout", "no answer in time", "errno 110", "errno 60",
      "all connection attempts failed", "unreachable"),
     "No answer from {address}"),
    (("connection reset", "broken pipe", "closed by the device", "closed the subscription",
      "connection closed", "ended before", "stream broken"),
     "{address} closed the connection"),
)


@dataclass(frozen=True, slots=True)
class ConnectionWords:
    """A connection as people name it: receiver, address and why it is in its state."""

    receiver: str
    """The receiver's name and model, or the address while no receiver is known."""
    address: str
    """Where the connection goes (``host:port``)."""
    why: str
    """Its state explained in a sentence (never empty)."""


def connection_address(connection_id: str, manufacturer: str, api_url: str | None = None) -> str:
    """Return where a connection goes, from its id (``shure:10.0.0.5:2202`` -> ``10.0.0.5:2202``).

    Connection ids are ``<manufacturer>:<key>``; a device connection's key is its address.
    A key that is no address (no dot, no port: ``system-api``) is the manufacturer's API
    server, so its address comes from ``api_url`` when there is one.
    """
    key = _key_of(connection_id, manufacturer)
    if not _is_address(key) and api_url:
        return urlsplit(api_url).netloc or api_url
    return key


def _key_of(connection_id: str, manufacturer: str) -> str:
    """Return the part of ``<manufacturer>:<key>`` (or ``<manufacturer>/<key>``) after it."""
    for separator in (":", "/"):
        prefix = f"{manufacturer}{separator}"
        if connection_id.startswith(prefix):
            return connection_id[len(prefix):]
    return connection_id


def _is_address(key: str) -> bool:
    """Return True for a device address (``10.0.0.5:2202``), False for a word (``system-api``)."""
    return "." in key or ":" in key or "/" in key or key == "localhost"


def receiver_label(name: str | None, model: str | None, fallback: str) -> str:
    """Return ``"Stage Left (ULXD4Q)"``, ``"Stage Left"`` or ``fallback`` when nothing is known."""
    if name and model and model not in name:
        return f"{name} ({model})"
    return name or model or fallback


def readable_error(error: str, address: str) -> str:
    """Turn a low-level error text into words a technician can act on.

    Unknown texts are returned as they are (with a capital first letter): a message the
    rules do not know is still better than none.
    """
    lowered = error.lower()
    for needles, words in _ERROR_WORDS:
        if any(needle in lowered for needle in needles):
            return words.format(address=address)
    return error[:1].upper() + error[1:]


def why_words(
    status: ConnectionStatus,
    *,
    address: str,
    enabled: bool = True,
    reconnects: int = 0,
    last_error: str | None = None,
    auth_blocked: bool = False,
    note: str | None = None,
    silent_for: timedelta | None = None,
) -> str:
    """Explain in one sentence why a connection is in ``status``.

    Args:
        status: The connection's state.
        address: Where it goes, quoted in the words ("No answer from 10.0.0.5:2202").
        enabled: ``False`` when the user stopped it.
        reconnects: How many times it has reconnected since the app started.
        last_error: The last low-level error, if any.
        auth_blocked: The device refused the credentials; no retry until they change.
        note: A plugin's explanation that is not an error; appended to the words.
        silent_for: How long a connected link has sent nothing (``None``: unknown).
    """
    words = _state_words(status, address, enabled, reconnects, last_error, auth_blocked,
                         silent_for)
    if note:
        return f"{words}. {note}" if words else note
    return words


def _state_words(
    status: ConnectionStatus,
    address: str,
    enabled: bool,
    reconnects: int,
    last_error: str | None,
    auth_blocked: bool,
    silent_for: timedelta | None,
) -> str:
    if not enabled:
        return STOPPED_BY_USER
    if auth_blocked:
        return PASSWORD_REFUSED
    error = readable_error(last_error, address) if last_error else None
    if status is ConnectionStatus.STOPPED:
        return "Stopped"
    if status is ConnectionStatus.CONNECTED:
        if silent_for is not None and silent_for.total_seconds() > SILENT_AFTER_SECONDS:
            return f"Connected, but no data for {_seconds(silent_for)}"
        return "Receiving data"
    if status is ConnectionStatus.CONNECTING:
        if reconnects == 0 and error is None:
            return f"Connecting to {address}"
        # ``reconnects`` counts every retry since the app started, not only this outage's,
        # so the words say so rather than pretend it is this outage's attempt number.
        attempt = f"Reconnecting (try {reconnects} since start)" if reconnects else "Reconnecting"
        return f"{attempt} \u2014 last time: {error}" if error else attempt
    if status is ConnectionStatus.DISCONNECTED:
        lost = f"Connection lost: {error}" if error else f"Connection to {address} lost"
        return f"{lost}; retrying"
    return error or f"Cannot connect to {address}; retrying"


def _seconds(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def _server_name(view: ConnectionView) -> str | None:
    """Name a connection to a manufacturer's API server (``shure:system-api``), not a device.

    Such a connection has no receiver of its own; its key is a word, not an address.
    """
    key = _key_of(view.state.connection_id, view.manufacturer)
    if not key or _is_address(key):
        return None
    words = key.replace("-", " ").replace("_", " ").split()
    name = " ".join(w.upper() if len(w) <= 3 else w.capitalize() for w in words)
    return f"{view.manufacturer.capitalize()} {name}"


def connection_words(view: ConnectionView, now: datetime) -> ConnectionWords:
    """Name a connection by its receiver and explain its state (what the views show)."""
    state = view.state
    address = view.address or connection_address(state.connection_id, view.manufacturer)
    last = state.last_message_at
    why = why_words(
        state.status,
        address=address,
        enabled=view.enabled,
        reconnects=state.reconnects,
        last_error=state.last_error,
        auth_blocked=state.auth_blocked,
        note=state.note,
        silent_for=None if last is None else now - last,
    )
    return ConnectionWords(
        receiver=receiver_label(
            view.receiver_name, view.receiver_model, _server_name(view) or address
        ),
        address=address,
        why=why,
    )
