"""Dashboard: the board of channel tiles, with filters, sorting, find and tile size.

The view is thin: when the bridge says something changed it rebuilds the tiles of just the
receivers the change names (everything only when receivers come or go, or the thresholds
change), reads the groups from the store, and it is the frame clock's meter sink. Tiles are
created once per channel and only moved, shown or hidden afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.control import (
    AlertsControl,
    GroupInfo,
    SettingsControl,
    UserDataControl,
)
from micboard_desktop.core.liveness import (
    Liveness,
    board_rank,
    needs_attention,
    receiver_liveness,
    shows_last_values,
)
from micboard_desktop.core.meters import MeterBus, MeterWindow
from micboard_desktop.core.model import ChannelId, Receiver, ReceiverId
from micboard_desktop.core.slots import MAX_SLOT
from micboard_desktop.core.status import StatusThresholds, channel_status
from micboard_desktop.core.store import Changes, Topic
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.frame_clock import FrameClock
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.alerts import acknowledge_channel, channel_alerts
from micboard_desktop.ui.views.board_keys import BoardKeys
from micboard_desktop.ui.widgets.channel_tile import ChannelTile, TileData, tile_data
from micboard_desktop.ui.widgets.empty_board import EmptyBoard
from micboard_desktop.ui.widgets.tile_board import TileBoard

ALL = ""
"""Combo-box data for "no filter"."""


class BoardEngine(SettingsControl, AlertsControl, UserDataControl, Protocol):
    """The engine roles the board uses: thresholds, acknowledging, slot numbers."""

AGE_TICK_MS = 1000
"""How often tiles showing "NO DATA 0:45" count up (and turn RX OFFLINE when it is time)."""


class SortKey(StrEnum):
    """Orders the dashboard offers."""

    SLOT = "slot"
    NAME = "name"
    STATUS = "status"


class Dashboard(QWidget):
    """Grid of channel tiles; emits ``channel_selected`` when a tile is clicked."""

    channel_selected = Signal(str)
    fullscreen_requested = Signal()

    def __init__(
        self,
        bridge: StoreBridge,
        meters: MeterBus,
        engine: BoardEngine,
        tasks: UiTasks,
        parent: QWidget | None = None,
        *,
        frame_hz: float | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._engine = engine
        self._tasks = tasks
        self.tiles: dict[ChannelId, ChannelTile] = {}
        self._manufacturer_of: dict[ChannelId, str] = {}
        self._groups: list[GroupInfo] = []
        self.hidden_trouble = 0
        """Channels a filter hides whose status needs attention (shown in the count label)."""
        self._slot_of: dict[ChannelId, int] = {}
        """Each tile's slot number as the last full rebuild gave it."""
        self._channels_of: dict[ReceiverId, int] = {}
        """How many channels each receiver had at the last full rebuild."""
        self._animating: set[ChannelTile] = set()
        self._inputs: dict[ChannelId, tuple[object, ...]] = {}
        self._band_values: set[ChannelTile] = set()
        """Tiles whose store RF levels changed in this change set (one band pass for all)."""
        """What each tile's data was last built from (unchanged inputs: nothing to rebuild)."""
        self._selected: ChannelId | None = None
        self._scale = 1.0
        self._build_ui()
        self.clock = FrameClock(meters.reader(), self, self, hz=frame_hz)
        self._quiet: set[ReceiverId] = set()
        """Receivers whose tiles show last values with an age (the age clock runs for them)."""
        # A display clock, not polling: nothing in the store changes while a link is down,
        # yet the age must count and the tile must say RX OFFLINE when the hold runs out.
        self._age_clock = QTimer(self)
        self._age_clock.setInterval(AGE_TICK_MS)
        self._age_clock.timeout.connect(self._tick_ages)
        bridge.changed.connect(self._on_changed)
        self._sync()
        self.reload_groups()

    # -- building -----------------------------------------------------------------------

    def _build_ui(self) -> None:
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 0)
        self.manufacturer_box = QComboBox(self)
        self.manufacturer_box.setToolTip("Show one manufacturer")
        self.manufacturer_box.addItem("All manufacturers", ALL)
        self.group_box = QComboBox(self)
        self.group_box.setToolTip("Show one group (number keys 1-9; 0 shows all)")
        self.group_box.addItem("All channels", ALL)
        self.sort_box = QComboBox(self)
        self.sort_box.setToolTip("Order of the tiles")
        for key, label in ((SortKey.SLOT, "Sort: slot"), (SortKey.NAME, "Sort: name"),
                           (SortKey.STATUS, "Sort: status")):
            self.sort_box.addItem(label, key.value)
        self.find_box = QLineEdit(self)
        self.find_box.setPlaceholderText("Find name, performer, frequency (Ctrl+F)")
        self.find_box.setClearButtonEnabled(True)
        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_slider.setRange(50, 200)
        self.size_slider.setValue(100)
        self.size_slider.setFixedWidth(140)
        self.size_slider.setToolTip("Tile size")
        self.count_label = QLabel(self)
        full = QPushButton("Fullscreen (F11)", self)
        full.clicked.connect(self.fullscreen_requested)
        bar.addWidget(self.manufacturer_box)
        bar.addWidget(self.group_box)
        bar.addWidget(self.sort_box)
        bar.addWidget(self.find_box, 1)
        bar.addWidget(QLabel("Size", self))
        bar.addWidget(self.size_slider)
        bar.addWidget(self.count_label)
        bar.addWidget(full)
        self.board = TileBoard()
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(self.board)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.empty_board = EmptyBoard(self._engine, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.empty_board, 1)
        layout.addWidget(self.scroll_area, 1)
        self.manufacturer_box.currentIndexChanged.connect(self._apply_view)
        self.group_box.currentIndexChanged.connect(self._apply_view)
        self.sort_box.currentIndexChanged.connect(self._apply_view)
        self.find_box.textChanged.connect(self._apply_view)
        self.size_slider.valueChanged.connect(self._on_size)
        # Ctrl+F and F11 live on the window's menu actions (one owner per key, or Qt
        # reports an ambiguous shortcut). Digits act only while the board has focus, so
        # typing numbers in the hardware editor never switches groups.
        for n in range(10):
            digit = QShortcut(QKeySequence(str(n)), self, lambda n=n: self.select_group_slot(n))
            digit.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        # The board takes focus (tiles do not: 29 tab stops would make Tab useless) and
        # its keys act on the selected tile; the frame around the area shows the focus.
        self.board.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.keys = BoardKeys(
            tiles=self.board.visible_tiles,
            current=self.current_tile,
            select=self._select_by_key,
            open_details=lambda tile: self._on_tile_activated(tile.data.channel_id),
            acknowledge=self.acknowledge_tile,
            open_menu=lambda tile: self.open_tile_menu(
                tile, tile.mapToGlobal(tile.rect().center())),
            parent=self,
        )
        self.board.installEventFilter(self.keys)
        self.board.installEventFilter(self)
        # Enter or Down in the find box hands the keys back to the board.
        self.find_box.returnPressed.connect(self.board.setFocus)
        self.tile_menu: QMenu | None = None
        """The tile menu while it is open (tests read it)."""
        self.tile_menu_extras: list[Callable[[QMenu, ChannelTile], None]] = []
        """Called with each tile menu before it opens, to add items the board does not own."""
        self.slot_question: QInputDialog | None = None

    # -- public API ---------------------------------------------------------------------

    def set_manufacturer(self, code: str) -> None:
        """Show only manufacturer ``code`` (``""`` for all)."""
        self.manufacturer_box.setCurrentIndex(max(0, self.manufacturer_box.findData(code)))

    def set_group(self, name: str) -> None:
        """Show only group ``name`` (``""`` for all)."""
        self.group_box.setCurrentIndex(max(0, self.group_box.findData(name)))

    def set_sort(self, key: SortKey) -> None:
        """Order the tiles by ``key``."""
        self.sort_box.setCurrentIndex(self.sort_box.findData(key.value))

    def mark_alerted(self, channel_ids: set[str]) -> None:
        """Frame the tiles of channels that just got a new alert (until they are selected)."""
        for cid in channel_ids:
            tile = self.tiles.get(ChannelId(cid))
            if tile is not None:
                tile.set_alerted(True)

    def unmark_quiet(self, open_channels: set[str]) -> None:
        """Take the alert frame off tiles whose channel has no open, unacknowledged alert."""
        for cid, tile in self.tiles.items():
            if tile.alerted and cid not in open_channels:
                tile.set_alerted(False)

    def set_find(self, text: str) -> None:
        """Show only tiles whose name, performer or frequency contains ``text``."""
        self.find_box.setText(text)

    def set_tile_scale(self, scale: float) -> None:
        """Scale every tile (0.5-2.0)."""
        self.size_slider.setValue(round(scale * 100))

    def select_group_slot(self, slot: int) -> None:
        """Select the group bound to number key ``slot``; 0 shows every channel."""
        if slot == 0:
            self.set_group(ALL)
            return
        for group in self._groups:
            if group.slot == slot:
                self.set_group(group.name)
                return

    def visible_channel_ids(self) -> list[ChannelId]:
        """Return the ids of the tiles on the board, in display order."""
        return [t.data.channel_id for t in self.board.visible_tiles()]

    def set_selected(self, channel: ChannelId | None) -> None:
        """Frame the tile of ``channel`` (or none)."""
        if self._selected in self.tiles:
            self.tiles[self._selected].set_selected(False)
        self._selected = channel
        if channel in self.tiles:
            self.tiles[channel].set_selected(True)

    def current_tile(self) -> ChannelTile | None:
        """Return the selected tile (the keys act on it), if it is on the board."""
        tile = self.tiles.get(self._selected) if self._selected is not None else None
        return tile if tile is not None and tile.isVisible() else None

    def acknowledge_tile(self, tile: ChannelTile) -> int:
        """Acknowledge every open alert of ``tile``'s channel; return how many."""
        tile.set_alerted(False)
        return acknowledge_channel(self._engine, self._tasks, tile.data.channel_id)

    def open_tile_menu(self, tile: ChannelTile, at: QPoint) -> QMenu:
        """Pop up the tile's menu at global ``at``: acknowledge, details, slot number."""
        cid = tile.data.channel_id
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        count = len(channel_alerts(self._engine, cid))
        ack = menu.addAction(f"Acknowledge {count} alert(s)\tA" if count
                             else "No open alerts")
        ack.setEnabled(count > 0)
        ack.triggered.connect(lambda: self.acknowledge_tile(tile))
        details = menu.addAction("Details\tEnter")
        details.triggered.connect(lambda: self._on_tile_activated(cid))
        slot = menu.addAction(f"Set slot number (now {tile.data.slot})\u2026")
        slot.triggered.connect(lambda: self.ask_slot(tile))
        spare = not tile.data.spare
        mark = menu.addAction("Mark as spare (no alerts)" if spare else "Not a spare any more")
        mark.triggered.connect(lambda: self._tasks.start(self._engine.set_spare(cid, spare),
                                                         name="set spare"))
        for extend in self.tile_menu_extras:  # the window's own items (alert sound snoozes)
            extend(menu, tile)
        menu.aboutToHide.connect(lambda: setattr(self, "tile_menu", None))
        self.tile_menu = menu
        menu.popup(at)  # never exec() under qasync
        return menu

    def ask_slot(self, tile: ChannelTile) -> QInputDialog:
        """Ask for a new slot number for ``tile`` (the holder of that number swaps)."""
        question = QInputDialog(self)
        question.setWindowTitle("Slot number")
        question.setLabelText(f"Slot number for {tile.data.title}\n(the tile that has it "
                              "now takes this tile's number)")
        question.setInputMode(QInputDialog.InputMode.IntInput)
        question.setIntRange(1, MAX_SLOT)
        question.setIntValue(tile.data.slot)
        cid = tile.data.channel_id

        def answered(result: int) -> None:
            self.slot_question = None
            if result == QInputDialog.DialogCode.Accepted:
                self._tasks.start(self._engine.set_slot(cid, question.intValue()),
                                  name="set slot")

        question.finished.connect(answered)
        self.slot_question = question
        question.open()
        return question

    def reload_groups(self) -> None:
        """Refresh the group filter from the groups in the store."""
        self._set_groups(self._bridge.store.groups())

    def close(self) -> bool:
        """Stop the frame clock and release the meter reader."""
        self.clock.close()
        self._age_clock.stop()
        return super().close()

    # -- meters (FrameClock sink) -------------------------------------------------------

    def apply_meters(self, windows: Mapping[ChannelId, MeterWindow], dt: float) -> bool:
        """Fold the frame's maxima into the tiles, decay the rest, repaint what moved."""
        dirty: set[ChannelTile] = set()
        for cid, window in windows.items():
            tile = self.tiles.get(cid)
            if tile is not None:
                tile.meter.feed(window)
                dirty.add(tile)
                self._animating.add(tile)
        for tile in list(self._animating):
            if tile not in dirty and not tile.meter.decay(dt):
                self._animating.discard(tile)
            dirty.add(tile)
        self.board.refresh_meters(dirty)
        for tile in dirty:  # in-ear tiles paint their own input bars (a dozen at most)
            if tile.paints_own_meters() and tile.isVisible():
                tile.update(tile.band_rect())
        return bool(self._animating)

    # -- Qt overrides -------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Start the frame clock while the board can be seen."""
        super().showEvent(event)
        self.clock.start()
        if self._quiet:
            self._age_clock.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        """Hidden views do no work."""
        super().hideEvent(event)
        self.clock.stop()
        self._age_clock.stop()

    # -- store --------------------------------------------------------------------------

    def _on_changed(self, changes: Changes) -> None:
        if Topic.GROUPS in changes.topics:
            self.reload_groups()
        # New slot numbers reorder the board: rebuild, as when receivers go.
        structural = bool(changes.removed) or bool(
            changes.topics & {Topic.CONFIG, Topic.SLOTS, Topic.SPARES})
        receivers = changes.receivers
        if Topic.ESTIMATES in changes.topics:  # runtime estimates move every few seconds
            receivers = frozenset(self._bridge.store.snapshot().receivers)
        if structural or not self._update_receivers(receivers):
            self._sync()
        self._refresh_bands()

    def _refresh_bands(self) -> None:
        """Let the board repaint what the store's new RF levels change in the bands."""
        if self._band_values:
            tiles, self._band_values = self._band_values, set()
            self.board.refresh_bands(tiles)

    def _update_receivers(self, receiver_ids: frozenset[ReceiverId]) -> bool:
        """Refresh the tiles of these receivers only; False when the board must be rebuilt.

        A receiver that is new, or whose channels came or went, changes slots and filters:
        then the whole board is rebuilt.
        """
        if not receiver_ids:
            return True
        store = self._bridge.store
        for rid in receiver_ids:
            receiver = store.receiver(rid)
            if receiver is None or any(ch.id not in self._slot_of for ch in receiver.channels):
                return False
            if self._channels_of.get(rid) != len(receiver.channels):
                return False
        for rid in receiver_ids:
            receiver = store.receiver(rid)
            assert receiver is not None  # checked above, on the same loop turn
            self._update_tiles(receiver)
        self._apply_view()
        return True

    def _update_tiles(self, receiver: Receiver) -> bool:
        """Give each channel of ``receiver`` its tile's data (at its slot); True if one is new."""
        limits = self._limits(receiver.manufacturer)
        liveness = receiver_liveness(
            receiver, datetime.now(UTC), self._engine.config().alert_holds.rx_offline_raise
        )
        self._note_quiet(receiver.id, liveness.state is Liveness.NO_DATA)
        # Just-dropped values are judged as they were; a stopped or gone receiver is offline.
        judged_online = shows_last_values(liveness.state)
        spares = self._bridge.store.spares()
        estimates = self._bridge.store.estimates()
        created = False
        inputs = self._inputs
        for channel in receiver.channels:
            estimate = estimates.get(channel.id)
            slot, spare = self._slot_of[channel.id], channel.id in spares
            # Everything the tile's data is made of; the store keeps unchanged channels as
            # the same objects, so most of a replay step's channels end here (issue #22).
            key = (channel, liveness, receiver.online, receiver.manufacturer, limits, slot,
                   spare, estimate)
            if inputs.get(channel.id) == key and channel.id in self.tiles:
                continue
            inputs[channel.id] = key
            status = channel_status(channel, receiver_online=judged_online, limits=limits,
                                    estimate=estimate)
            data = tile_data(channel, receiver, slot=slot, status=status,
                             liveness=liveness, limits=limits, spare=spare,
                             estimate=estimate)
            tile = self.tiles.get(channel.id)
            if tile is None:
                tile = self._make_tile(data)
                created = True
            else:
                tile.set_data(data)
            tile.meter.clip_dbfs = limits.audio_peak_dbfs
            self._manufacturer_of[channel.id] = receiver.manufacturer
        return created

    def _limits(self, manufacturer: str) -> StatusThresholds:
        return self._engine.config().thresholds_for(manufacturer)

    def _sync(self) -> None:
        snapshot = self._bridge.store.snapshot()
        receivers = sorted(
            snapshot.receivers.values(), key=lambda r: (r.manufacturer, r.name or r.id, r.id)
        )
        seen: set[ChannelId] = set()
        created = False
        slots = snapshot.slots
        # A channel the engine has not numbered yet (it waits a few seconds for the rest of
        # the receiver, engine/slots.py) follows the numbered ones in board order; max + 1
        # is also where the engine will number it (core/slots.py). Never a missing tile.
        unnumbered = max(slots.values(), default=0)
        self._channels_of = {r.id: len(r.channels) for r in receivers}
        for receiver in receivers:
            for channel in sorted(receiver.channels, key=lambda c: c.number):
                if channel.id in slots:
                    self._slot_of[channel.id] = slots[channel.id]
                else:
                    unnumbered += 1
                    self._slot_of[channel.id] = unnumbered
                seen.add(channel.id)
            created = self._update_tiles(receiver) or created
        removed = [cid for cid in self.tiles if cid not in seen]
        for cid in removed:
            self._slot_of.pop(cid, None)
            self._inputs.pop(cid, None)
            tile = self.tiles.pop(cid)
            self._animating.discard(tile)
            self._manufacturer_of.pop(cid, None)
            tile.deleteLater()
        if created or removed:
            self._refresh_manufacturers()
        self._apply_view()

    def _make_tile(self, data: TileData) -> ChannelTile:
        tile = ChannelTile(data, self.board)
        tile.set_scale(self._scale)
        tile.hide()
        tile.activated.connect(self._on_tile_activated)
        tile.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        tile.customContextMenuRequested.connect(
            lambda pos, t=tile: self.open_tile_menu(t, t.mapToGlobal(pos)))
        tile.band_changed.connect(self.board.repaint_band)
        tile.band_values_changed.connect(self._band_values.add)
        self.tiles[data.channel_id] = tile
        return tile

    def _refresh_manufacturers(self) -> None:
        snapshot = self._bridge.store.snapshot()
        codes = sorted({r.manufacturer for r in snapshot.receivers.values()})
        current = self.manufacturer_box.currentData()
        self.manufacturer_box.blockSignals(True)
        self.manufacturer_box.clear()
        self.manufacturer_box.addItem("All manufacturers", ALL)
        for code in codes:
            maker = snapshot.manufacturers.get(code)
            self.manufacturer_box.addItem(maker.name if maker else code, code)
        self.manufacturer_box.setCurrentIndex(max(0, self.manufacturer_box.findData(current)))
        self.manufacturer_box.blockSignals(False)

    def _set_groups(self, groups: Sequence[GroupInfo]) -> None:
        self._groups = sorted(groups, key=lambda g: (g.slot is None, g.slot or 0, g.name))
        current = self.group_box.currentData()
        self.group_box.blockSignals(True)
        self.group_box.clear()
        self.group_box.addItem("All channels (0)", ALL)
        for group in self._groups:
            label = f"{group.name} ({group.slot})" if group.slot else group.name
            self.group_box.addItem(label, group.name)
        self.group_box.setCurrentIndex(max(0, self.group_box.findData(current)))
        self.group_box.blockSignals(False)
        self._apply_view()

    # -- filtering, sorting, sizing -----------------------------------------------------

    def _apply_view(self) -> None:
        maker = self.manufacturer_box.currentData() or ALL
        group_name = self.group_box.currentData() or ALL
        members: set[str] | None = None
        if group_name:
            group = next((g for g in self._groups if g.name == group_name), None)
            members = set(group.channel_ids) if group else set()
        needle = self.find_box.text().strip().casefold()
        shown: list[ChannelTile] = []
        for cid, tile in self.tiles.items():
            if maker and self._manufacturer_of.get(cid) != maker:
                continue
            if members is not None and cid not in members:
                continue
            if needle and needle not in _haystack(tile.data):
                continue
            shown.append(tile)
        key = SortKey(self.sort_box.currentData() or SortKey.SLOT.value)
        if key is SortKey.NAME:
            shown.sort(key=lambda t: (t.data.title.casefold(), t.data.slot))
        elif key is SortKey.STATUS:
            # Emergencies first, switched-off spares last (not the status priority order).
            shown.sort(key=lambda t: (t.data.spare, board_rank(t.data.status, t.data.liveness),
                                      t.data.slot))
        else:
            shown.sort(key=lambda t: t.data.slot)
        if [t.data.channel_id for t in shown] != self.visible_channel_ids():
            self.board.set_order(shown)
        if not self.tiles:
            self.empty_board.refresh()  # the configuration may have changed (Topic.CONFIG)
        self.empty_board.setVisible(not self.tiles)
        self.scroll_area.setVisible(bool(self.tiles))
        self._say_what_is_hidden(shown)

    def _say_what_is_hidden(self, shown: list[ChannelTile]) -> None:
        """Show that a filter is on, and shout when it hides a channel in trouble.

        "2 of 29" in grey was the only hint that 27 channels were out of sight, a critical
        pack among them.
        """
        filtering = len(shown) < len(self.tiles)
        visible = {t.data.channel_id for t in shown}
        hidden_trouble = sum(
            1 for cid, tile in self.tiles.items()
            if cid not in visible and not tile.data.spare
            and needs_attention(tile.data.status, tile.data.liveness)
        )
        text = f"{len(shown)} of {len(self.tiles)}"
        if filtering:
            text = f"\u25bc Filter on: {text}"
        if hidden_trouble:
            text += f"  \u26a0 {hidden_trouble} hidden need attention"
        self.count_label.setText(text)
        self.hidden_trouble = hidden_trouble
        colour = theme.RED if hidden_trouble else theme.ORANGE if filtering else None
        self.count_label.setStyleSheet(
            "" if colour is None else f"color: {colour.name()}; font-weight: bold;"
        )

    def _on_size(self, value: int) -> None:
        self._scale = value / 100
        for tile in self.tiles.values():
            tile.set_scale(self._scale)
        self.board.reflow()

    def _select_by_key(self, tile: ChannelTile) -> None:
        self.set_selected(tile.data.channel_id)
        self.scroll_area.ensureWidgetVisible(tile, 0, 8)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Frame the board in the accent colour while it has the keyboard focus."""
        if watched is self.board and event.type() in (QEvent.Type.FocusIn,
                                                      QEvent.Type.FocusOut):
            focused = event.type() == QEvent.Type.FocusIn
            self.scroll_area.setStyleSheet(
                f"QScrollArea {{ border: 2px solid {theme.TILE_SELECTED.name()}; }}"
                if focused else "QScrollArea { border: 2px solid transparent; }")
        return super().eventFilter(watched, event)

    def _on_tile_activated(self, channel: str) -> None:
        self.set_selected(ChannelId(channel))
        self.channel_selected.emit(channel)

    def _note_quiet(self, receiver: ReceiverId, quiet: bool) -> None:
        """Run the age clock while any receiver shows last values with an age."""
        if quiet:
            self._quiet.add(receiver)
            if self.isVisible() and not self._age_clock.isActive():
                self._age_clock.start()
        else:
            self._quiet.discard(receiver)
            if not self._quiet:
                self._age_clock.stop()

    def _tick_ages(self) -> None:
        store = self._bridge.store
        for rid in list(self._quiet):
            receiver = store.receiver(rid)
            if receiver is None:
                self._note_quiet(rid, False)
            elif all(ch.id in self._slot_of for ch in receiver.channels):
                self._update_tiles(receiver)
        self._apply_view()
        self._refresh_bands()


def _haystack(data: TileData) -> str:
    return f"{data.title} {data.subtitle} {data.frequency} {data.tx_model} {data.slot}".casefold()
