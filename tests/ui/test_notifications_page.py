"""Settings > Notifications: targets edited through the integrations control, URL to keyring."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from micboard_desktop.core.control import HealthReport
from micboard_desktop.core.integrations import NotificationTarget, TargetState
from micboard_desktop.core.model import Health, HealthStatus
from micboard_desktop.core.records import Severity
from micboard_desktop.core.store import StateStore, Topic
from micboard_desktop.ui.app_theme import apply_theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.dialogs.notifications_page import describe_state
from micboard_desktop.ui.dialogs.settings import SettingsDialog
from micboard_desktop.ui.tasks import UiTasks
from micboard_desktop.ui.widgets.health_bar import HealthBar
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until

URL = "https://hooks.slack.com/services/T000/B000/very-secret-token"


@dataclass
class FakeIntegrations:
    """Keeps targets and typed URLs in memory; says what a test message would do."""

    targets: list[NotificationTarget] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    states: list[TargetState] = field(default_factory=list)
    tests: list[tuple[str, str | None]] = field(default_factory=list)

    def notification_targets(self) -> Sequence[NotificationTarget]:
        return tuple(self.targets)

    def target_states(self) -> Sequence[TargetState]:
        return tuple(self.states)

    async def save_target(self, target: NotificationTarget, secret_url: str | None) -> None:
        if secret_url:
            self.urls[target.name] = secret_url
        self.targets = [t for t in self.targets if t.name != target.name] + [target]

    async def remove_target(self, name: str) -> None:
        self.targets = [t for t in self.targets if t.name != name]
        self.urls.pop(name, None)

    async def send_test(self, target: NotificationTarget, secret_url: str | None) -> str:
        self.tests.append((target.name, secret_url))
        return f"\u2714 Delivered to {target.name}."


def engine_with(control: FakeIntegrations) -> FakeEngine:
    engine = FakeEngine()
    engine.integrations = control  # type: ignore[attr-defined]  # what the app sets
    return engine


async def test_a_typed_url_goes_to_the_control_never_to_the_form_or_config():
    control = FakeIntegrations()
    engine = engine_with(control)
    tasks = UiTasks()
    dialog = SettingsDialog(engine, tasks)
    page = dialog.notifications
    assert page is not None
    assert "Notifications" in [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    page.name.setText("ops-slack")
    page.kind.setCurrentIndex(page.kind.findData("slack"))
    page.url.setText(URL)
    page.severity.setCurrentIndex(page.severity.findData("critical"))
    page.raised.setChecked(True)
    page.cleared.setChecked(False)
    page.save_button.click()
    await tasks.wait_idle()
    assert control.urls == {"ops-slack": URL}
    (saved,) = control.targets
    assert saved.kind == "slack"
    assert saved.min_severity is Severity.CRITICAL
    assert saved.events == ("raised",)
    assert URL not in repr(saved)
    assert URL not in repr(engine.config())
    assert page.url.text() == ""  # the keyring has it now
    assert "Saved ops-slack" in page.result.text()
    page.test_button.click()
    await tasks.wait_idle()
    assert control.tests == [("ops-slack", None)]  # empty field: the stored URL is used
    assert "Delivered" in page.result.text()


async def test_a_bad_form_says_which_field_and_saves_nothing():
    control = FakeIntegrations()
    tasks = UiTasks()
    dialog = SettingsDialog(engine_with(control), tasks)
    page = dialog.notifications
    assert page is not None
    page.name.setText("two words")
    page.save_button.click()
    await tasks.wait_idle()
    assert "Name" in page.result.text()
    page.name.setText("ok")
    page.raised.setChecked(False)
    page.cleared.setChecked(False)
    page.save_button.click()
    await tasks.wait_idle()
    assert "Send" in page.result.text()
    assert control.targets == []


async def test_remove_forgets_the_target():
    control = FakeIntegrations(targets=[NotificationTarget("a"), NotificationTarget("b")])
    tasks = UiTasks()
    dialog = SettingsDialog(engine_with(control), tasks)
    page = dialog.notifications
    assert page is not None
    page.targets.setCurrentRow(0)
    page.remove_button.click()
    await tasks.wait_idle()
    assert [t.name for t in control.targets] == ["b"]
    assert page.targets.count() == 1


def test_no_page_without_integrations():
    dialog = SettingsDialog(FakeEngine(), UiTasks())
    assert dialog.notifications is None


def test_states_in_words():
    failing = TargetState("venue", "webhook", True, delivered=12, failed_attempts=3, queued=2,
                          last_error="cannot connect (Connection refused)")
    assert describe_state(failing) == (
        "venue: 12 delivered, 2 waiting \u2014 failing: cannot connect (Connection refused)")
    assert "no URL" in describe_state(TargetState("x", "slack", False))


async def test_the_health_bar_shows_failing_notifications(tmp_path: Path):
    store = StateStore()
    engine = FakeEngine()
    bridge = StoreBridge(store)
    bar = HealthBar(store, engine, bridge=bridge)
    assert bar.integrations_label.isHidden()
    engine.health_report = replace(engine.health_report, integrations=Health(
        HealthStatus.DEGRADED, "venue: cannot connect (2 waiting)", datetime.now(UTC)))
    store.announce(Topic.INTEGRATIONS)
    await wait_until(lambda: not bar.integrations_label.isHidden())
    assert "Notifications" in bar.integrations_label.text()
    assert "venue" in bar.integrations_label.toolTip()
    engine.health_report = HealthReport(HealthStatus.OK, {}, None, None)
    store.announce(Topic.INTEGRATIONS)
    await wait_until(lambda: bar.integrations_label.isHidden())
    bridge.close()


async def test_screenshot_of_the_page(tmp_path: Path):
    """Grab the page as a user sees it (dark theme); saved where MICBOARD_SHOT_DIR says."""
    apply_theme()
    control = FakeIntegrations(
        targets=[
            NotificationTarget("venue-ops", "webhook", url="http://10.0.0.5:8080/hook"),
            NotificationTarget("foh-slack", "slack", min_severity=Severity.CRITICAL,
                               events=("raised",)),
            NotificationTarget("production-teams", "teams"),
        ],
        states=[
            TargetState("venue-ops", "webhook", True, delivered=41),
            TargetState("foh-slack", "slack", True, delivered=7, failed_attempts=4, queued=2,
                        last_error="HTTP 503"),
            TargetState("production-teams", "teams", False),
        ],
    )
    tasks = UiTasks()
    dialog = SettingsDialog(engine_with(control), tasks)
    page = dialog.notifications
    assert page is not None
    dialog.tabs.setCurrentIndex(dialog.tabs.count() - 1)
    page.targets.setCurrentRow(1)
    page.test_button.click()
    await tasks.wait_idle()
    dialog.resize(900, 560)
    dialog.show()
    await wait_until(lambda: dialog.isVisible())
    picture = dialog.grab()
    assert not picture.isNull()
    folder = Path(os.environ.get("MICBOARD_SHOT_DIR", str(tmp_path)))
    picture.save(str(folder / "notifications-settings.png"))
    dialog.close()
