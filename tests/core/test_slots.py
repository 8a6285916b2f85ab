"""The slot-number rules: next number after the highest, swaps, the range."""

from __future__ import annotations

import pytest

from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.model import ChannelId
from micboard_desktop.core.slots import MAX_SLOT, assign_slots, check_slot, move_slot
from micboard_desktop.core.store import Changes, StateStore, Topic

A, B, C, D = (ChannelId(x) for x in ("a", "b", "c", "d"))


def test_new_channels_follow_the_highest_number_not_the_first_gap():
    # 3 is a gap the user left (a section boundary): a new receiver goes to the end.
    assert assign_slots({A: 1, B: 2, C: 4}, [D]) == {D: 5}
    assert assign_slots({}, [A, B]) == {A: 1, B: 2}


def test_numbered_channels_keep_their_numbers():
    assert assign_slots({A: 7}, [A, B, B]) == {B: 8}


def test_gaps_are_filled_only_once_the_numbers_run_out():
    taken = {ChannelId(f"c{n}"): n for n in range(2, MAX_SLOT + 1) if n != 500}
    assert assign_slots(taken, [A, B, C]) == {A: 1, B: 500}  # C: nothing left


def test_numbers_run_up_to_the_limit_then_fill_gaps():
    taken = {A: MAX_SLOT - 1, B: 3}
    assert assign_slots(taken, [C, D]) == {C: MAX_SLOT, D: 1}


def test_moving_onto_a_taken_number_swaps():
    assert move_slot({A: 1, B: 2, C: 3}, A, 3) == {A: 3, C: 1}


def test_moving_to_a_free_number_or_the_same_one():
    assert move_slot({A: 1, B: 2}, A, 40) == {A: 40}
    assert move_slot({A: 1, B: 2}, A, 1) == {}


def test_a_channel_without_a_number_gives_the_holder_a_new_one():
    assert move_slot({A: 1, B: 2}, C, 1) == {C: 1, A: 3}


def test_a_full_board_refuses_to_take_a_number_from_its_channel():
    full = {ChannelId(f"c{n}"): n for n in range(1, MAX_SLOT + 1)}
    with pytest.raises(ConfigError, match="in use"):
        move_slot(full, A, 5)


@pytest.mark.parametrize("slot", [0, -1, MAX_SLOT + 1, True, 2.0, "3"])
def test_slot_numbers_are_whole_numbers_from_1_to_the_limit(slot: object):
    with pytest.raises(ConfigError, match=f"1 to {MAX_SLOT}") as caught:
        check_slot(slot)  # type: ignore[arg-type]
    assert caught.value.key == "slot"
    with pytest.raises(ConfigError):
        move_slot({A: 1}, A, slot)  # type: ignore[arg-type]


def test_the_limit_itself_is_allowed():
    check_slot(1)
    check_slot(MAX_SLOT)


def test_the_store_keeps_slots_read_only_and_announces_real_changes():
    store = StateStore()
    seen: list[Changes] = []
    store.subscribe(seen.append)
    numbers = {A: 1, B: 2}
    assert store.set_slots(numbers)
    numbers[A] = 9  # the caller's dict is copied, not shared
    assert store.snapshot().slots == {A: 1, B: 2}
    assert store.slots() == {A: 1, B: 2}
    assert not store.set_slots({B: 2, A: 1})  # equal: no change, no announcement
    assert [c.topics for c in seen] == [frozenset({Topic.SLOTS})]
    with pytest.raises(TypeError):
        store.snapshot().slots[A] = 3  # type: ignore[index]
