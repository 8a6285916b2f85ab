"""Draw the Grafana dashboard's idea from real ``/metrics`` scrapes, where Grafana is absent.

NOT Grafana: Grafana is not packaged by Debian, so this machine cannot run it. This script
starts ``micboard-desktop headless --demo`` on a loopback port, scrapes ``GET /metrics``
once a second, parses every scrape with prometheus_client's own parser and draws the
dashboard's panels (battery, RF, status, alerts) with pyqtgraph, labelled as a preview.

Usage: .venv/bin/python docs/grafana/preview.py OUT.png [SECONDS]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

STATUS_COLOURS = {
    "ok": "#2e9d48", "muted": "#3a6fd8", "audio_peak": "#d8c23a", "interference": "#9b4dd8",
    "rf_loss": "#d83a3a", "low_battery": "#e08a1e", "critical_battery": "#d83a3a",
    "tx_off": "#808080", "rx_offline": "#505050",
}


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    """Return every sample of one scrape as (name, labels, value)."""
    with urllib.request.urlopen(url, timeout=5) as answer:
        text = answer.read().decode()
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def main(out: str, seconds: float) -> None:
    """Scrape the demo for ``seconds`` and save the preview picture to ``out``."""
    port = free_port()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    server = subprocess.Popen(
        [sys.executable, "-m", "micboard_desktop", "headless", "--demo",
         "--lan", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    history: dict[str, dict[tuple[str, ...], list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list))
    last: list[tuple[str, dict[str, str], float]] = []
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for the server
            try:
                scrape(url)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            now = time.monotonic() - start
            last = scrape(url)
            for name, labels, value in last:
                key = (labels.get("name", ""), labels.get("antenna", ""),
                       labels.get("severity", ""))
                history[name][key].append((now, value))
            time.sleep(1.0)
    finally:
        server.terminate()
        server.wait(20)
    draw(out, history, last)


def draw(out: str, history: dict[str, dict[tuple[str, ...], list[tuple[float, float]]]],
         last: list[tuple[str, dict[str, str], float]]) -> None:
    """Lay the panels out like the dashboard and save the window's picture."""
    import pyqtgraph as pg
    from PySide6.QtGui import QColor, QFont
    from PySide6.QtWidgets import (
        QApplication,
        QGridLayout,
        QLabel,
        QTableWidget,
        QTableWidgetItem,
        QVBoxLayout,
        QWidget,
    )

    app = QApplication.instance() or QApplication([])
    pg.setConfigOptions(antialias=True, background="#111217", foreground="#ccccdc")
    window = QWidget()
    window.setStyleSheet("background: #111217; color: #ccccdc;")
    window.resize(1500, 900)
    outer = QVBoxLayout(window)
    banner = QLabel(
        "PREVIEW \u2014 not Grafana (not installable here): live GET /metrics of "
        "'micboard-desktop headless --demo', parsed with prometheus_client and drawn by "
        "docs/grafana/preview.py. Panels follow docs/grafana/micboard-dashboard.json.")
    banner.setWordWrap(True)
    banner.setStyleSheet("background: #5a3b00; color: #ffd27a; padding: 6px; font-weight: bold;")
    outer.addWidget(banner)
    grid = QGridLayout()
    outer.addLayout(grid, 1)
    palette = [pg.intColor(i, hues=14, values=1, maxValue=255, minValue=180) for i in range(28)]

    def plot(title: str, metric: str, legend_of: int, y_range: tuple[float, float]) -> QWidget:
        widget = pg.PlotWidget(title=title)
        widget.addLegend(offset=(5, 5), labelTextSize="8pt")
        widget.setYRange(*y_range)
        widget.showGrid(x=True, y=True, alpha=0.2)
        widget.setLabel("bottom", "seconds")
        for i, (key, points) in enumerate(sorted(history[metric].items())):
            name = key[0] + (f" ant {key[1]}" if key[1] else "")
            xs, ys = zip(*points, strict=True)
            widget.plot(list(xs), list(ys), pen=pg.mkPen(palette[i % len(palette)], width=2),
                        name=name if i < legend_of else None)
        return widget

    grid.addWidget(plot("Battery (%)", "micboard_channel_battery_percent", 14, (0, 100)), 0, 1)
    grid.addWidget(plot("RF level per antenna (dBm)", "micboard_channel_rf_rssi_dbm", 8,
                        (-110, -20)), 1, 0)
    grid.addWidget(plot("Active alerts by severity", "micboard_alerts_active", 3, (0, 10)), 1, 1)
    rows = sorted(
        (labels["name"], labels.get("receiver_name", ""), labels["status"])
        for name, labels, value in last if name == "micboard_channel_status" and value == 1
    )
    table = QTableWidget(len(rows), 3)
    table.setHorizontalHeaderLabels(["Channel", "Receiver", "Status (now)"])
    table.verticalHeader().setVisible(False)
    table.setFont(QFont("DejaVu Sans", 9))
    for r, (channel, receiver, status) in enumerate(rows):
        table.setItem(r, 0, QTableWidgetItem(channel))
        table.setItem(r, 1, QTableWidgetItem(receiver))
        cell = QTableWidgetItem(status.replace("_", " ").upper())
        cell.setBackground(QColor(STATUS_COLOURS.get(status, "#444444")))
        table.setItem(r, 2, cell)
        table.setRowHeight(r, 18)
    table.resizeColumnsToContents()
    table.setStyleSheet("QTableWidget { background: #181b1f; gridline-color: #2c3235; }")
    grid.addWidget(table, 0, 0)
    grid.setColumnStretch(0, 2)
    grid.setColumnStretch(1, 3)
    window.show()
    app.processEvents()
    window.grab().save(out)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 45.0)
