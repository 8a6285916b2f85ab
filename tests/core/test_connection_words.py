"""Connections named by receiver and explained in words (issue #15, item 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from micboard_desktop.core.connection_words import (
    PASSWORD_REFUSED,
    STOPPED_BY_USER,
    connection_address,
    connection_words,
    readable_error,
    receiver_label,
    why_words,
)
from micboard_desktop.core.control import ConnectionView
from micboard_desktop.core.coordinator import AUTH_FAILED_MESSAGE, ConnectionState
from micboard_desktop.core.model import ConnectionStatus, Transport

NOW = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
ADDRESS = "192.168.1.50:2202"


@pytest.mark.parametrize(
    ("connection_id", "manufacturer", "api_url", "address"),
    [
        ("shure:192.168.1.50:2202", "shure", None, "192.168.1.50:2202"),
        ("sennheiser:10.0.1.9", "sennheiser", None, "10.0.1.9"),
        ("shure/10.0.0.5", "shure", None, "10.0.0.5"),
        ("shure:system-api", "shure", "https://10.0.0.2:10000/api", "10.0.0.2:10000"),
        ("shure:system-api", "shure", None, "system-api"),
    ],
)
def test_the_address_comes_from_the_connection_id(connection_id, manufacturer, api_url, address):
    assert connection_address(connection_id, manufacturer, api_url) == address


def test_a_receiver_is_named_by_name_and_model_else_by_address():
    assert receiver_label("Stage Left", "ULXD4Q", ADDRESS) == "Stage Left (ULXD4Q)"
    assert receiver_label("Stage Left", None, ADDRESS) == "Stage Left"
    assert receiver_label("AD4Q 1-4", "AD4Q", ADDRESS) == "AD4Q 1-4"  # model said once
    assert receiver_label(None, None, ADDRESS) == ADDRESS


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("[Errno 111] Connect call failed ('192.168.1.50', 2202)",
         "192.168.1.50:2202 refused the connection"),
        ("timed out", "No answer from 192.168.1.50:2202"),
        ("GET /api/device/identity: no answer in time", "No answer from 192.168.1.50:2202"),
        ("[Errno 113] No route to host", "No route to 192.168.1.50:2202"),
        ("[Errno -2] Name or service not known", "Unknown host name 192.168.1.50:2202"),
        ("no data for 5.0 s", "192.168.1.50:2202 stopped sending data"),
        ("connection closed by the device", "192.168.1.50:2202 closed the connection"),
        (AUTH_FAILED_MESSAGE, PASSWORD_REFUSED),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate",
         "Certificate not trusted"),
        ("certificate fingerprint AB does not match the pinned CD", "Certificate changed"),
    ],
)
def test_low_level_errors_become_words(error, words):
    assert readable_error(error, ADDRESS).startswith(words)


def test_an_unknown_error_is_kept_as_it_is():
    assert readable_error("System API device list has an unexpected shape", ADDRESS) == (
        "System API device list has an unexpected shape"
    )


def test_why_says_who_stopped_it_and_what_to_do_about_a_password():
    assert why_words(ConnectionStatus.STOPPED, address=ADDRESS, enabled=False) == STOPPED_BY_USER
    refused = why_words(ConnectionStatus.ERROR, address=ADDRESS, auth_blocked=True,
                        last_error=AUTH_FAILED_MESSAGE)
    assert refused == "Password refused \u2014 enter it in Settings"


def test_why_counts_reconnects_and_quotes_the_last_failure():
    words = why_words(ConnectionStatus.CONNECTING, address=ADDRESS, reconnects=3,
                      last_error="timed out")
    assert words == f"Reconnecting (try 3 since start) \u2014 last time: No answer from {ADDRESS}"
    assert why_words(ConnectionStatus.CONNECTING, address=ADDRESS) == f"Connecting to {ADDRESS}"


def test_why_explains_a_lost_or_failing_connection():
    lost = why_words(ConnectionStatus.DISCONNECTED, address=ADDRESS, last_error="timed out")
    assert lost == f"Connection lost: No answer from {ADDRESS}; retrying"
    failing = why_words(ConnectionStatus.ERROR, address=ADDRESS,
                        last_error="[Errno 111] Connection refused")
    assert failing.startswith(f"{ADDRESS} refused the connection")


def test_a_connected_link_is_fine_unless_it_went_silent():
    assert why_words(ConnectionStatus.CONNECTED, address=ADDRESS,
                     silent_for=timedelta(seconds=2)) == "Receiving data"
    silent = why_words(ConnectionStatus.CONNECTED, address=ADDRESS,
                       silent_for=timedelta(seconds=75))
    assert silent == "Connected, but no data for 75 s"


def test_a_plugin_note_is_shown_with_the_state():
    note = "Two Shure records for 10.0.0.5 were not merged: their serial numbers differ"
    words = why_words(ConnectionStatus.CONNECTED, address=ADDRESS, note=note)
    assert words == f"Receiving data. {note}"


def test_connection_words_name_the_receiver_and_fall_back_to_the_address():
    state = ConnectionState("shure:192.168.1.50:2202", Transport.TCP, ConnectionStatus.ERROR,
                            last_error="timed out", last_message_at=NOW - timedelta(minutes=3))
    unknown = connection_words(ConnectionView("shure", state), NOW)
    assert (unknown.receiver, unknown.address) == (ADDRESS, ADDRESS)
    assert unknown.why == f"No answer from {ADDRESS}"
    named = connection_words(
        ConnectionView("shure", state, receiver_name="Stage Left", receiver_model="ULXD4Q"), NOW
    )
    assert named.receiver == "Stage Left (ULXD4Q)"
    assert named.address == ADDRESS


def test_an_api_server_connection_is_named_as_the_server_not_by_its_address():
    state = ConnectionState("shure:system-api", Transport.WEBSOCKET, ConnectionStatus.CONNECTED)
    words = connection_words(ConnectionView("shure", state, address="10.0.0.2:10000"), NOW)
    assert words.receiver == "Shure System API"
    assert words.address == "10.0.0.2:10000"
