"""Every address is checked fully when the configuration is read (issue #15, 8)."""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core.addresses import AddressError, check_device_address, check_url
from micboard_desktop.core.config import parse_config
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.plugins.shure.plugin import split_address

GOOD = [
    "192.168.1.50",
    "192.168.1.51:2202",
    "rx-7.stage.local",
    "[::1]:2202",
    "::1",
    "fe80::1",
    "https://192.168.1.60",
    "http://127.0.0.1:9443",
    "https://[::1]:8443",
    "ssc1://10.0.0.9",
    "mcp://10.0.0.9:53212",
    "uhfr://rack-1:2202",
]
BAD = [
    "https://[::1",
    "http://[::1",
    "https://host:99999",
    "https://host:0",
    "https://host:",
    "https://",
    "https://user:pw@host",
    "host:99999",
    "host:abc",
    "host:",
    "[::1",
    "[::1]x",
    "[nope]:2202",
    "1.2.3.4.5",
    "-bad-.example",
    "a..b",
    "ho st",
    "\x1b[31m",
    "::1::2",
]


@pytest.mark.parametrize("address", GOOD)
def test_good_addresses_pass(address: str) -> None:
    assert check_device_address(address) == address


@pytest.mark.parametrize("address", BAD)
def test_bad_addresses_fail_in_words(address: str) -> None:
    with pytest.raises(AddressError):
        check_device_address(address)


@pytest.mark.parametrize(
    ("key", "value"),
    [("devices", ["https://[::1"]), ("api_url", "http://[::1"), ("devices", ["rx:70000"])],
)
def test_config_names_the_key_of_a_broken_address(key: str, value: object) -> None:
    data = {"manufacturers": [{"code": "shure", key: value}]}
    with pytest.raises(ConfigError, match=rf"manufacturers\[0\]\.{key}"):
        parse_config(data)


def test_lan_host_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"lan\.host"):
        parse_config({"lan": {"host": "not a host!"}})


def _connectable(address: str) -> None:
    """What the plugins and asyncio do with an address: none of it may raise."""
    if "://" in address:
        parts = urlsplit(address)
        port = parts.port
        host = parts.hostname
        assert host
        assert port is None or 1 <= port <= 65535
    else:
        host, port = split_address(address)
        assert 1 <= port <= 65535
    if not _is_ip(host):
        host.encode("idna")  # a host name the resolver can be asked about
    asyncio.run(_resolves_or_fails_cleanly(host, port or 443))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def _resolves_or_fails_cleanly(host: str, port: int) -> None:
    # Only IP literals are resolved (no DNS traffic from tests); a name is checked above.
    if _is_ip(host):
        await asyncio.get_running_loop().getaddrinfo(host, port)


ADDRESS_TEXT = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, host, port: f"{scheme}{host}{port}",
        st.sampled_from(["", "https://", "http://", "ssc1://", "mcp://", "x://"]),
        st.sampled_from(["[::1", "[::1]", "::1", "10.0.0.1", "rx-1", "", "a..b", "[fe80::1]"]),
        st.sampled_from(["", ":", ":0", ":2202", ":65536", ":x", "/path", "]"]),
    ),
)


@given(ADDRESS_TEXT)
def test_an_address_that_passes_can_be_used_without_error(address: str) -> None:
    try:
        checked = check_device_address(address.strip())
    except AddressError:
        return
    _connectable(checked)


@given(st.text(max_size=80))
def test_check_url_never_raises_anything_but_address_error(url: str) -> None:
    try:
        check_url(url)
    except AddressError:
        pass
