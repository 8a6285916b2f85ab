"""The plugin API's surface is pinned: adding or dropping a name is a deliberate change.

``micboard_desktop.plugins.api`` is the one import a plugin needs (issue #16, 4), and the
vendor packages may import nothing else of ours (import-linter contract), so this list is
what third-party plugins can rely on. Changing it incompatibly means bumping API_VERSION.
"""

import importlib
import types

import micboard_desktop.plugins.api as api

EXPORTED = [
    "API_VERSION",
    "MAX_NAME_CHARS",
    "Audio",
    "AuthFailed",
    "Backoff",
    "Battery",
    "BodyTooLarge",
    "Channel",
    "ChannelId",
    "ChannelKind",
    "Charger",
    "ChargerBattery",
    "ChargerBay",
    "ChargerId",
    "Clock",
    "ConnectionCoordinator",
    "ConnectionInfo",
    "ConnectionState",
    "ConnectionStatus",
    "DeviceChanges",
    "DeviceMismatch",
    "DeviceSink",
    "DiscoveredDevice",
    "Health",
    "HealthStatus",
    "Iem",
    "IemMode",
    "ManufacturerConfig",
    "ManufacturerPlugin",
    "MeterBus",
    "MeterSample",
    "PluginContext",
    "PluginError",
    "RawDevice",
    "Receiver",
    "ReceiverId",
    "Rf",
    "SystemClock",
    "Transmitter",
    "Transport",
    "UdpLink",
    "UpdateFailed",
    "channel_id",
    "check_httpx_response",
    "check_pinned_certificate",
    "clean_optional",
    "clean_text",
    "client_ssl_context",
    "peer_certificate",
    "raw_address",
    "read_capped",
    "receiver_id",
    "replace",
    "resolve_datagram_peer",
    "restamped",
    "same_host",
    "sentinels",
    "utc_now",
    "waiting_receiver",
]


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then everything else.
    if name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def test_the_exported_names_are_pinned() -> None:
    assert api.__all__ == EXPORTED


def test_the_list_is_sorted_without_duplicates() -> None:
    assert sorted(EXPORTED, key=_isort_key) == EXPORTED
    assert len(set(EXPORTED)) == len(EXPORTED)


def test_every_exported_name_is_importable() -> None:
    module = importlib.import_module("micboard_desktop.plugins.api")
    for name in EXPORTED:
        assert getattr(module, name, None) is not None, name
    namespace: dict[str, object] = {}
    exec("from micboard_desktop.plugins.api import *", namespace)
    assert set(EXPORTED) <= namespace.keys()


def test_sentinels_is_exposed_as_a_module() -> None:
    assert isinstance(api.sentinels, types.ModuleType)
    assert callable(api.sentinels.text)
