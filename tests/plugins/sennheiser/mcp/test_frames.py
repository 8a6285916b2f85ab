"""MCP framing and mapping: garbage, cut input, errors, units, the command guard."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ChannelKind
from micboard_desktop.plugins.sennheiser.mcp.frames import (
    MAX_DATAGRAM_BYTES,
    DeviceError,
    FrameStats,
    command,
    split_datagram,
)
from micboard_desktop.plugins.sennheiser.mcp.mapping import (
    Bat,
    SrAudio,
    af_dbfs,
    parse_line,
    rf_dbm,
)
from micboard_desktop.plugins.sennheiser.mcp.state import McpState

EM_BLOCK = (
    b"RF1 25 65 1\rRF2 28 78 0\rStates 3 2\rRF 50 1 1\rAF 40 65 3\rBat 70\r"
    b"Msg Low_RF_Signal Low_Battery\rConfig 234\r"
)
"""The reference's own EM example (sennheiser.md §4.3)."""


def test_units_follow_the_contract() -> None:
    assert rf_dbm(0) == -107.0  # 0 % = 0 dBuV
    assert rf_dbm(100) == -67.0  # 100 % = 40 dBuV
    assert af_dbfs(0) == -50.0
    assert af_dbfs(100) == 0.0
    assert af_dbfs(None) is None


def test_the_reference_example_parses_line_by_line_whatever_the_separator() -> None:
    for sep in (b"\r", b"\n", b"\r\n", b";"):
        lines = split_datagram(EM_BLOCK.replace(b"\r", sep))
        assert [t[0] for t in lines] == ["RF1", "RF2", "States", "RF", "AF", "Bat", "Msg", "Config"]
    state = McpState("mcp:x:1", host="x")
    for tokens in split_datagram(EM_BLOCK):
        line = parse_line(tokens)
        assert line is not None
        state.apply(line)  # type: ignore[arg-type]
    assert state.family == "em"
    rx = state.snapshot(__import__("datetime").datetime.now(__import__("datetime").UTC))
    assert rx is not None
    tx = rx.channels[0].transmitter
    assert tx is not None
    assert tx.battery.percent == 70
    assert tx.muted is False  # Msg words win over the doubtful bits


def test_sentinels_and_sr_shape() -> None:
    assert parse_line(["Bat", "?"]) == Bat(False, None)
    assert parse_line(["Bat", "55"]) is None  # not one of 0/30/70/100: a garbled line
    assert parse_line(["Frequency", "12"]) is None  # no band there
    assert parse_line(["Mute", "7"]) is None
    assert parse_line(["AF", "40", "80", "40", "80", "0"]) == SrAudio(40, 80)  # the doc's 5th
    assert parse_line(["AF", "x", "80", "1", "2"]) == SrAudio(None, 80)
    state = McpState("mcp:y:1", host="y")
    state.apply(SrAudio(1, 2))
    rx = state.snapshot(__import__("datetime").datetime.now(__import__("datetime").UTC))
    assert rx is not None
    assert rx.channels[0].kind is ChannelKind.IEM
    assert rx.channels[0].transmitter is None


def test_error_replies_in_both_forms_become_readable() -> None:
    err = parse_line(["1020:", "Value", "out", "of", "range", "[", "Push", "60", "250", "3", "]"])
    assert err == DeviceError(1020, "Push 60 250 3")
    assert isinstance(err, DeviceError)
    assert "1020" in err.describe()
    assert "out of range" in err.describe()
    adn = parse_line(["error", "1030:", "relative", "parameters", "not", "supported;"])
    assert isinstance(adn, DeviceError)
    assert adn.code == 1030
    assert parse_line(["9999:", "x"]) is None


def test_oversized_datagrams_are_dropped_whole() -> None:
    stats = FrameStats()
    assert split_datagram(b"Name " + b"X" * MAX_DATAGRAM_BYTES + b"\r", stats) == []
    assert stats.oversized == 1


@pytest.mark.parametrize("bad", ["#1", "a b", "x\r", "1;Push", "", "é"])
def test_the_command_builder_refuses_relative_and_smuggled_parameters(bad: str) -> None:
    with pytest.raises(ValueError, match="MCP"):
        command("Squelch", bad)


def test_commands_are_cr_terminated() -> None:
    assert command("Push", 60, 500, 3) == b"Push 60 500 3\r"
    assert command("Name") == b"Name\r"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_garbage_never_raises_and_never_yields_out_of_range_values(data: bytes) -> None:
    state = McpState("mcp:g:1", host="g")
    for tokens in split_datagram(data):
        line = parse_line(tokens)
        if line is None or isinstance(line, DeviceError):
            continue
        if not hasattr(line, "__slots__") or type(line).__name__ == "PushEcho":
            continue
        state.apply(line)  # type: ignore[arg-type]
    rx = state.snapshot(__import__("datetime").datetime.now(__import__("datetime").UTC))
    if rx is not None and rx.channels:
        ch = rx.channels[0]
        assert ch.frequency_khz is None or 100_000 <= ch.frequency_khz <= 3_000_000
        if ch.transmitter is not None:
            assert ch.transmitter.battery.percent in (None, 0, 30, 70, 100)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(EM_BLOCK)), st.integers(min_value=0, max_value=40))
def test_a_cut_block_never_invents_a_value(cut: int, start: int) -> None:
    piece = EM_BLOCK[start:cut]
    bus = MeterBus()
    reader = bus.reader()
    lines = split_datagram(piece)
    for tokens in lines:
        parsed = parse_line(tokens)
        if isinstance(parsed, Bat) and parsed.present:
            assert parsed.percent in (None, 70)  # "Bat 7" cut short is no 70 % battery
    assert reader.pending == 0
