import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterSample
from micboard_desktop.plugins.shure.command.families import family_from_model, requery_commands
from micboard_desktop.plugins.shure.command.mapping import (
    ChannelField,
    ChannelUpdate,
    DeviceField,
    DeviceUpdate,
    MeterRateReport,
    MeterUpdate,
    parse_frame,
)

F = ChannelField


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("< REP 1 CHAN_NAME {Lead Vox                       } >", (1, F.NAME, "Lead Vox")),
        ("< REP 1 FREQUENCY 0594075 >", (1, F.FREQUENCY_KHZ, 594075)),
        ("< REP 2 FREQUENCY 578350 >", (2, F.FREQUENCY_KHZ, 578350)),
        ("< REP 2 FREQUENCY 000000 >", (2, F.FREQUENCY_KHZ, None)),
        ("< REP 1 TX_BATT_BARS 255 >", (1, F.BATTERY_BARS, None)),
        ("< REP 1 BATT_BARS 004 >", (1, F.BATTERY_BARS, 4)),
        ("< REP 1 TX_BATT_MINS 65535 >", (1, F.BATTERY_MINUTES, None)),
        ("< REP 1 TX_BATT_MINS 65534 >", (1, F.BATTERY_MINUTES, None)),
        ("< REP 1 BATT_RUN_TIME 65533 >", (1, F.RUN_TIME_CODE, 65533)),  # read by family
        ("< REP 1 BATT_RUN_TIME 00312 >", (1, F.RUN_TIME_CODE, 312)),
        ("< REP 1 BATT_CHARGE 255 >", (1, F.BATTERY_PERCENT, None)),
        ("< REP 1 TX_BATT_CHARGE_PERCENT 087 >", (1, F.BATTERY_PERCENT, 87)),
        ("< REP 1 BATT_TYPE UNKN >", (1, F.BATTERY_TYPE, None)),
        ("< REP 1 TX_BATT_TYPE LION >", (1, F.BATTERY_TYPE, "LION")),
        ("< REP 1 TX_MODEL UNKNOWN >", (1, F.TX_MODEL, None)),
        ("< REP 1 TX_TYPE UNKN >", (1, F.TX_MODEL, None)),
        ("< REP 1 TX_TYPE ULXD2 >", (1, F.TX_MODEL, "ULXD2")),
        ("< REP 1 TX_MUTE_STATUS ON >", (1, F.TX_MUTED, True)),
        ("< REP 1 TX_MUTE_MODE_STATUS ON >", (1, F.TX_MUTED, False)),
        ("< REP 1 TX_MUTE_MODE_STATUS MUTE >", (1, F.TX_MUTED, True)),
        ("< REP 1 TX_MUTE_MODE_STATUS UNKNOWN >", (1, F.TX_MUTED, None)),
        ("< REP 1 RF_INT_DET CRITICAL >", (1, F.INTERFERENCE, True)),
        ("< REP 1 INTERFERENCE_STATUS NONE >", (1, F.INTERFERENCE, False)),
        ("< REP 1 CHAN_QUALITY 255 >", (1, F.QUALITY, None)),
        ("< REP 1 CHAN_QUALITY 004 >", (1, F.QUALITY, 4)),
        ("< REP 1 RSSI 2 012 >", (1, F.RSSI, (2, -108.0))),
        ("< REP 1 ANTENNA_STATUS BRXB >", (1, F.ANTENNA, "ABD")),
        ("< REP 1 AUDIO_LEVEL_RMS 102 >", (1, F.AUDIO_RMS, -18.0)),
    ],
)
def test_channel_reps(frame, expected):
    assert parse_frame(frame) == ChannelUpdate(*expected)


def test_device_reps_and_meter_rate():
    assert parse_frame("< REP DEVICE_ID {RF 5-8                         } >") == DeviceUpdate(
        DeviceField.NAME, "RF 5-8"
    )
    assert parse_frame("< REP MODEL {AD4Q-A                          } >") == DeviceUpdate(
        DeviceField.MODEL, "AD4Q-A"
    )
    assert parse_frame("< REP 1 METER_RATE 00100 >") == MeterRateReport(1, 100)


def test_ulxd_sample():
    assert parse_frame("< SAMPLE 1 ALL AX 100 030 >") == MeterUpdate(
        1, "ulxd", MeterSample(audio_peak_dbfs=-20.0, rssi_dbm=(-28.0,), antenna="A")
    )
    update = parse_frame("< SAMPLE 2 ALL XX 000 000 >")
    assert isinstance(update, MeterUpdate)
    assert update.sample.antenna is None


def test_slxd_sample():
    assert parse_frame("< SAMPLE 1 ALL 102 090 086 >") == MeterUpdate(
        1,
        "slxd",
        MeterSample(audio_peak_dbfs=-18.0, audio_rms_dbfs=-30.0, rssi_dbm=(-34.0,)),
    )


def test_ad_samples_standard_quadversity_and_fdc():
    std = parse_frame("< SAMPLE 1 ALL 255 000 005 033 XX 00 011 00 012 >")
    assert isinstance(std, MeterUpdate)
    assert std.quality is None
    assert std.sample == MeterSample(-115.0, -87.0, (-109.0, -108.0), None)
    quad = parse_frame("< SAMPLE 3 ALL 005 031 102 102 BBBB 31 083 31 068 31 069 31 072 >")
    assert isinstance(quad, MeterUpdate)
    assert quad.quality == 5
    assert quad.sample.rssi_dbm == (-37.0, -52.0, -51.0, -48.0)
    assert quad.sample.antenna == "ABCD"
    fdc = parse_frame("< SAMPLE 1 ALL 004 031 102 102 BX 31 082 31 060 RB 31 081 31 059 >")
    assert isinstance(fdc, MeterUpdate)
    assert fdc.sample.rssi_dbm == (-38.0, -60.0)
    assert fdc.sample.antenna == "A"
    assert fdc.rssi2_dbm == (-39.0, -61.0)


@pytest.mark.parametrize(
    "frame",
    [
        "< SAMPLE 1 ALL AX 100 >",
        "< SAMPLE 1 ALL 005 031 102 102 BB 31 086 31 >",
        "< SAMPLE 9 ALL 102 090 086 >",
        "< SAMPLE 1 ALL 005 031 102 102 BQ 31 086 31 065 >",
        "< REP 1 RSSI 9 012 >",
        "< REP 1 NOT_A_PARAM 1 >",
        "< REP ERR >",
        "< GET 0 ALL >",
        "",
        "<>",
    ],
)
def test_malformed_or_unknown_frames_are_ignored(frame):
    assert parse_frame(frame) is None


def test_sample_family_hint_refuses_a_mismatched_layout():
    assert parse_frame("< SAMPLE 1 ALL 102 090 086 >", "ad") is None


def test_families():
    assert family_from_model("AD4Q-A") == "ad"
    assert family_from_model("SLXD4D") == "slxd"
    assert family_from_model(None) is None
    assert "< GET 0 TX_MODEL >" in requery_commands("slxd")
    assert "< GET 0 TX_TYPE >" in requery_commands("slxd")
    assert "< GET 0 BATT_BARS >" in requery_commands("ulxd")


SENTINEL_FIELDS = {F.BATTERY_BARS, F.BATTERY_PERCENT, F.BATTERY_MINUTES, F.QUALITY}
TOKEN = st.one_of(
    st.sampled_from(
        [
            "REP",
            "SAMPLE",
            "ALL",
            "1",
            "0",
            "255",
            "65535",
            "65534",
            "UNKN",
            "UNKNOWN",
            "XX",
            "BB",
            "BATT_BARS",
            "TX_BATT_BARS",
            "TX_BATT_MINS",
            "BATT_RUN_TIME",
            "CHAN_QUALITY",
            "BATT_CHARGE",
            "TX_MODEL",
            "RSSI",
            "{",
            "}",
            "-1",
            "999999",
        ]
    ),
    st.text(max_size=8),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(TOKEN, max_size=14), st.sampled_from([None, "ulxd", "ad", "slxd"]))
def test_random_frames_never_raise_and_sentinels_never_leak(tokens, family):
    frame = "< " + " ".join(tokens) + " >"
    for candidate in (frame, frame[: len(frame) // 2], frame[3:]):
        update = parse_frame(candidate, family)
        if isinstance(update, ChannelUpdate) and update.field in SENTINEL_FIELDS:
            assert update.value is None or 0 <= update.value <= 65532  # type: ignore[operator]
            if update.field is not F.BATTERY_MINUTES:
                assert update.value is None or update.value <= 100  # type: ignore[operator]
        if isinstance(update, MeterUpdate):
            assert update.quality is None or 0 <= update.quality <= 5
            levels = [update.sample.audio_peak_dbfs, update.sample.audio_rms_dbfs]
            for value in [*levels, *update.sample.rssi_dbm]:
                assert value is None or -128 <= value <= 0


@given(st.text(alphabet="0123456789 +-x", max_size=5))
def test_level_lookups_agree_with_careful_parsing(raw):
    from micboard_desktop.plugins.shure.command import mapping as p

    assert p.level(raw) == p._offset(raw, 0, 120, p.LEVEL_OFFSET)
    assert p.ulx_rf(raw) == p._offset(raw, 0, 115, p.ULX_RF_OFFSET)
    assert p.ulx_audio(raw) == p._offset(raw, 0, 50, p.ULX_AUDIO_OFFSET)
