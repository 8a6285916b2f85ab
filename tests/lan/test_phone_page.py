"""The phone page at ``/`` (#21 item 7): its files, its access rules, and a real browser.

The browser tests drive Debian's ``chromium`` through ``chromedriver`` with Selenium (both
installed by scripts/setup; nothing is downloaded at test time) against a LanServer on
loopback, and skip with the reason when the binaries are absent.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from micboard_desktop.core.config import LanSettings
from micboard_desktop.core.control import HealthReport
from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ChannelId,
    ChannelKind,
    ChannelStatus,
    ConnectionInfo,
    ConnectionStatus,
    HealthStatus,
    Iem,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
)
from micboard_desktop.core.status import NEEDS_ATTENTION
from micboard_desktop.core.store import StateStore
from micboard_desktop.lan import phone
from micboard_desktop.lan.phone import PAGE_FILES, PUBLIC_PATHS
from micboard_desktop.lan.server import LanServer
from tests.core.builders import make_channel, make_receiver
from tests.fakes.engine import FakeEngine
from tests.lan.conftest import Start
from tests.lan.helpers import TOKEN, auth, engine_for, sample_store, server_for
from tests.packaging._modules import ROOT, load

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

PHONE_DIR = ROOT / "micboard_desktop" / "lan" / "phone"
CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMEDRIVER = Path(shutil.which("chromedriver") or "/usr/bin/chromedriver")
PHONE_SIZE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
"""An iPhone-sized viewport (CSS pixels), drawn at twice the density like the phone."""
LEAD = "shure:rx1:1"
"""The channel "Lead Vox" (Jane Doe) of the sample store."""
SCREENSHOT_ENV = "MICBOARD_PHONE_SCREENSHOT"
"""Set to a path to keep the every-status board's screenshot (docs/screenshots/phone.png)."""


def js_looks() -> dict[str, dict[str, str]]:
    """Return the LOOKS table of app.js (JSON between its markers)."""
    text = (PHONE_DIR / "app.js").read_text(encoding="utf-8")
    match = re.search(r"// LOOKS-BEGIN\nconst LOOKS = (\{.*?\});\n// LOOKS-END", text, re.S)
    assert match, "app.js lost its LOOKS markers"
    looks: dict[str, dict[str, str]] = json.loads(match.group(1))
    return looks


def set_battery(store: StateStore, rid: str, number: int, battery: Battery) -> None:
    """Give one channel's transmitter a new battery reading in the store."""
    rx = store.snapshot().receivers[rid]  # type: ignore[index]
    channels = tuple(
        replace(c, transmitter=Transmitter(model="ULXD2", battery=battery))
        if c.number == number
        else c
        for c in rx.channels
    )
    store.put_receiver(replace(rx, channels=channels))


# -- files and access rules (no browser) ---------------------------------------------------


async def test_the_page_files_are_served_self_contained(start: Start) -> None:
    server = await start(server_for(sample_store()))
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/")
        script = await client.get("/phone/app.js")
        style = await client.get("/phone/style.css")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert style.headers["Content-Type"] == "text/css; charset=utf-8"
    assert script.content == (PHONE_DIR / "app.js").read_bytes()
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    # No CDN and no inline script: every src/href is this server's own or a data: icon.
    links = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert sorted(links) == ["/phone/app.js", "/phone/style.css", "data:,"]
    assert re.findall(r"<script[^>]*>(.*?)</script>", page.text, re.S) == [""]
    assert "http" not in script.text.replace("http://&lt;", "").split("LOOKS-END")[1].lower()


async def test_a_non_loopback_bind_serves_the_shell_but_no_data_without_the_token(
    start: Start,
) -> None:
    # Rules follow settings.host (0.0.0.0) while the test seam listens on 127.0.0.1.
    server = await start(server_for(sample_store(), host="0.0.0.0"))
    async with httpx.AsyncClient(base_url=server.url) as client:
        for path in sorted(PUBLIC_PATHS):
            assert (await client.get(path)).status_code == 200, path
            assert (await client.head(path)).status_code == 200, path
        for path in ("/api/events/", "/api/data/", "/metrics", "/phone/", "/phone/other.js"):
            answer = await client.get(path)
            assert answer.status_code == 401, path
            assert answer.json()["error"]["code"] == "unauthorized"
        # A public path is public only to read: a POST there is judged like any other.
        assert (await client.post("/", json={})).status_code == 401
        assert (await client.get("/api/data/", headers=auth())).status_code == 200


async def test_the_page_answers_only_to_its_own_names(start: Start) -> None:
    server = await start(server_for(sample_store(), host="0.0.0.0"))
    async with httpx.AsyncClient(base_url=server.url) as client:
        rebound = await client.get("/", headers={"Host": "attacker.example"})
        foreign = await client.get("/", headers={"Origin": "http://attacker.example"})
    assert rebound.status_code == 421
    assert foreign.status_code == 403


async def test_a_missing_page_file_is_a_404_and_the_api_keeps_serving(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(phone, "load_file", lambda name: None)
    server = await start(server_for(sample_store()))
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/")
        data = await client.get("/api/data/")
    assert page.status_code == 404
    assert page.json()["error"]["code"] == "not_found"
    assert data.status_code == 200


def test_the_page_uses_the_words_and_colours_of_the_window() -> None:
    theme = pytest.importorskip("micboard_desktop.ui.theme", reason="PySide6 is not installed")
    from micboard_desktop.core.liveness import Liveness
    from micboard_desktop.core.status import IemCondition

    looks = js_looks()
    expected: dict[str, Any] = {s.value: theme.STATUS_LOOK[s] for s in ChannelStatus}
    expected["not_monitored"] = theme.LIVENESS_LOOK[Liveness.NOT_MONITORED]
    expected["iem_ok"] = theme.IEM_LOOK[None]
    expected["iem_rf_muted"] = theme.IEM_LOOK[IemCondition.RF_MUTED]
    expected["iem_clipping"] = theme.IEM_LOOK[IemCondition.CLIPPING]
    assert set(looks) == set(expected)
    for key, look in expected.items():
        assert looks[key] == {
            "text": look.text,
            "glyph": look.glyph,
            "colour": look.colour.name(),
        }, key
    script = (PHONE_DIR / "app.js").read_text(encoding="utf-8")
    match = re.search(r"const NEEDS_ATTENTION = new Set\((\[.*?\])\);", script)
    assert match
    assert set(json.loads(match.group(1))) == {s.value for s in NEEDS_ATTENTION}


def test_the_page_files_ship_in_the_wheel_and_the_frozen_app() -> None:
    names = {f.name for f in PAGE_FILES}
    assert names == {p.name for p in PHONE_DIR.iterdir()}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["micboard_desktop"]
    package = ROOT / "micboard_desktop"
    shipped = {p.name for g in globs for p in package.glob(g) if p.parent == PHONE_DIR}
    assert shipped == names
    frozen = {
        Path(src).name
        for src, dest in load("freeze_manifest").data_files()
        if dest == "micboard_desktop/lan/phone"
    }
    assert frozen == names


# -- in a real browser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Start one headless Chromium for this module, phone-sized, through the system driver."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(
            f"Chromium or its driver is not installed ({CHROMIUM}, {CHROMEDRIVER}); "
            "scripts/setup installs Debian's chromium and chromium-driver"
        )
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')"
    )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests run as root in CI; the sandbox refuses root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=390,844",
    ):
        options.add_argument(argument)
    # The DevTools network log lets a test see each request's URL and headers.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver: WebDriver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE_SIZE)
        yield driver
    finally:
        driver.quit()


async def in_browser[T](call: Callable[[], T]) -> T:
    """Run a blocking WebDriver call in a thread, so the server on this loop keeps serving."""
    return await asyncio.to_thread(call)


def requests_sent(driver: WebDriver) -> list[tuple[str, dict[str, str]]]:
    """Return (URL, headers) of every request the page sent since the last call."""
    sent = []
    log: list[dict[str, Any]] = driver.get_log("performance")  # type: ignore[no-untyped-call]
    for entry in log:
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            request = message["params"]["request"]
            sent.append((request["url"], request["headers"]))
    return sent


def wait_for(driver: WebDriver, condition: str, timeout: float) -> float:
    """Poll the JavaScript expression ``condition`` until it is true; return when it was."""
    deadline = time.monotonic() + timeout
    while True:
        if driver.execute_script(f"return Boolean({condition})"):
            return time.monotonic()
        if time.monotonic() > deadline:
            page = driver.execute_script("return document.body.innerText")
            raise AssertionError(f"not seen within {timeout} s: {condition}\npage:\n{page}")
        time.sleep(0.02)


def card_text(channel: str) -> str:
    """Return a JavaScript expression for the text of ``channel``'s card ('' when absent)."""
    return f"(document.querySelector('[data-channel=\"{channel}\"]')?.innerText ?? '')"


def card_has(channel: str, needle: str) -> str:
    """Return a JavaScript expression, true once ``channel``'s card shows ``needle``."""
    return f"{card_text(channel)}.includes({json.dumps(needle)})"


async def test_a_store_change_is_on_the_page_within_a_second(
    start: Start, browser: WebDriver, tmp_path: Path
) -> None:
    store = sample_store()
    server = await start(server_for(store))
    await in_browser(lambda: browser.get(server.url + "/"))
    await in_browser(lambda: wait_for(browser, card_has(LEAD, "Lead Vox"), 10))
    first = await in_browser(lambda: browser.execute_script("return " + card_text(LEAD)))
    assert "Jane Doe" in first
    assert "80\u202f%" in first
    assert "\u2714 OK" in first

    set_battery(store, "shure:rx1", 1, Battery(bars=1, percent=9, minutes=12))
    changed_at = time.monotonic()
    seen_at = await in_browser(lambda: wait_for(browser, card_has(LEAD, "9\u202f%"), 1.0))
    latency = seen_at - changed_at
    assert latency < 1.0, f"the change took {latency:.3f} s to show"
    text = await in_browser(lambda: browser.execute_script("return " + card_text(LEAD)))
    assert "BATTERY CRITICAL" in text
    assert "12 min" in text
    band = await in_browser(
        lambda: browser.execute_script(
            f"return getComputedStyle(document.querySelector('[data-channel=\"{LEAD}\"] .status'))"
            ".backgroundColor"
        )
    )
    assert band == "rgb(213, 94, 0)"  # theme.RED, #d55e00

    shot = tmp_path / "phone.png"
    assert await in_browser(lambda: browser.save_screenshot(str(shot)))
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert (width, height) == (390 * 2, 844 * 2)


async def test_the_token_comes_from_the_fragment_and_leaves_the_address_bar(
    start: Start, browser: WebDriver
) -> None:
    server = await start(server_for(sample_store(), host="0.0.0.0"))
    await in_browser(lambda: requests_sent(browser))  # forget earlier tests' requests
    await in_browser(lambda: browser.get(f"{server.url}/#token={TOKEN}"))
    await in_browser(lambda: wait_for(browser, card_has(LEAD, "Lead Vox"), 10))
    assert await in_browser(lambda: browser.current_url) == server.url + "/"
    sent = await in_browser(lambda: requests_sent(browser))
    ours = [(url, headers) for url, headers in sent if url.startswith(server.url)]
    assert {url for url, _ in ours} >= {
        server.url + "/",
        server.url + "/phone/app.js",
        server.url + "/api/events/",
    }
    # The token travels in one header of the stream's request, in no URL at all.
    assert all(TOKEN not in url for url, _ in ours)
    streams = [headers for url, headers in ours if url.endswith("/api/events/")]
    assert streams
    assert all(headers.get("Authorization") == f"Bearer {TOKEN}" for headers in streams)
    kept = await in_browser(
        lambda: browser.execute_script("return sessionStorage.getItem('micboard.lan.token')")
    )
    assert kept == TOKEN
    assert server.hub.client_count == 1  # the stream itself let the page in


async def test_without_a_token_the_page_asks_and_refuses_a_wrong_one(
    start: Start, browser: WebDriver
) -> None:
    from selenium.webdriver.common.by import By

    server = await start(server_for(sample_store(), host="0.0.0.0"))
    await in_browser(lambda: browser.get(server.url + "/"))
    visible = "!document.getElementById('login').hidden"
    await in_browser(lambda: wait_for(browser, visible, 10))
    assert await in_browser(lambda: browser.execute_script("return " + card_text(LEAD))) == ""

    def submit(token: str) -> None:
        field = browser.find_element(By.ID, "token")
        field.send_keys(token)
        browser.find_element(By.CSS_SELECTOR, "#login button").click()

    await in_browser(lambda: submit("not-the-token"))
    refused = "document.getElementById('login-error').textContent.includes('not accepted')"
    await in_browser(lambda: wait_for(browser, refused, 10))
    await in_browser(lambda: wait_for(browser, visible, 1))
    await in_browser(lambda: submit(TOKEN))
    await in_browser(lambda: wait_for(browser, card_has(LEAD, "Jane Doe"), 10))
    hidden = "return document.getElementById('login').hidden"
    assert await in_browser(lambda: browser.execute_script(hidden))


async def test_the_board_says_when_the_laptop_is_gone_and_comes_back(
    start: Start, browser: WebDriver
) -> None:
    store = sample_store()
    server = await start(server_for(store))
    port = int(server.url.rsplit(":", 1)[1])
    await in_browser(lambda: browser.get(server.url + "/"))
    await in_browser(lambda: wait_for(browser, card_has(LEAD, "Lead Vox"), 10))
    await server.stop()
    lost = (
        "document.body.classList.contains('stale')"
        " && document.getElementById('banner').innerText.includes('Connection to the laptop lost')"
        " && document.getElementById('link').innerText == 'RECONNECTING'"
    )
    await in_browser(lambda: wait_for(browser, lost, 5))
    # The last values stay readable, marked as old, rather than vanishing.
    assert "Lead Vox" in await in_browser(
        lambda: browser.execute_script("return " + card_text(LEAD))
    )

    # The laptop comes back on the same address with news: the page picks it up by itself.
    set_battery(store, "shure:rx1", 1, Battery(bars=2, percent=41, minutes=95))
    gone = "sennheiser:rx2:1"
    assert await in_browser(lambda: browser.execute_script("return " + card_text(gone)))
    store.remove_receiver(ReceiverId("sennheiser:rx2"))  # removed while the page was away
    settings = LanSettings(enabled=True, host="127.0.0.1", port=port)
    again = LanServer(
        store,
        engine_for(store),
        settings,
        token=TOKEN,
        cache_timeout=30.0,
        websocket_broadcasting=True,
    )
    await start(again)
    back = "!document.body.classList.contains('stale') && document.getElementById('banner').hidden"
    await in_browser(lambda: wait_for(browser, back + " && " + card_has(LEAD, "41\u202f%"), 10))
    # The first event after a reconnect is the whole picture: it replaces the board.
    assert await in_browser(lambda: browser.execute_script("return " + card_text(gone))) == ""


async def test_a_renumbered_channel_moves_on_the_board(start: Start, browser: WebDriver) -> None:
    store = sample_store()
    server = await start(server_for(store))
    await in_browser(lambda: browser.get(server.url + "/"))
    await in_browser(lambda: wait_for(browser, card_has(LEAD, "Lead Vox"), 10))
    order = "[...document.querySelectorAll('.card')].map(c => c.dataset.channel)"
    before = await in_browser(lambda: browser.execute_script(f"return {order}"))
    assert before[-1] != LEAD
    # Numbers put Lead Vox last: its event changes the order, so the board is rebuilt.
    ids = [c.id for r in store.snapshot().receivers.values() for c in r.channels]
    numbered = [c for c in ids if c != LEAD] + [ChannelId(LEAD)]
    store.set_slots({cid: n for n, cid in enumerate(numbered, start=1)})
    await in_browser(
        lambda: wait_for(browser, f"{order}.join() == {json.dumps(','.join(numbered))}", 5)
    )
    text = await in_browser(lambda: browser.execute_script("return " + card_text(LEAD)))
    assert text.startswith(f"\u2714 OK\n{len(numbered)} Lead Vox")


def show_store() -> StateStore:
    """Return a store of a small show with every look the page has, numbered and named."""
    tx = Transmitter(model="ULXD2", battery=Battery(bars=4, percent=80, minutes=300))
    live = ConnectionInfo(Transport.TCP, ConnectionStatus.CONNECTED)

    def mic(number: int, name: str, performer: str | None, **changes: object) -> Channel:
        values: dict[str, object] = {"name": name, "performer": performer, "transmitter": tx}
        values.update(changes)
        return make_channel("shure:band", number, **values)

    band = make_receiver("shure:band", connection=live, name="ULXD4Q Band")
    band = replace(
        band,
        channels=(
            mic(1, "Lead Vox", "Jane Doe"),
            mic(
                2,
                "BV 1",
                "Sam Lee",
                transmitter=replace(tx, battery=Battery(bars=2, percent=27, minutes=52)),
            ),
            mic(
                3,
                "BV 2",
                "Ana Ruiz",
                transmitter=replace(tx, battery=Battery(bars=1, percent=9, minutes=14)),
            ),
            mic(
                4,
                "Guitar Vox",
                "Tom Berg",
                rf=Rf(rssi_dbm=(-96.0, -98.0), antenna=None, quality=0, quality_max=5),
            ),
            mic(
                5,
                "Keys Vox",
                "Mia Chen",
                rf=Rf(
                    rssi_dbm=(-61.0, -64.0),
                    antenna="A",
                    quality=3,
                    quality_max=5,
                    interference=True,
                ),
            ),
            mic(6, "Host HH", "Lou Park", audio=Audio(rms_dbfs=-9.0, peak_dbfs=-0.4)),
            mic(7, "MC Lectern", None, transmitter=replace(tx, muted=True)),
            mic(8, "Spare HH", None, transmitter=None),
        ),
    )
    iem = make_receiver("shure:iem", channels=0, connection=live, name="PSM1000", model="P10T")
    iem = replace(
        iem,
        channels=(
            make_channel(
                "shure:iem",
                1,
                name="Drums IEM",
                performer="Kai",
                kind=ChannelKind.IEM,
                transmitter=None,
                iem=Iem(rf_power_mw=50, rf_muted=False),
            ),
            make_channel(
                "shure:iem",
                2,
                name="Bass IEM",
                performer="Noor",
                kind=ChannelKind.IEM,
                transmitter=None,
                iem=Iem(rf_power_mw=50, rf_muted=True),
            ),
        ),
    )
    gone = make_receiver(
        "shure:foh",
        channels=1,
        name="FOH rack",
        online=False,
        connection=ConnectionInfo(Transport.TCP, ConnectionStatus.ERROR),
    )
    parked = make_receiver(
        "shure:parked",
        channels=1,
        name="Parked",
        connection=ConnectionInfo(Transport.TCP, ConnectionStatus.STOPPED),
    )
    store = StateStore()
    with store.batch():
        for receiver in (band, iem, gone, parked):
            store.put_receiver(receiver)
        order = [c.id for r in (band, iem, gone, parked) for c in r.channels]
        store.set_slots({cid: n for n, cid in enumerate(order, start=1)})
        store.set_spares([band.channels[7].id])
    return store


async def test_every_status_is_drawn_in_the_window_colour(
    start: Start, browser: WebDriver, tmp_path: Path
) -> None:
    store = show_store()
    engine = FakeEngine(health_report=HealthReport(HealthStatus.OK, {}))
    server = await start(server_for(store, engine))
    await in_browser(lambda: browser.get_log("browser"))  # type: ignore[no-untyped-call]
    await in_browser(lambda: browser.get(server.url + "/"))
    await in_browser(
        lambda: wait_for(browser, "document.querySelectorAll('.card').length == 12", 10)
    )
    cards = await in_browser(
        lambda: browser.execute_script(
            "return [...document.querySelectorAll('.card')].map(c => ["
            " c.querySelector('.status').innerText,"
            " getComputedStyle(c.querySelector('.status')).backgroundColor,"
            " c.querySelector('.slot')?.innerText])"
        )
    )
    looks = js_looks()

    def rgb(colour: str) -> str:
        red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return f"rgb({red}, {green}, {blue})"

    wanted = [
        "ok",
        "low_battery",
        "critical_battery",
        "rf_loss",
        "interference",
        "audio_peak",
        "muted",
        "tx_off",
        "iem_ok",
        "iem_rf_muted",
        "rx_offline",
        "not_monitored",
    ]
    drawn = [
        (look["glyph"] + " " + look["text"], rgb(look["colour"]))
        for look in (looks[w] for w in wanted)
    ]
    assert [(word, colour) for word, colour, _ in cards] == drawn
    assert [slot for _, _, slot in cards] == [str(n) for n in range(1, 13)]  # board order
    summary = await in_browser(
        lambda: browser.execute_script("return document.getElementById('summary').innerText")
    )
    assert summary == "12 ch \u00b7 3 urgent"  # critical, RF loss, RX offline; laptop OK

    # Nothing refused by the page's own Content-Security-Policy, no script error, no 404.
    console: list[dict[str, Any]] = await in_browser(
        lambda: browser.get_log("browser")  # type: ignore[no-untyped-call]
    )
    assert [e["message"] for e in console if e["level"] == "SEVERE"] == []

    shot = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "phone.png")
    assert await in_browser(lambda: browser.save_screenshot(str(shot)))
