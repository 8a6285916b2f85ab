"""The publication rule shared by the event stream and the /api/data/ cache."""

from micboard_desktop.lan.window import (
    BUSY_WINDOW_SECONDS,
    QUIET_WINDOW_SECONDS,
    CoalescingWindow,
)


def test_a_quiet_change_is_due_at_once_and_the_next_one_at_the_window_end():
    window = CoalescingWindow()
    window.note_change(10.0)
    assert window.due(10.0) == 10.0
    window.published(10.0)
    window.note_change(10.01)
    assert window.due(10.01) == 10.0 + QUIET_WINDOW_SECONDS
    window.note_change(11.0)
    assert window.due(11.0) == 11.0  # a window later: at once again


def test_the_window_lengthens_while_changes_keep_coming_and_shortens_when_they_stop():
    window = CoalescingWindow()
    t = 0.0
    for _ in range(300):  # 100 changes a second for 3 s
        t += 0.01
        window.note_change(t)
    assert window.busy
    window.published(t)
    assert window.due(t) == t + BUSY_WINDOW_SECONDS
    t += 5.0  # quiet: the rate decays
    window.note_change(t)
    assert not window.busy
    assert window.due(t) == t  # a whole window after the last publication: at once


def test_a_rate_between_the_thresholds_keeps_the_current_window():
    window = CoalescingWindow()
    t = 0.0
    for _ in range(200):  # 15 a second: neither busy nor calm enough to change
        t += 1 / 15
        window.note_change(t)
    assert not window.busy
