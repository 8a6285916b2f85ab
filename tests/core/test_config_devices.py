"""``devices`` entries written as inline tables: address, family hint, name (contract §4)."""

import tomllib
from pathlib import Path

import pytest

from micboard_desktop.core.config import DeviceHint, load_config, parse_config
from micboard_desktop.core.config_io import to_mapping, to_toml
from micboard_desktop.core.errors import ConfigError

TEXT = """
[[manufacturers]]
code = "shure"
devices = [
    "10.0.0.1",
    { address = "10.0.0.2:2202", family = "PSM1000", name = "IEM Rack A" },
    { address = "10.0.0.3", family = "ULX-D" },
    { address = "10.0.0.4", name = "MXW Panel" },
    { address = "10.0.0.5" },
]
"""


def test_tables_give_an_address_a_family_and_a_name() -> None:
    config = parse_config(tomllib.loads(TEXT))
    shure = config.manufacturers[0]
    assert shure.devices == ("10.0.0.1", "10.0.0.2:2202", "10.0.0.3", "10.0.0.4", "10.0.0.5")
    assert shure.device_hints == (
        DeviceHint("10.0.0.2:2202", "psm1000", "IEM Rack A"),
        DeviceHint("10.0.0.3", "ulxd", None),
        DeviceHint("10.0.0.4", None, "MXW Panel"),
    )
    assert shure.hint("10.0.0.3") == DeviceHint("10.0.0.3", "ulxd", None)
    assert shure.hint("10.0.0.1") is None


def test_tables_round_trip_through_the_mapping_and_toml() -> None:
    config = parse_config(tomllib.loads(TEXT))
    assert parse_config(to_mapping(config)) == config
    text = to_toml(config)
    assert 'family = "psm1000"' in text
    assert parse_config(tomllib.loads(text)) == config
    devices = to_mapping(config)["manufacturers"][0]["devices"]
    assert devices[0] == "10.0.0.1"
    assert devices[1] == {"address": "10.0.0.2:2202", "family": "psm1000", "name": "IEM Rack A"}
    assert "device_hints" not in to_mapping(config)["manufacturers"][0]


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ('{ address = "10.0.0.2", colour = "red" }', "manufacturers[0].devices[0].colour"),
        ('{ family = "mxw" }', "manufacturers[0].devices[0].address"),
        ('{ address = "not a host!" }', "manufacturers[0].devices[0].address"),
        ('{ address = "10.0.0.2", family = "walkie" }', "manufacturers[0].devices[0].family"),
        ('{ address = "10.0.0.2", family = "--" }', "manufacturers[0].devices[0].family"),
        ('{ address = "10.0.0.2", family = 4 }', "manufacturers[0].devices[0].family"),
        ('{ address = "10.0.0.2", name = "" }', "manufacturers[0].devices[0].name"),
        (f'{{ address = "10.0.0.2", name = "{"x" * 129}" }}', "manufacturers[0].devices[0].name"),
        ("4", "manufacturers[0].devices[0]"),
    ],
)
def test_a_bad_entry_names_its_key(entry: str, key: str) -> None:
    text = f'[[manufacturers]]\ncode = "shure"\ndevices = [{entry}]\n'
    with pytest.raises(ConfigError) as info:
        parse_config(tomllib.loads(text))
    assert info.value.key == key
    assert key in str(info.value)


def test_another_maker_may_name_its_own_families() -> None:
    text = (
        '[[manufacturers]]\ncode = "sennheiser"\n'
        'devices = [{ address = "ssc1://10.0.0.9", family = "EW-DX" }]\n'
    )
    (entry,) = parse_config(tomllib.loads(text)).manufacturers
    assert entry.device_hints == (DeviceHint("ssc1://10.0.0.9", "ewdx", None),)


def test_the_command_line_exits_2_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[manufacturers]]\ncode = "shure"\ndevices = [{ address = "x", kind = 1 }]\n')
    with pytest.raises(ConfigError, match=r"devices\[0\]\.kind"):
        load_config(path)
