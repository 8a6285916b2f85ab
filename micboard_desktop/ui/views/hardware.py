"""HardwareView: manufacturer -> location -> receiver -> channel, with in-place editing.

Slot numbers and performer names (on channel rows) and locations (on receiver rows) are
edited in the tree; edits go to ``engine.set_slot`` / ``engine.set_performer`` /
``engine.set_location`` and come back through the store like every other change. Items are
updated in place, never rebuilt wholesale, so an open editor survives live updates.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.control import UserDataControl
from micboard_desktop.core.errors import describe_error
from micboard_desktop.core.liveness import Liveness, monitored
from micboard_desktop.core.model import Channel, ChannelId, Receiver, ReceiverId
from micboard_desktop.core.slots import MAX_SLOT
from micboard_desktop.core.status import channel_status
from micboard_desktop.core.store import Changes
from micboard_desktop.ui import format as fmt
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.tasks import UiTasks

COLUMNS = ("Name", "Slot", "Model", "Frequency", "Performer", "Location", "Status")
COL_NAME, COL_SLOT, COL_MODEL, COL_FREQ, COL_PERFORMER, COL_LOCATION, COL_STATUS = range(
    len(COLUMNS)
)
NO_LOCATION = "(no location)"
_KIND = Qt.ItemDataRole.UserRole
_ID = Qt.ItemDataRole.UserRole + 1


class HardwareView(QWidget):
    """Tree of the hardware with slot, performer and location editable in place."""

    def __init__(
        self,
        bridge: StoreBridge,
        engine: UserDataControl,
        tasks: UiTasks,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._engine = engine
        self._tasks = tasks
        self._dirty = True
        self._filling = False
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setAlternatingRowColors(True)
        self.tree.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.items: dict[str, QTreeWidgetItem] = {}
        """Tree items by key: ``m:<code>``, ``l:<code>/<location>``, receiver and channel ids."""
        hint = QLabel(
            "Double-click a slot, a performer or a location to edit it. A slot another "
            "channel has swaps with it.",
            self,
        )
        hint.setStyleSheet("color: #a8a8a8;")
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.tree, 1)
        bridge.changed.connect(self._on_changed)
        self.refresh()

    def refresh(self) -> None:
        """Bring the tree up to date with the store."""
        self._dirty = False
        snapshot = self._bridge.store.snapshot()
        self._filling = True
        try:
            seen: set[str] = set()
            receivers = sorted(
                snapshot.receivers.values(),
                key=lambda r: (r.manufacturer, r.location or "", r.name or r.id),
            )
            for receiver in receivers:
                maker = snapshot.manufacturers.get(receiver.manufacturer)
                top = self._item(f"m:{receiver.manufacturer}", None)
                top.setText(COL_NAME, maker.name if maker else receiver.manufacturer)
                place_key = f"l:{receiver.manufacturer}/{receiver.location or ''}"
                place = self._item(place_key, top)
                place.setText(COL_NAME, receiver.location or NO_LOCATION)
                rx_item = self._item(receiver.id, place, kind="receiver")
                self._fill_receiver(rx_item, receiver)
                seen.update((top.data(0, _ID), place_key, receiver.id))
                for channel in receiver.channels:
                    ch_item = self._item(channel.id, rx_item, kind="channel")
                    self._fill_channel(ch_item, channel, receiver, snapshot.slots.get(channel.id))
                    seen.add(channel.id)
            # Deepest first: taking a receiver out deletes its channel items with it, and a
            # channel item touched after that raised "C++ object already deleted" (a receiver
            # that goes away, e.g. an SSCv1 twin merged into its SSCv2 receiver).
            stale = [k for k in self.items if k not in seen]
            stale.sort(key=lambda k: _depth(self.items[k]), reverse=True)
            for key in stale:
                item = self.items.pop(key)
                parent = item.parent()
                if parent is not None:
                    parent.removeChild(item)
                else:
                    self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        finally:
            self._filling = False

    def _item(self, key: str, parent: QTreeWidgetItem | None, kind: str = "") -> QTreeWidgetItem:
        item = self.items.get(key)
        if item is not None and item.parent() is not parent:
            # The receiver moved (new location): re-create it under its new parent.
            old_parent = item.parent()
            if old_parent is not None:
                old_parent.removeChild(item)
            for k in [k for k, v in self.items.items() if v is item or _under(v, item)]:
                del self.items[k]
            item = None
        if item is None:
            item = QTreeWidgetItem()
            item.setData(0, _ID, key)
            item.setData(0, _KIND, kind)
            if kind:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            item.setExpanded(True)
            self.items[key] = item
        return item

    def _fill_receiver(self, item: QTreeWidgetItem, receiver: Receiver) -> None:
        item.setText(COL_NAME, receiver.name or receiver.id)
        item.setText(COL_MODEL, fmt.text(receiver.model))
        item.setText(COL_LOCATION, receiver.location or "")
        if not monitored(receiver):  # stopped on purpose: not a dead receiver
            look = theme.LIVENESS_LOOK[Liveness.NOT_MONITORED]
            words, colour = f"{look.glyph} Not monitored", look.ink
        elif receiver.online:
            words, colour = "\u2714 Online", theme.GREEN
        else:
            words, colour = "\u2298 Offline", theme.TEXT_DIM
        item.setText(COL_STATUS, words)
        item.setForeground(COL_STATUS, QBrush(colour))
        item.setToolTip(COL_NAME, f"{receiver.id}  {fmt.text(receiver.ip)}")

    def _fill_channel(
        self, item: QTreeWidgetItem, channel: Channel, receiver: Receiver, slot: int | None
    ) -> None:
        look = theme.STATUS_LOOK[channel_status(channel, receiver_online=receiver.online)]
        if not monitored(receiver):
            look = theme.LIVENESS_LOOK[Liveness.NOT_MONITORED]
        item.setText(COL_NAME, f"{channel.number}  {fmt.text(channel.name)}")
        tx = channel.transmitter
        item.setText(COL_MODEL, fmt.text(tx.model if tx else None))
        item.setText(COL_FREQ, fmt.frequency(channel.frequency_khz))
        if not (self.tree.currentItem() is item
                and self.tree.state() == QAbstractItemView.State.EditingState):
            item.setText(COL_SLOT, "" if slot is None else str(slot))
            item.setText(COL_PERFORMER, channel.performer or "")
        item.setText(COL_STATUS, look.label)
        item.setForeground(COL_STATUS, QBrush(look.ink))

    def edit_performer(self, channel: ChannelId, performer: str) -> None:
        """Set a performer as if typed into the tree (keyboard-free path for tests)."""
        item = self.items[channel]
        item.setText(COL_PERFORMER, performer)

    def edit_slot(self, channel: ChannelId, slot: str) -> None:
        """Type a slot number into the tree (keyboard-free path for tests)."""
        self.items[channel].setText(COL_SLOT, slot)

    def edit_location(self, receiver: ReceiverId, location: str) -> None:
        """Set a location as if typed into the tree."""
        self.items[receiver].setText(COL_LOCATION, location)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Catch up on changes that arrived while hidden."""
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def _on_changed(self, _changes: Changes) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._dirty = True  # hidden views do no work

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._filling:
            return
        kind = item.data(0, _KIND)
        key = str(item.data(0, _ID))
        value = item.text(column).strip() or None
        if kind == "channel" and column == COL_SLOT:
            self._set_slot(key, value)
        elif kind == "channel" and column == COL_PERFORMER:
            self._tasks.start(self._engine.set_performer(key, value), name="set performer")
        elif kind == "receiver" and column == COL_LOCATION:
            self._tasks.start(self._engine.set_location(key, value), name="set location")
        else:
            # Only performer and location are editable; undo anything else.
            self._dirty = True
            self.refresh()


    def _set_slot(self, channel: str, typed: str | None) -> None:
        """Ask the engine for the typed number; a refusal says why and shows the old one."""
        try:
            slot = int(typed or "")
        except ValueError:
            self._slot_refused(ValueError(f"type a whole number from 1 to {MAX_SLOT}"))
            return
        self._tasks.start(
            self._engine.set_slot(channel, slot), name="set slot", failed=self._slot_refused
        )

    def _slot_refused(self, error: BaseException) -> None:
        if self._tasks.on_error is not None:
            self._tasks.on_error(f"Slot not changed: {describe_error(error)}")
        # The store did not change, so no update would put the old number back.
        self._dirty = True
        self.refresh()


def _under(item: QTreeWidgetItem, ancestor: QTreeWidgetItem) -> bool:
    parent = item.parent()
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent()
    return False


def _depth(item: QTreeWidgetItem) -> int:
    """Return how deep ``item`` sits in the tree (a top-level item is 0)."""
    depth = 0
    parent = item.parent()
    while parent is not None:
        depth += 1
        parent = parent.parent()
    return depth
