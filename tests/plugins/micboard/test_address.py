"""The two forms of an address of another Micboard Desktop."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.plugins.api import PluginError
from micboard_desktop.plugins.micboard.address import parse_endpoint


@pytest.mark.parametrize(
    ("address", "base", "key"),
    [
        ("micboard://10.0.0.7", "http://10.0.0.7:8058", "10.0.0.7:8058"),
        ("micboard://foh.local:9000", "http://foh.local:9000", "foh.local:9000"),
        ("micboard://[fd00::7]:8058", "http://[fd00::7]:8058", "[fd00::7]:8058"),
        ("http://10.0.0.7:8058/api/data/", "http://10.0.0.7:8058", "10.0.0.7:8058"),
        ("http://10.0.0.7:8058/", "http://10.0.0.7:8058", "10.0.0.7:8058"),
        ("https://proxy.example/micboard/api/events/", "https://proxy.example:443/micboard",
         "proxy.example:443"),
    ],
)
def test_forms(address: str, base: str, key: str):
    endpoint = parse_endpoint(address)
    assert endpoint.base_url == base
    assert endpoint.key == key
    assert endpoint.url("/api/data/") == base + "/api/data/"
    assert endpoint.address == address  # the secret is approved for the address as written


@pytest.mark.parametrize("address", ["10.0.0.7:8058", "ftp://10.0.0.7", "micboard://", "http://[::1"])
def test_other_forms_are_refused(address: str):
    with pytest.raises(PluginError):
        parse_endpoint(address)


@given(st.text(max_size=100))
def test_any_text_parses_or_is_refused(text: str):
    try:
        endpoint = parse_endpoint(text)
    except PluginError:
        return
    assert endpoint.base_url.startswith(("http://", "https://"))
    assert 1 <= endpoint.port <= 65535


def test_the_config_file_refuses_another_form_naming_the_key():
    from micboard_desktop.core.config import parse_config
    from micboard_desktop.core.errors import ConfigError

    good = parse_config({"manufacturers": [{"code": "micboard", "devices": [
        "micboard://10.0.0.7", "http://10.0.0.8:8058/api/data/"]}]})
    assert good.manufacturers[0].devices == ("micboard://10.0.0.7", "http://10.0.0.8:8058/api/data/")
    with pytest.raises(ConfigError, match=r"manufacturers\[0\]\.devices\[1\]"):
        parse_config({"manufacturers": [{"code": "micboard", "devices": [
            "micboard://10.0.0.7", "10.0.0.8:8058"]}]})


def test_a_secret_approved_for_micboard_host_also_goes_to_its_default_port():
    from micboard_desktop.core.addresses import endpoint_origin

    assert endpoint_origin("micboard://10.0.0.7") == endpoint_origin("micboard://10.0.0.7:8058")
    assert endpoint_origin("micboard://10.0.0.7") != endpoint_origin("micboard://10.0.0.7:9000")
    assert endpoint_origin("micboard://10.0.0.7") != endpoint_origin("http://10.0.0.7:8058")
