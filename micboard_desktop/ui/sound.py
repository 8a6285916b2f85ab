"""Play the alert sounds: miniaudio behind a small player, driven by core/alert_sounds.

Which alert makes which sound, mute and snoozes are decided in
:mod:`micboard_desktop.core.alert_sounds`; this module only plays (docs/architecture.md,
"Alert sounds", says why miniaudio and not Qt's ``QSoundEffect``).

The player opens the sound card for each sound and closes it once the sound is over
(a stream held open all show long keeps some laptops' audio awake and shows up in every
mixer). Playing runs on miniaudio's own thread; opening and closing happen on the GUI
thread (closing a device from its own callback would deadlock). No sound card, or no
miniaudio, is no crash: the player says so once (:attr:`SoundPlayer.problem`) and the
window shows it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton

from micboard_desktop.core.alert_sounds import (
    SNOOZE_MINUTES,
    AlertSounds,
    Outcome,
    SnoozeKind,
    Tone,
)
from micboard_desktop.core.lock import LOCKED_MESSAGE
from micboard_desktop.core.records import AlertInfo
from micboard_desktop.ui import theme
from micboard_desktop.ui.assets import resources_dir

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Sequence

_log = logging.getLogger(__name__)

CHANNELS = 2
SOUND_RATE = 48_000
"""The device's rate: every sound card takes it; miniaudio resamples the 22 kHz files."""
TICK_MS = 5_000
"""How often open alerts are looked at again between changes (for the critical repeats)."""
MUTED_KEY = "sound/muted"


def sound_file(tone: Tone) -> Path:
    """Return the WAV file of ``tone`` (``resources/sounds/<tone>.wav``)."""
    return resources_dir() / "sounds" / f"{tone.value}.wav"


class SoundPlayer(Protocol):
    """Something that plays a tone without blocking."""

    problem: str | None
    """Why sounds cannot be heard, in words (``None``: they can, as far as is known)."""

    def play(self, tone: Tone) -> None:
        """Start playing ``tone`` (a sound still playing is cut short)."""
        ...

    def close(self) -> None:
        """Stop any sound and release the sound card."""
        ...


class SilentPlayer:
    """A player that plays nothing (replays, tests); remembers what it was asked."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.played: list[Tone] = []

    def play(self, tone: Tone) -> None:
        """Note ``tone``; play nothing."""
        self.played.append(tone)

    def close(self) -> None:
        """Nothing to release."""


class MiniaudioPlayer:
    """Play the WAV files through miniaudio, one device per sound, closed when it ends."""

    def __init__(self, *, backends: Sequence[Any] | None = None,
                 on_problem: Callable[[str], None] | None = None) -> None:
        self.problem: str | None = None
        self.played: list[Tone] = []
        """Every tone whose playback started (tests and the log read it)."""
        self.frames_sent = 0
        """Sample frames handed to the sound card so far (proof that something played)."""
        self._backends = list(backends) if backends is not None else None
        self._on_problem = on_problem
        self._files: dict[Tone, bytes] = {}
        self._device: Any = None
        self._closer = QTimer()
        self._closer.setSingleShot(True)
        self._closer.timeout.connect(self._release)

    def play(self, tone: Tone) -> None:
        """Start ``tone`` on a freshly opened device; a failure is noted, never raised."""
        try:
            import miniaudio
        except ImportError:
            self._fail("No sound: the miniaudio package is not installed")
            return
        self._release()
        try:
            data = self._files.get(tone)
            if data is None:
                data = self._files[tone] = sound_file(tone).read_bytes()
            seconds = miniaudio.decode(data).duration
            stream = self._frames(miniaudio.stream_memory(
                data, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=CHANNELS,
                sample_rate=SOUND_RATE))
            # miniaudio wants the generator started (its own come started; ours is started
            # here): an unstarted one fails in the audio thread, silently.
            next(stream)
            device = miniaudio.PlaybackDevice(
                output_format=miniaudio.SampleFormat.SIGNED16, nchannels=CHANNELS,
                sample_rate=SOUND_RATE, backends=self._backends, app_name="Micboard Desktop")
            device.start(stream)
        except (OSError, miniaudio.MiniaudioError, miniaudio.DecodeError) as error:
            self._fail(f"No sound: {error}")
            return
        self._device = device
        self.played.append(tone)
        self.problem = None
        # Closed a while after the end: the device's buffer still holds the last 200 ms, and
        # some sound servers start late.
        self._closer.start(round(seconds * 1000) + 700)

    def close(self) -> None:
        """Stop any sound and release the device."""
        self._closer.stop()
        self._release()

    def _frames(self, source: Generator[Any, int, None]) -> Generator[Any, int, None]:
        """Pass ``source``'s samples to the device, counting the frames (audio thread).

        ``source`` is one of miniaudio's streams, which come already started: a ``next()``
        on it here would drop its first 1024 frames.
        """
        wanted = yield b""
        while True:
            try:
                chunk = source.send(wanted)
            except StopIteration:
                return
            self.frames_sent += len(chunk) // CHANNELS
            wanted = yield chunk

    @property
    def playing(self) -> bool:
        """Return True while a device is open (a sound is playing or just ended)."""
        return self._device is not None

    def _release(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            device.close()

    def _fail(self, message: str) -> None:
        if message != self.problem:
            _log.warning("%s", message)
            if self._on_problem is not None:
                self._on_problem(message)
        self.problem = message


class AlertSounder(QObject):
    """Keep :class:`AlertSounds` fed with the alerts and play what it decides.

    ``alerts`` returns the open alerts (the window's engine); the sounder asks it on every
    :meth:`review` (the window calls that on each change of the alerts) and every
    :data:`TICK_MS` for repeats. ``notify`` gets the new critical alerts to show as desktop
    notifications. Mute is remembered in ``settings``; snoozes last the session.
    """

    changed = Signal()
    """Mute or the snoozes changed (the menus and the status button redraw)."""

    def __init__(
        self,
        alerts: Callable[[], Iterable[AlertInfo]],
        player: SoundPlayer,
        settings: QSettings,
        *,
        notify: Callable[[Sequence[AlertInfo]], None] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.decisions = AlertSounds()
        self.player = player
        self._alerts = alerts
        self._settings = settings
        self._notify = notify
        self._now = now or (lambda: datetime.now(UTC))
        self.decisions.muted = _truthy(settings.value(MUTED_KEY))
        self.last: Outcome = Outcome()
        """What the last review decided (tests and the status bar read it)."""
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.review)
        self.timer.start()

    @property
    def muted(self) -> bool:
        """Return True while every sound is silenced."""
        return self.decisions.muted

    def set_muted(self, muted: bool) -> None:
        """Silence (or bring back) every sound; remembered across restarts."""
        if muted == self.decisions.muted:
            return
        self.decisions.muted = muted
        self._settings.setValue(MUTED_KEY, muted)
        self.changed.emit()

    def now(self) -> datetime:
        """Return the time the decisions run on (a test may drive it)."""
        return self._now()

    def review(self) -> Outcome:
        """Look at the open alerts; play the sound and hand out the notifications due."""
        outcome = self.decisions.review(self._alerts(), self._now())
        self.last = outcome
        if outcome.tone is not None:
            problem = self.player.problem
            self.player.play(outcome.tone)
            if self.player.problem != problem:
                self.changed.emit()  # "No sound" (or sound again) shows on the button
        if outcome.notify and self._notify is not None:
            self._notify(outcome.notify)
        return outcome

    def stop(self) -> None:
        """Stop the repeats and release the sound card (the window is closing)."""
        self.timer.stop()
        self.player.close()


def _truthy(value: object) -> bool:
    """Read a QSettings boolean (an ini file gives back "true"/"false" strings)."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


MUTED_LOOK = f"color: {theme.ORANGE.name()}; font-weight: bold;"


class SoundControls(QObject):
    """The "Alert sound" menu and its status-bar button: mute, snoozes, test sounds.

    What is selected comes from the window: ``channel`` returns the selected tile's channel
    id and title, ``alerts`` the alerts selected in the Alerts tab. ``say`` puts a line in
    the status bar. While ``locked()`` is True nothing here can be changed.
    """

    def __init__(
        self,
        sounder: AlertSounder,
        *,
        channel: Callable[[], tuple[str, str] | None],
        alerts: Callable[[], Sequence[AlertInfo]],
        say: Callable[[str], None],
        locked: Callable[[], bool] = lambda: False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.sounder = sounder
        self._channel = channel
        self._alerts = alerts
        self._say = say
        self._locked = locked
        self.menu = QMenu("Alert &sound")
        self.mute_action = self.menu.addAction("&Mute alert sounds")
        self.mute_action.setCheckable(True)
        self.mute_action.toggled.connect(self.sounder.set_muted)
        self.menu.addSeparator()
        self.snooze_channel_15 = self.menu.addAction(
            f"Snooze the selected &channel {SNOOZE_MINUTES:.0f} min")
        self.snooze_channel_15.triggered.connect(
            lambda: self.snooze_channel(SNOOZE_MINUTES))
        self.snooze_channel_cleared = self.menu.addAction(
            "Snooze the selected channel until &cleared")
        self.snooze_channel_cleared.triggered.connect(lambda: self.snooze_channel(None))
        self.snooze_alerts_15 = self.menu.addAction(
            f"Snooze the selected &alerts {SNOOZE_MINUTES:.0f} min")
        self.snooze_alerts_15.triggered.connect(lambda: self.snooze_alerts(SNOOZE_MINUTES))
        self.snooze_alerts_cleared = self.menu.addAction(
            "Snooze the selected alerts until c&leared")
        self.snooze_alerts_cleared.triggered.connect(lambda: self.snooze_alerts(None))
        self.end_menu = self.menu.addMenu("&End a snooze")
        self.end_menu.aboutToShow.connect(self._fill_end_menu)
        self.menu.addSeparator()
        self.test_actions: dict[Tone, QAction] = {}
        for tone in Tone:
            action = self.menu.addAction(f"&Test: the {tone.value} sound")
            action.triggered.connect(lambda _checked=False, t=tone: self.test(t))
            self.test_actions[tone] = action
        self.button = QToolButton()
        self.button.setMenu(self.menu)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the board keeps the keys
        self.sounder.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Show mute and the snoozes on the button (a muted board must be seen to be muted)."""
        muted = self.sounder.muted
        self.mute_action.blockSignals(True)
        self.mute_action.setChecked(muted)
        self.mute_action.blockSignals(False)
        snoozes = self.sounder.decisions.snoozes(self.sounder.now())
        problem = self.sounder.player.problem
        if muted:
            text, look = "\u266a MUTED", MUTED_LOOK
        elif problem:
            text, look = "\u26a0 No sound", MUTED_LOOK
        else:
            text, look = "\u266a Sound", ""
        if snoozes and not muted:
            text += f" \u00b7 {len(snoozes)} snoozed"
        self.button.setText(text)
        self.button.setStyleSheet(look)
        tips = ["Alert sounds: " + ("muted" if muted else "on"),
                *([problem] if problem else []),
                *(f"Snoozed {s.kind.value} {s.target} {s.describe()}" for s in snoozes)]
        self.button.setToolTip("\n".join(tips))

    def add_tile_items(self, menu: QMenu, channel_id: str, title: str) -> None:
        """Add "Snooze" items for one tile's channel to its context menu."""
        menu.addSeparator()
        snoozed = [s for s in self.sounder.decisions.snoozes(self.sounder.now())
                   if s.kind is SnoozeKind.CHANNEL and s.target == channel_id]
        if snoozed:
            end = menu.addAction(f"End the snooze ({snoozed[0].describe()})")
            end.triggered.connect(lambda: self._end(SnoozeKind.CHANNEL, channel_id))
            end.setEnabled(not self._locked())
        for label, minutes in ((f"Snooze alert sounds {SNOOZE_MINUTES:.0f} min",
                                SNOOZE_MINUTES), ("Snooze alert sounds until cleared", None)):
            action = menu.addAction(label)
            action.setEnabled(not self._locked())
            action.triggered.connect(
                lambda _checked=False, m=minutes: self.snooze_channel(m, (channel_id, title)))

    def snooze_channel(self, minutes: float | None,
                       selected: tuple[str, str] | None = None) -> None:
        """Snooze a channel: ``selected`` (id, title), else the selected tile's.

        ``minutes`` ``None``: until its alerts clear.
        """
        if self._refused():
            return
        selected = selected or self._channel()
        if selected is None:
            self._say("Select a tile first: its channel is what gets snoozed.")
            return
        channel_id, title = selected
        snooze = self.sounder.decisions.snooze(SnoozeKind.CHANNEL, channel_id,
                                               self.sounder.now(), minutes)
        self._say(f"Alerts of {title} are silent {snooze.describe()}.")
        self.sounder.changed.emit()

    def snooze_alerts(self, minutes: float | None) -> None:
        """Snooze the alerts selected in the Alerts tab."""
        if self._refused():
            return
        chosen = list(self._alerts())
        if not chosen:
            self._say("Select alerts in the Alerts tab first.")
            return
        now = self.sounder.now()
        for alert in chosen:
            snooze = self.sounder.decisions.snooze(SnoozeKind.ALERT, alert.key, now, minutes)
        self._say(f"{len(chosen)} alert(s) silent {snooze.describe()}.")
        self.sounder.changed.emit()

    def test(self, tone: Tone) -> None:
        """Play ``tone`` now (to set the volume before the show), mute or not."""
        if self._refused():
            return
        self.sounder.player.play(tone)
        problem = self.sounder.player.problem
        self._say(problem or f"Playing the {tone.value} sound.")
        self.refresh()

    def _refused(self) -> bool:
        if self._locked():
            self._say(LOCKED_MESSAGE)
            return True
        return False

    def _fill_end_menu(self) -> None:
        self.end_menu.clear()
        snoozes = self.sounder.decisions.snoozes(self.sounder.now())
        if not snoozes:
            self.end_menu.addAction("Nothing is snoozed").setEnabled(False)
            return
        for snooze in snoozes:
            action = self.end_menu.addAction(
                f"{snooze.kind.value.capitalize()} {snooze.target} ({snooze.describe()})")
            action.setEnabled(not self._locked())
            action.triggered.connect(
                lambda _checked=False, s=snooze: self._end(s.kind, s.target))

    def _end(self, kind: SnoozeKind, target: str) -> None:
        if self._refused():
            return
        self.sounder.decisions.unsnooze(kind, target)
        self.sounder.changed.emit()
