from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QTableWidget

from micboard_desktop.core.config import AppConfig, ManufacturerConfig
from micboard_desktop.core.control import AlertInfo, ConnectionView, Severity
from micboard_desktop.core.coordinator import ConnectionState
from micboard_desktop.core.model import ConnectionStatus, Transport
from micboard_desktop.core.store import StateStore
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.views.alerts import AlertsView
from micboard_desktop.ui.views.connections import ConnectionsView
from micboard_desktop.ui.views.hardware import COL_LOCATION, COL_PERFORMER, HardwareView
from tests.core.builders import make_receiver
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until


def cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    assert item is not None
    return item.text()


def _connections() -> list[ConnectionView]:
    now = datetime.now(UTC)
    return [
        ConnectionView("shure", ConnectionState("shure/10.0.0.5", Transport.TCP,
                                                ConnectionStatus.CONNECTED, since=now)),
        ConnectionView("shure", ConnectionState("shure/10.0.0.6", Transport.TCP,
                                                ConnectionStatus.ERROR, reconnects=3,
                                                last_error="connection refused",
                                                since=now - timedelta(minutes=5))),
        ConnectionView("sennheiser", ConnectionState("sennheiser/10.0.1.9", Transport.SSE,
                                                     ConnectionStatus.DISCONNECTED)),
    ]


async def test_connections_table_shows_state_in_words():
    engine = FakeEngine(connection_views=_connections())
    view = ConnectionsView(engine, UiTasks())
    assert view.table.rowCount() == 3
    texts = {cell(view.table, r, 0): cell(view.table, r, 2) for r in range(3)}
    assert "Connected" in texts["shure/10.0.0.5"]
    assert "Error" in texts["shure/10.0.0.6"]
    row = next(r for r in range(3) if cell(view.table, r, 0) == "shure/10.0.0.6")
    assert cell(view.table, row, 5) == "3"
    assert cell(view.table, row, 8) == "connection refused"
    assert cell(view.table, row, 4) == "5m"


async def test_connection_actions_reach_the_engine():
    engine = FakeEngine(connection_views=_connections())
    tasks = UiTasks()
    view = ConnectionsView(engine, tasks)
    assert not view.reconnect_button.isEnabled()  # nothing selected yet
    view.select_ids(["shure/10.0.0.6", "sennheiser/10.0.1.9"])
    assert view.reconnect_button.isEnabled()
    view.reconnect_button.click()
    await tasks.wait_idle()
    assert ("reconnect", ("sennheiser/10.0.1.9", "shure/10.0.0.6")) in engine.calls
    view.stop_button.click()
    await tasks.wait_idle()
    assert ("set_connections_enabled", (("sennheiser/10.0.1.9", "shure/10.0.0.6"), False)) \
        in engine.calls
    assert "Stopped" in cell(view.table, 0, 2)  # the sennheiser row sorts first
    view.select_ids(["shure/10.0.0.6"])
    view.start_button.click()
    await tasks.wait_idle()
    assert engine.calls[-1] == ("set_connections_enabled", (("shure/10.0.0.6",), True))


async def test_connections_without_engine_are_disabled():
    view = ConnectionsView(None, UiTasks())
    assert view.table.rowCount() == 0
    assert not view.reconnect_button.isEnabled()
    assert "engine" in view.note.text()


async def test_performer_and_location_edits_call_the_engine():
    store = StateStore()
    rx = make_receiver("shure:rx1", channels=2, location="Rack A")
    store.put_receiver(rx)
    engine = FakeEngine()
    tasks = UiTasks()
    bridge = StoreBridge(store)
    view = HardwareView(bridge, engine, tasks)
    channel = rx.channels[1]
    assert view.items[channel.id].parent() is view.items[rx.id]
    assert view.items[rx.id].text(COL_LOCATION) == "Rack A"
    view.edit_performer(channel.id, "  Jane Doe ")
    await tasks.wait_idle()
    assert ("set_performer", (channel.id, "Jane Doe")) in engine.calls
    view.edit_performer(channel.id, "")
    await tasks.wait_idle()
    assert engine.calls[-1] == ("set_performer", (channel.id, None))
    view.edit_location(rx.id, "Stage left")
    await tasks.wait_idle()
    assert engine.calls[-1] == ("set_location", (rx.id, "Stage left"))
    # The engine's answer comes back through the store and moves the receiver.
    from dataclasses import replace

    performer = replace(channel, performer="Jane Doe")
    store.put_receiver(replace(rx, location="Stage left", channels=(rx.channels[0], performer)))
    view.show()
    await wait_until(lambda: view.items[channel.id].text(COL_PERFORMER) == "Jane Doe")
    assert view.items["l:shure/Stage left"].text(0) == "Stage left"
    assert "l:shure/Rack A" not in view.items
    view.hide()
    bridge.close()


async def test_alerts_list_and_acknowledge():
    now = datetime.now(UTC)
    engine = FakeEngine(alert_list=[
        AlertInfo("low_battery:shure:rx1:1", "low_battery", Severity.WARNING,
                  "Jane Doe: battery low (25%)", now - timedelta(seconds=30)),
        AlertInfo("rx_offline:shure:rx2", "rx_offline", Severity.CRITICAL,
                  "RF 2 is offline", now),
    ])
    tasks = UiTasks()
    view = AlertsView(engine, tasks)
    counts: list[int] = []
    view.count_changed.connect(counts.append)
    assert view.table.rowCount() == 2
    assert "CRITICAL" in cell(view.table, 0, 0)  # newest first
    assert "NEW" in cell(view.table, 0, 3)
    view.table.selectRow(1)
    view.acknowledge_selected()
    await tasks.wait_idle()
    assert ("acknowledge_alert", "low_battery:shure:rx1:1") in engine.calls
    assert cell(view.table, 1, 3) == "acknowledged"
    assert counts[-1] == 1


async def test_settings_entry_round_trip_keeps_unshown_fields():
    from micboard_desktop.ui.dialogs.settings import SettingsDialog

    entry = ManufacturerConfig(code="shure", name="Shure", devices=("10.0.0.5",),
                               meter_rate_ms=250, tls="verify")
    engine = FakeEngine(app_config=AppConfig(manufacturers=(entry,)))
    dialog = SettingsDialog(engine, UiTasks())
    assert dialog.code.text() == "shure"
    assert dialog.entry() == entry
    dialog.close()
