"""GroupsDialog: create, rename and delete channel groups; pick their channels."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.control import EngineControl, GroupInfo
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui.tasks import UiTasks

_ID = Qt.ItemDataRole.UserRole


class GroupsDialog(QDialog):
    """Edits groups through the engine; ``saved`` fires after every change."""

    saved = Signal()

    def __init__(
        self,
        store: StateStore,
        engine: EngineControl,
        tasks: UiTasks,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Groups")
        self.resize(640, 520)
        self._engine = engine
        self._tasks = tasks
        self._groups: list[GroupInfo] = []
        self._editing: str | None = None
        self.group_list = QListWidget(self)
        self.group_list.currentRowChanged.connect(self._on_pick)
        new = QPushButton("+ New group", self)
        new.clicked.connect(self.new_group)
        self.delete_button = QPushButton("\u2212 Delete", self)
        self.delete_button.clicked.connect(self.delete_group)
        left = QVBoxLayout()
        left.addWidget(self.group_list, 1)
        left.addWidget(new)
        left.addWidget(self.delete_button)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("Group name (e.g. Band, Cast, Presenters)")
        self.key = QSpinBox(self)
        self.key.setRange(0, 9)
        self.key.setSpecialValueText("no number key")
        self.key.setPrefix("Number key ")
        self.key.setToolTip("Press this number on the dashboard to show only this group")
        self.channels = QListWidget(self)
        snapshot = store.snapshot()
        for receiver in sorted(snapshot.receivers.values(), key=lambda r: r.name or r.id):
            for ch in receiver.channels:
                label = f"{receiver.name or receiver.id} \u00b7 {ch.number}  "
                label += ch.performer or ch.name or ""
                item = QListWidgetItem(label, self.channels)
                item.setData(_ID, ch.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
        save = QPushButton("Save group", self)
        save.clicked.connect(self.save_group)
        self.message = QLabel(self)
        right = QVBoxLayout()
        right.addWidget(self.name)
        right.addWidget(self.key)
        right.addWidget(self.channels, 1)
        right.addWidget(save)
        right.addWidget(self.message)
        body = QHBoxLayout()
        body.addLayout(left)
        body.addLayout(right, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        """Fetch the groups from the engine."""
        self._tasks.start(self._engine.groups(), name="load groups", done=self._show_groups)

    def _show_groups(self, groups: Sequence[GroupInfo]) -> None:
        self._groups = sorted(groups, key=lambda g: g.name.casefold())
        self.group_list.blockSignals(True)
        self.group_list.clear()
        for group in self._groups:
            self.group_list.addItem(f"{group.slot}  {group.name}" if group.slot else group.name)
        self.group_list.blockSignals(False)
        if self._groups:
            self.group_list.setCurrentRow(0)
            self._on_pick(0)

    def _on_pick(self, row: int) -> None:
        if not 0 <= row < len(self._groups):
            return
        group = self._groups[row]
        self._editing = group.name
        self.name.setText(group.name)
        self.key.setValue(group.slot or 0)
        self.set_checked(group.channel_ids)

    def set_checked(self, channel_ids: Sequence[str]) -> None:
        """Tick exactly these channels."""
        wanted = set(channel_ids)
        for i in range(self.channels.count()):
            item = self.channels.item(i)
            state = Qt.CheckState.Checked if item.data(_ID) in wanted else Qt.CheckState.Unchecked
            item.setCheckState(state)

    def checked(self) -> list[str]:
        """Return the ticked channel ids."""
        return [
            str(self.channels.item(i).data(_ID))
            for i in range(self.channels.count())
            if self.channels.item(i).checkState() == Qt.CheckState.Checked
        ]

    def new_group(self) -> None:
        """Start a new group."""
        self._editing = None
        self.group_list.clearSelection()
        self.name.clear()
        self.key.setValue(0)
        self.set_checked(())
        self.name.setFocus()

    def save_group(self) -> None:
        """Create or update (and possibly rename) the group being edited."""
        name = self.name.text().strip()
        if not name:
            self.message.setText("\u2716 Enter a name first.")
            return
        original = self._editing or name
        rename = name if self._editing and name != self._editing else None
        self._tasks.start(
            self._engine.save_group(
                original, self.checked(), rename_to=rename, slot=self.key.value() or None
            ),
            name="save group", done=lambda g: self._after(f"\u2714 Saved {g.name}."),
            failed=lambda e: self.message.setText(f"\u2716 {e}"),
        )

    def delete_group(self) -> None:
        """Delete the selected group."""
        if self._editing is None:
            return
        name = self._editing
        self._tasks.start(self._engine.delete_group(name), name="delete group",
                          done=lambda _: self._after(f"Deleted {name}."))

    def _after(self, message: str) -> None:
        self.message.setText(message)
        self.saved.emit()
        self.reload()
