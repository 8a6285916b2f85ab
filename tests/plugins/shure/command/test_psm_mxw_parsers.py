"""PSM1000 and MXW frames to typed updates (shure.md §3.3-§3.5), and garbage to nothing."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.plugins.shure.command import psm
from micboard_desktop.plugins.shure.command.families import (
    connect_commands,
    family_from_hint,
    family_from_model,
    meter_commands,
    requery_commands,
    reread_commands,
)
from micboard_desktop.plugins.shure.command.mapping import (
    ChannelField,
    ChannelUpdate,
    DeviceField,
    DeviceUpdate,
    IemLevelUpdate,
    MeterUpdate,
    parse_frame,
)
from micboard_desktop.plugins.shure.command.mxw import TxStatus

F = ChannelField


@pytest.mark.parametrize(
    ("raw", "dbfs"),
    [
        ("00003548184", -7.5),  # the loudest value seen live
        ("00000017000", -53.9),  # the quietest
        ("2502970", -10.5),  # Micboard's top meter step
        ("08388608", 0.0),  # full scale
        ("99999999999", 0.0),  # past full scale: clamped, never above 0
        ("00000000000", -120.0),  # silence
        ("1", -120.0),  # below the floor: clamped
        ("{00003548184}", -7.5),  # braced, if a unit wraps it as a string
    ],
)
def test_psm_levels_to_dbfs(raw: str, dbfs: float) -> None:
    assert psm.level_dbfs(raw) == dbfs


@pytest.mark.parametrize("raw", ["", "-5", "abc", "000000000001", "nan", "inf", "1e99x", "{}"])
def test_psm_levels_that_are_not_numbers_are_unknown(raw: str) -> None:
    assert psm.level_dbfs(raw) is None


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("< REPORT 1 AUDIO_IN_LVL_L 00003548184 >", IemLevelUpdate(1, False, -7.5)),
        ("< REPORT 2 AUDIO_IN_LVL_R 00000017000 >", IemLevelUpdate(2, True, -53.9)),
        ("< REPORT 2 AUDIO_IN_LVL_R junk >", IemLevelUpdate(2, True, None)),
    ],
)
def test_psm_meter_reports(frame: str, expected: IemLevelUpdate) -> None:
    assert parse_frame(frame) == expected
    assert parse_frame(frame + "\r\n") == expected


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("< REPORT 1 CHAN_NAME {IEM Drums} >", (1, F.NAME, "IEM Drums", None)),
        ("< REPORT 2 CHAN NAME {IEM Keys                } >", (2, F.NAME, "IEM Keys", None)),
        ("< REPORT 1 RF_TX_LVL 050 >", (1, F.RF_POWER_MW, 50, "psm1000")),
        ("< REPORT 1 RF_TX_LVL 100 >", (1, F.RF_POWER_MW, 100, "psm1000")),
        ("< REPORT 1 RF_TX_LVL 10mW >", (1, F.RF_POWER_MW, 10, "psm1000")),
        ("< REPORT 1 RF_TX_LVL UNKN >", (1, F.RF_POWER_MW, None, "psm1000")),
        ("< REPORT 1 RF_MUTE 1 >", (1, F.RF_MUTED, True, "psm1000")),
        ("< REPORT 1 RF_MUTE 0 >", (1, F.RF_MUTED, False, "psm1000")),
        ("< REPORT 1 RF_MUTE 7 >", (1, F.RF_MUTED, None, "psm1000")),
        ("< REPORT 1 GROUP_CHAN {01,05} >", (1, F.GROUP_CHANNEL, (1, 5), None)),
        ("< REPORT 1 GROUP_CHAN 12,3 >", (1, F.GROUP_CHANNEL, (12, 3), None)),
        ("< REPORT 1 GROUP_CHAN {--,--} >", (1, F.GROUP_CHANNEL, None, None)),
        ("< REPORT 2 AUDIO_IN_LVL +10 >", (2, F.INPUT_GAIN, "+10", "psm1000")),
    ],
)
def test_psm_reports(frame: str, expected: tuple[object, ...]) -> None:
    assert parse_frame(frame, "psm1000") == ChannelUpdate(*expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "khz"),
    [
        ("518125", 518_125),
        ("00000518125", 518_125),
        ("518125000", 518_125),  # in Hz
        ("0518.125", 518_125),  # in MHz
        ("000000", None),
        ("99999999999", None),
        ("12", None),
    ],
)
def test_psm_frequency_of_doubtful_width(raw: str, khz: int | None) -> None:
    assert parse_frame(f"< REPORT 1 FREQUENCY {raw} >", "psm1000") == ChannelUpdate(
        1, F.FREQUENCY_KHZ, khz
    )


def test_psm_device_name_names_the_receiver_and_the_family() -> None:
    assert parse_frame("< REPORT DEVICE_NAME {Drum IEMs       } >") == DeviceUpdate(
        DeviceField.NAME, "Drum IEMs", "psm1000"
    )


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("< REP 3 TX_STATUS ON_CHARGER >", (3, F.TX_STATUS, TxStatus.ON_CHARGER, "mxw")),
        ("< REP 3 TX_STATUS STANDBY >", (3, F.TX_STATUS, TxStatus.STANDBY, "mxw")),
        ("< REP 3 TX_STATUS UNKNOWN >", (3, F.TX_STATUS, None, "mxw")),
        ("< REP 8 TX_TYPE MXW2 >", (8, F.TX_MODEL, "MXW2", None)),
        ("< REP 8 TX_TYPE UNKNOWN >", (8, F.TX_MODEL, None, None)),
        ("< REP 1 TX_AVAILABLE NO >", (1, F.TX_AVAILABLE, False, "mxw")),
        ("< REP 1 TX_AVAILABLE YES >", (1, F.TX_AVAILABLE, True, "mxw")),
        ("< REP 1 BATT_HEALTH 255 >", (1, F.BATTERY_HEALTH, None, None)),
        ("< REP 1 BATT_HEALTH 093 >", (1, F.BATTERY_HEALTH, 93, None)),
        ("< REP 1 BATT_CHARGE 255 >", (1, F.BATTERY_PERCENT, None, None)),
        ("< REP 1 BATT_RUN_TIME 65532 >", (1, F.RUN_TIME_CODE, 65532, None)),
        ("< REP 1 BUTTON_STS ON >", (1, F.BUTTON, True, "mxw")),
    ],
)
def test_mxw_reports(frame: str, expected: tuple[object, ...]) -> None:
    assert parse_frame(frame) == ChannelUpdate(*expected)  # type: ignore[arg-type]


def test_mxw_and_psm_samples_are_dropped_and_secondary_channels_ignored() -> None:
    assert parse_frame("< SAMPLE 1 ALL 102 090 086 >", "mxw") is None
    assert parse_frame("< SAMPLE 1 ALL 102 090 086 >", "psm1000") is None
    assert isinstance(parse_frame("< SAMPLE 1 ALL 102 090 086 >"), MeterUpdate)
    assert parse_frame("< REP SEC 1 CHAN_NAME {Aux} >") is None
    assert parse_frame("< REPORT 0 AUDIO_IN_LVL_L 00000017000 >") is None
    assert parse_frame("< REPORT 9 AUDIO_IN_LVL_L 00000017000 >") is None


def test_family_names_and_what_each_family_is_asked() -> None:
    assert family_from_model("P10T") == "psm1000"
    assert family_from_model("MXWAPT8") == "mxw"
    assert family_from_model("MXW2") == "mxw"
    assert family_from_model("ADX1") == "ad"
    assert family_from_model("QLXD2") == "qlxd"
    assert family_from_hint("PSM1000") == family_from_hint("p10t") == "psm1000"
    assert family_from_hint("ULX-D") == "ulxd"
    assert family_from_hint("Axient Digital") == "ad"
    assert family_from_hint("uhfr") is None  # not a TCP family
    psm = requery_commands("psm1000")
    assert "< GET 1 CHAN_NAME >" in psm
    assert "< GET 2 CHAN NAME >" in psm
    assert "< GET 2 RF_MUTE >" in psm
    assert not any(c.startswith("< GET 0") for c in psm)
    assert meter_commands("psm1000", 100) == [
        "< SET 1 METER_RATE 00100 >",
        "< SET 2 METER_RATE 00100 >",
    ]
    assert "< GET 0 ALL >" not in connect_commands("psm1000", 100)
    mxw = requery_commands("mxw")
    assert {"< GET 0 TX_STATUS >", "< GET 0 BATT_RUN_TIME >", "< GET 0 BATT_HEALTH >"} <= set(mxw)
    assert "< GET 0 TX_STATUS >" in requery_commands(None)  # names an MXW without GET 0 ALL
    unknown = connect_commands(None, 100)
    assert unknown[0] == "< GET 0 ALL >"
    assert "< GET DEVICE_NAME >" in unknown
    assert unknown[-1] == "< SET 0 METER_RATE 00100 >"
    assert "< GET 4 BATT_CHARGE >" in reread_commands("mxw", 4)
    assert "< GET 4 TX_STATUS >" in reread_commands("mxw", 4)
    assert reread_commands("ulxd", 4) == []


NEW_TOKENS = st.one_of(
    st.sampled_from(
        [
            "REP",
            "REPORT",
            "SAMPLE",
            "ALL",
            "SEC",
            "0",
            "1",
            "2",
            "8",
            "9",
            "255",
            "65532",
            "65533",
            "65535",
            "00003548184",
            "99999999999",
            "-1",
            "CHAN",
            "NAME",
            "CHAN_NAME",
            "AUDIO_IN_LVL_L",
            "AUDIO_IN_LVL_R",
            "AUDIO_IN_LVL",
            "RF_TX_LVL",
            "RF_MUTE",
            "GROUP_CHAN",
            "FREQUENCY",
            "DEVICE_NAME",
            "TX_STATUS",
            "TX_AVAILABLE",
            "TX_TYPE",
            "BUTTON_STS",
            "BATT_HEALTH",
            "BATT_CHARGE",
            "BATT_RUN_TIME",
            "ON_CHARGER",
            "YES",
            "NO",
            "{--,--}",
            "{",
            "}",
            "\r\n",
        ]
    ),
    st.text(max_size=12),
)
RANGES = {
    F.BATTERY_PERCENT: (0, 100),
    F.BATTERY_HEALTH: (0, 100),
    F.RUN_TIME_CODE: (0, 65535),
    F.RF_POWER_MW: (1, 1000),
    F.FREQUENCY_KHZ: (1, 10**12),
}


@settings(max_examples=600, deadline=None)
@given(
    st.lists(NEW_TOKENS, max_size=10),
    st.sampled_from([None, "psm1000", "mxw", "ulxd"]),
    st.integers(0, 40),
)
def test_cut_and_garbled_frames_never_raise_nor_leak_sentinels(
    tokens: list[str], family: str | None, cut: int
) -> None:
    frame = "< " + " ".join(tokens) + " >"
    for candidate in (frame, frame[:cut], frame[cut:], frame.replace(" ", "", 1)):
        update = parse_frame(candidate, family)
        if isinstance(update, IemLevelUpdate):
            assert 1 <= update.channel <= 8
            assert update.dbfs is None or (
                math.isfinite(update.dbfs) and psm.FLOOR_DBFS <= update.dbfs <= 0.0
            )
        if isinstance(update, ChannelUpdate):
            assert 1 <= update.channel <= 8
            limits = RANGES.get(update.field)
            if limits is not None and update.value is not None:
                assert isinstance(update.value, int)
                assert limits[0] <= update.value <= limits[1]
            if update.field is F.TX_STATUS:
                assert update.value is None or isinstance(update.value, TxStatus)
        if isinstance(update, MeterUpdate):
            assert family not in ("psm1000", "mxw")
