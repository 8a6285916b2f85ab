"""Device text is cleaned at the plugin boundary: no surrogate, control or bidi character passes."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micboard_desktop.core import text_clean
from micboard_desktop.core.logsetup import configure_logging
from micboard_desktop.core.model import Battery, Channel, Receiver, Transmitter
from micboard_desktop.core.text_clean import (
    MAX_NAME_CHARS,
    CleanedChannels,
    clean_optional,
    clean_receiver,
    clean_text,
    escape_controls,
)
from tests.core.builders import make_channel, make_receiver

HOSTILE = "Evil\ud800\x1b[31mRED\x1b[0m\x07\x00\x85\u202e" + "X" * 600
ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=400)


def _is_safe(text: str, limit: int) -> bool:
    text.encode("utf-8")  # raises on a lone surrogate
    return len(text) <= limit and all(
        unicodedata.category(c) not in {"Cc", "Cs", "Co"}
        and (unicodedata.category(c) != "Cf" or c == "\u200d")
        for c in text
    )


@given(ANY_TEXT, st.integers(min_value=4, max_value=300))
def test_cleaned_text_is_storable_printable_and_bounded(raw: str, limit: int) -> None:
    cleaned = clean_text(raw, limit)
    assert _is_safe(cleaned, limit)
    assert clean_text(cleaned, limit) == cleaned  # cleaning twice changes nothing


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "S"]), max_size=MAX_NAME_CHARS))
def test_ordinary_names_pass_unchanged_as_the_same_object(name: str) -> None:
    assert clean_text(name) is name


def test_hostile_name_loses_only_what_is_unsafe() -> None:
    cleaned = clean_text(HOSTILE)
    assert cleaned.startswith("Evil[31mRED[0m")
    assert cleaned.endswith("\u2026")
    assert len(cleaned) == MAX_NAME_CHARS
    assert clean_text("Lead\nVox\tL") == "Lead Vox L"
    assert clean_optional("\x00\x07") is None
    assert clean_optional(None) is None


def test_clean_receiver_keeps_a_clean_receiver_as_the_same_object() -> None:
    receiver = make_receiver()
    assert clean_receiver(receiver) is receiver


def test_clean_receiver_cleans_every_device_string() -> None:
    channel = make_channel(
        name=HOSTILE,
        transmitter=Transmitter(model="UL\x1bXD2", battery=Battery(type="LI\ud800ON")),
    )
    receiver = replace(
        make_receiver(), name=HOSTILE, model="AD\x004D", firmware="1.0\u202e", channels=(channel,)
    )
    cleaned = clean_receiver(receiver)
    assert cleaned.model == "AD4D"
    assert cleaned.firmware == "1.0"
    assert cleaned.name is not None
    assert _is_safe(cleaned.name, MAX_NAME_CHARS)
    tx = cleaned.channels[0].transmitter
    assert tx is not None
    assert tx.model == "ULXD2"
    assert tx.battery.type == "LION"
    assert cleaned.channels[0].name == clean_text(HOSTILE)


@given(ANY_TEXT)
def test_escaped_log_text_has_no_control_or_surrogate_but_keeps_lines(raw: str) -> None:
    escaped = escape_controls(raw)
    escaped.encode("utf-8")
    assert not any(
        unicodedata.category(c) in {"Cc", "Cs"} and c not in "\n\t" for c in escaped
    )
    assert escaped.count("\n") == raw.count("\n")


def test_log_file_gets_escapes_not_terminal_codes(tmp_path: Path) -> None:
    log_file = tmp_path / "app.log"
    configure_logging(log_file, level="INFO")
    try:
        logging.getLogger("micboard_desktop.test").warning("device said %s", HOSTILE[:30])
        for handler in logging.getLogger().handlers:
            handler.flush()
    finally:
        configure_logging(None)
    written = log_file.read_text(encoding="utf-8")
    assert "\x1b" not in written
    assert "\x07" not in written
    assert "\\x1b[31mRED" in written
    assert "\\ud800" in written


# A show of deliveries: each step replaces some channels of a receiver with new objects
# (hostile or plain names), keeps the others as the same objects, or resizes the receiver.
_NAMES = st.one_of(st.just(HOSTILE), st.just("Vox 1"), ANY_TEXT)
_STEP = st.tuples(st.sampled_from(["rx1", "rx2"]), st.integers(0, 4),
                  st.lists(st.tuples(st.integers(0, 3), _NAMES), max_size=4))


@given(st.lists(_STEP, min_size=1, max_size=25))
def test_remembered_channels_clean_every_delivery_exactly_as_cleaning_afresh(
    steps: list[tuple[str, int, list[tuple[int, str]]]],
) -> None:
    memo = CleanedChannels()
    current: dict[str, Receiver] = {}
    for device, size, changes in steps:
        rid = f"shure:{device}"
        receiver = current.get(rid) or make_receiver(rid, channels=0)
        channels = list(receiver.channels[:size])
        channels += [make_channel(rid, n + 1) for n in range(len(channels), size)]
        for index, name in changes:
            if index < len(channels):
                channels[index] = replace(channels[index], name=name)  # a new object
        receiver = replace(receiver, channels=tuple(channels))
        current[rid] = receiver
        fresh, remembered = clean_receiver(receiver), clean_receiver(receiver, memo)
        assert remembered == fresh
        assert (remembered is receiver) == (fresh is receiver)  # same object when all fine


def test_a_channel_delivered_again_as_the_same_object_is_not_cleaned_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    memo = CleanedChannels()
    dirty = replace(make_receiver(channels=4), name=HOSTILE)
    cleaned = clean_receiver(dirty, memo)
    calls: list[Channel] = []
    real = text_clean.clean_channel

    def counted(channel: Channel) -> Channel:
        calls.append(channel)
        return real(channel)

    monkeypatch.setattr(text_clean, "clean_channel", counted)
    one_new = replace(dirty.channels[2], name="Gtr\x1b 3")
    again = clean_receiver(replace(dirty, channels=(*dirty.channels[:2], one_new,
                                                    dirty.channels[3])), memo)
    assert calls == [one_new]  # only the new channel object was cleaned
    assert again.channels[2].name == "Gtr 3"
    assert again.channels[:2] == cleaned.channels[:2]
    memo.forget(dirty.id)
    clean_receiver(dirty, memo)
    assert len(calls) == 5  # forgotten: all four cleaned again
