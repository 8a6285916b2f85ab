"""Rig descriptions: strict TOML loading, the demo show and generated rigs."""

from __future__ import annotations

from pathlib import Path

import pytest

from micboard_desktop.simulator.rigs import demo_rig, large_rig, load_rig, parse_rig

GOOD = """
system_api_key = "k-123"

[[receivers]]
family = "ad"
model = "AD4D"
name = "AD Rack"
serial = "2EL00000001"

  [[receivers.channels]]
  name = "Lead Vox"
  frequency_mhz = 594.075
  frequency2_khz = 606125
  performer = "Jane Doe"
  [receivers.channels.transmitter]
  model = "AD2"
  battery_percent = 55
  battery_minutes = 200

  [[receivers.channels]]
  name = "Spare Pack"
  frequency_khz = 596000

[[receivers]]
family = "ewdx"
model = "EW-DX EM 2"
name = "EM2"

  [[receivers.channels]]
  name = "Talk Back"
  frequency_khz = 520100
  [receivers.channels.transmitter]
  model = "EW-DX SKM"
  battery_type = "ALKA"
  on = false
"""


def test_load_rig_file(tmp_path: Path) -> None:
    path = tmp_path / "show.toml"
    path.write_text(GOOD, encoding="utf-8")
    rig = load_rig(path)
    assert rig.system_api_key == "k-123"
    ad, em2 = rig.receivers
    assert (ad.protocol, ad.family, ad.model, ad.serial) == ("shure_cmd", "ad", "AD4D",
                                                             "2EL00000001")
    lead, spare = ad.channels
    assert (lead.number, lead.name, lead.frequency_khz) == (1, "Lead Vox", 594_075)
    assert lead.frequency2_khz == 606_125
    assert len(lead.rssi_dbm) == 4  # two antennas x two FD-C carriers
    assert lead.transmitter is not None
    assert (lead.transmitter.model, lead.transmitter.battery_percent) == ("AD2", 55.0)
    assert lead.transmitter.battery_minutes == 200
    assert spare.transmitter is None
    assert em2.protocol == "sennheiser_ssc2"
    assert em2.channels[0].name == "Talk Back"
    assert em2.channels[0].transmitter is not None
    assert em2.channels[0].transmitter.on is False
    assert em2.channels[0].transmitter.battery_minutes is None
    # Ids are stable across loads, so the app can remember devices.
    assert load_rig(path).receivers[0].device_id == ad.device_id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('colour = "red"', "'colour'"),
        ('[[receivers]]\nfamily = "ad"\nmodel = "AD4D"\nname = "x"\nlocation = "FOH"',
         "'location'"),
        ('[[receivers]]\nfamily = "ad"\nmodel = "AD4D"\nname = "x"\n'
         '[[receivers.channels]]\nname = "a"\nfrequency_khz = 1\nfreq = 2', "'freq'"),
        ('[[receivers]]\nfamily = "ad"\nmodel = "AD4D"\nname = "x"\n'
         '[[receivers.channels]]\nname = "a"\nfrequency_khz = 1\n'
         '[receivers.channels.transmitter]\nmodel = "AD2"\nvolts = 3', "'volts'"),
        ('[[receivers]]\nfamily = "ur5x"\nmodel = "UR5X"\nname = "x"', "family"),
        ('[[receivers]]\nfamily = "ewdx"\nprotocol = "shure_cmd"\nmodel = "EM"\nname = "x"',
         "protocol"),
        ('[[receivers]]\nfamily = "ad"\nname = "x"', "'model'"),
        ('[[receivers]]\nfamily = "ad"\nmodel = 4\nname = "x"', "model"),
        ("[[receivers", "invalid TOML"),
    ],
)
def test_strict_loading_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rig(text)


def test_unreadable_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_rig(tmp_path / "missing.toml")


def test_demo_rig_has_both_makers_and_enough_named_channels() -> None:
    rig = demo_rig()
    shure, senn = rig.by_protocol("shure_cmd"), rig.by_protocol("sennheiser_ssc2")
    assert sum(len(r.channels) for r in rig.receivers) >= 24
    assert [r.model for r in shure].count("ULXD4Q") == 2
    assert {"AD4Q", "SLXD4D"} <= {r.model for r in shure}
    assert [r.family for r in senn].count("ewdx") == 2
    assert "spectera" in {r.family for r in senn}
    names = [c.name for r in rig.receivers for c in r.channels]
    assert "Lead Vox" in names
    assert "Sax 2" in names
    assert any(" " in n for n in names)
    ids = [r.device_id for r in rig.receivers]
    assert len(set(ids)) == len(ids)
    assert ids == [r.device_id for r in demo_rig().receivers]


def test_large_rig_is_deterministic_and_sized() -> None:
    rig = large_rig(30, seed=4)
    assert len(rig.receivers) == 30
    assert {r.family for r in rig.receivers} == {
        "ulxd", "ad", "slxd", "qlxd", "ewdx", "spectera", "psm1000", "mxw"
    }
    again = large_rig(30, seed=4)
    assert [c.name for r in rig.receivers for c in r.channels] == [
        c.name for r in again.receivers for c in r.channels
    ]
    assert large_rig(30, seed=5).receivers[0].device_id != rig.receivers[0].device_id


def test_a_rig_file_must_be_a_regular_file(tmp_path: Path) -> None:
    """``simulate --config /dev/zero`` must not read until memory runs out (issue #15, 6)."""
    import os

    fifo = tmp_path / "rig.toml"
    os.mkfifo(fifo)
    for path in (Path("/dev/zero"), fifo):
        with pytest.raises(ValueError, match=r"rig file .* is not a regular file"):
            load_rig(path)


def test_the_demo_rig_names_every_channel_once():
    """Two "Lead Vox" on one board (a ULX-D and an EM 6000) confuse a technician and every
    test that finds a channel by name."""
    from collections import Counter

    from micboard_desktop.simulator.rigs import demo_rig

    names = Counter(ch.name for rx in demo_rig().receivers for ch in rx.channels)
    assert [name for name, count in names.items() if count > 1] == []
