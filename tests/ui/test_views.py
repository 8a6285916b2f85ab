from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
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
    # No receiver has answered on these yet: the first column names them by address (#15).
    texts = {cell(view.table, r, 0): cell(view.table, r, 2) for r in range(3)}
    assert "Connected" in texts["10.0.0.5"]
    assert "Error" in texts["10.0.0.6"]
    row = next(r for r in range(3) if cell(view.table, r, 0) == "10.0.0.6")
    assert cell(view.table, row, 5) == "3"
    assert cell(view.table, row, 8) == "connection refused"
    assert cell(view.table, row, 4) == "5m"


async def test_connections_are_named_by_receiver_and_say_why_in_words():
    now = datetime.now(UTC)
    note = "Two Shure records for 10.0.0.7 were not merged: their serial numbers differ"
    engine = FakeEngine(connection_views=[
        ConnectionView("shure", ConnectionState("shure:10.0.0.5:2202", Transport.TCP,
                                                ConnectionStatus.CONNECTED, since=now,
                                                last_message_at=now),
                       receiver_id="shure:10.0.0.5:2202", receiver_name="Stage Left",
                       receiver_model="ULXD4Q"),
        ConnectionView("shure", ConnectionState("shure:10.0.0.6:2202", Transport.TCP,
                                                ConnectionStatus.CONNECTING, reconnects=3,
                                                last_error="timed out")),
        ConnectionView("shure", ConnectionState("shure:10.0.0.7:2202", Transport.TCP,
                                                ConnectionStatus.CONNECTED, note=note)),
        ConnectionView("sennheiser", ConnectionState("sennheiser:10.0.1.9", Transport.SSE,
                                                     ConnectionStatus.ERROR, auth_blocked=True,
                                                     last_error="authentication failed")),
        ConnectionView("sennheiser", ConnectionState("sennheiser:10.0.1.10", Transport.SSE,
                                                     ConnectionStatus.STOPPED), enabled=False),
    ])
    view = ConnectionsView(engine, UiTasks())
    model = view.table.model()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers[:4] == ["Receiver", "Address", "State", "Why"]

    def row(connection_id: str) -> list[str]:
        r = view.row_of(connection_id)
        return [cell(view.table, r, c) for c in range(view.table.columnCount())]

    named = row("shure:10.0.0.5:2202")
    assert named[:2] == ["Stage Left (ULXD4Q)", "10.0.0.5:2202"]
    assert named[3] == "Receiving data"
    retrying = row("shure:10.0.0.6:2202")
    assert retrying[0] == "10.0.0.6:2202"  # no receiver known yet: named by its address
    assert retrying[3] == ("Reconnecting (try 3 since start) \u2014 last time: "
                           "No answer from 10.0.0.6:2202")
    assert note in row("shure:10.0.0.7:2202")[3]
    assert row("sennheiser:10.0.1.9")[3] == "Password refused \u2014 enter it in Settings"
    assert row("sennheiser:10.0.1.10")[3] == "Stopped by you"
    why = view.table.item(view.row_of("shure:10.0.0.6:2202"), 3)
    assert why is not None
    assert "timed out" in why.toolTip()  # the raw error stays one hover away


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


async def test_connection_buttons_wait_for_a_selection():
    # The engine is always there now (issue #16): with no connection selected, nothing to do.
    view = ConnectionsView(FakeEngine(), UiTasks())
    assert view.table.rowCount() == 0
    assert not view.reconnect_button.isEnabled()


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


async def test_the_hardware_view_says_not_monitored_for_a_stopped_receiver():
    """Issue #23, 6: a user Stop read "Offline" and "RX OFFLINE" like a dead receiver."""
    from micboard_desktop.core.model import ConnectionInfo
    from micboard_desktop.ui.views.hardware import COL_STATUS

    store = StateStore()
    stopped = make_receiver("shure:rx1", channels=1, online=False,
                            connection=ConnectionInfo(Transport.TCP, ConnectionStatus.STOPPED))
    gone = make_receiver("shure:rx2", channels=1, online=False)
    store.put_receiver(stopped)
    store.put_receiver(gone)
    bridge = StoreBridge(store)
    view = HardwareView(bridge, FakeEngine(), UiTasks())
    assert view.items[stopped.id].text(COL_STATUS).endswith("Not monitored")
    assert view.items[stopped.channels[0].id].text(COL_STATUS).endswith("NOT MONITORED")
    assert view.items[gone.id].text(COL_STATUS).endswith("Offline")
    assert view.items[gone.channels[0].id].text(COL_STATUS).endswith("RX OFFLINE")
    bridge.close()


async def test_a_receiver_that_goes_away_leaves_the_hardware_tree_cleanly():
    """Seen on the demo: a receiver removed from the store (an SSCv1 twin merged into its
    SSCv2 receiver) raised "C++ object already deleted" on the next refresh."""
    store = StateStore()
    first = make_receiver("sennheiser:ssc1:10.0.0.9:45", channels=4)
    second = make_receiver("sennheiser:10.0.0.9", channels=4)
    store.put_receiver(first)
    store.put_receiver(second)
    bridge = StoreBridge(store)
    view = HardwareView(bridge, FakeEngine(), UiTasks())
    view.show()
    assert first.channels[3].id in view.items
    store.remove_receiver(first.id)
    await wait_until(lambda: first.id not in view.items)
    assert all(ch.id not in view.items for ch in first.channels)
    view.refresh()  # again: nothing dangling is touched
    assert second.channels[0].id in view.items
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


async def test_acknowledge_follows_the_selected_alert_when_a_new_one_arrives():
    """Issue #23, 3: a new alert at the top slid the highlight onto another (critical) one."""
    now = datetime.now(UTC)
    engine = FakeEngine(alert_list=[
        AlertInfo("low_battery:shure:rx1:1", "low_battery", Severity.WARNING,
                  "Jane Doe: battery low (25%)", now - timedelta(seconds=30)),
        AlertInfo("tx_off:shure:rx1:2", "tx_off", Severity.WARNING, "Spare: off",
                  now - timedelta(seconds=20)),
    ])
    tasks = UiTasks()
    view = AlertsView(engine, tasks)
    low = next(r for r in range(2) if "battery" in cell(view.table, r, 2))
    view.table.selectRow(low)
    # A critical alert arrives and sorts in at the top: every row moves down by one.
    engine.alert_list.append(AlertInfo("rx_offline:shure:rx2", "rx_offline", Severity.CRITICAL,
                                       "RF 2 is offline", now))
    view.refresh()
    assert view.selected_keys() == ["low_battery:shure:rx1:1"]
    view.acknowledge_selected()
    await tasks.wait_idle()
    acknowledged = [args for name, args in engine.calls if name == "acknowledge_alert"]
    assert acknowledged == ["low_battery:shure:rx1:1"]
