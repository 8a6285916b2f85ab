"""Every widget follows the dark theme, whatever the desktop's own palette (issue #15, item 13).

People saw near-white menu text on light grey (a light desktop) and invisible check boxes
and spin-box arrows (a dark desktop). These tests open the window on both kinds of
desktop, render each menu and dialog offscreen and read the pixels: text must stand out
from what it is drawn on (WCAG AA 4.5:1), and the parts of a control one clicks (check-box
outline, spin-box arrows) at least 3:1 (WCAG 1.4.11). The second half checks the colour
pairs themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QPalette, QRawFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QSpinBox,
    QStyle,
    QStyleOptionButton,
    QStyleOptionSpinBox,
    QTabBar,
    QTabWidget,
    QWidget,
)

from micboard_desktop.core.model import ChannelStatus
from micboard_desktop.ui import app_theme, theme
from micboard_desktop.ui.main_window import MainWindow
from micboard_desktop.ui.views.alerts import SEVERITY_LOOK
from micboard_desktop.ui.widgets import text_fit
from tests.fakes.engine import FakeEngine
from tests.ui.helpers import close_window, make_window, show_store
from tests.ui.pixels import (
    as_deuteranope_sees,
    background,
    best_contrast,
    contrast,
    delta_e,
    luminance,
    snapshot,
)

TEXT_AA = 4.5
"""WCAG AA for text."""
CONTROL_AA = 3.0
"""WCAG 1.4.11 for the visible parts of a control."""


def _light_desktop() -> QPalette:
    palette = QApplication.style().standardPalette()  # Fusion's own: light grey and black
    return palette


def _dark_desktop() -> QPalette:
    # Roughly KDE Breeze Dark: what a Linux user with a dark desktop hands the app.
    palette = QPalette()
    role = QPalette.ColorRole
    for colour_role, colour in {
        role.Window: "#31363b", role.WindowText: "#eff0f1", role.Base: "#232629",
        role.AlternateBase: "#31363b", role.Text: "#eff0f1", role.Button: "#31363b",
        role.ButtonText: "#eff0f1", role.Highlight: "#3daee9", role.HighlightedText: "#eff0f1",
    }.items():
        palette.setColor(colour_role, QColor(colour))
    return palette


DESKTOPS: dict[str, Callable[[], QPalette]] = {
    "light desktop": _light_desktop,
    "dark desktop": _dark_desktop,
}


@pytest.fixture(params=list(DESKTOPS))
def desktop(request: pytest.FixtureRequest) -> Iterator[str]:
    """Start the app on a desktop whose own palette is light or dark."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = QPalette(app.palette())
    app.setPalette(DESKTOPS[request.param]())
    yield request.param
    app.setPalette(before)


@asynccontextmanager
async def opened_window(tmp_path: Path) -> AsyncIterator[MainWindow]:
    """Show the main window with an engine (every menu item enabled); close it after."""
    shown = make_window(show_store(receivers=2), tmp_path, FakeEngine())
    shown.show()
    await settle()
    try:
        yield shown
    finally:
        await shown.tasks.wait_idle()
        close_window(shown)


async def settle() -> None:
    """Let Qt lay out and paint (awaiting, never processEvents() inside a task)."""
    for _ in range(3):
        await asyncio.sleep(0.02)


def _rect_in(widget: QWidget, top: QWidget) -> QRect:
    return QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())


# -- menus ---------------------------------------------------------------------------------


async def test_the_menu_bar_and_every_menu_are_readable(desktop: str, tmp_path: Path):
    async with opened_window(tmp_path) as window:
        bar = window.menuBar()
        image = snapshot(bar)
        bar_colour = background(image)
        assert luminance(bar_colour) < 0.05, bar_colour.name()  # dark like the rest
        for title in bar.actions():
            assert best_contrast(image, bar.actionGeometry(title), bar_colour) >= TEXT_AA, (
                title.text())
            menu = title.menu()
            assert isinstance(menu, QMenu)
            menu.popup(window.mapToGlobal(QPoint(0, 0)))
            await settle()
            shot = snapshot(menu)
            menu_colour = background(shot)
            assert luminance(menu_colour) < 0.05, (title.text(), menu_colour.name())
            for item in menu.actions():
                if item.isSeparator():
                    continue
                rect = menu.actionGeometry(item)
                assert best_contrast(shot, rect, menu_colour) >= TEXT_AA, item.text()
            menu.hide()


async def test_disabled_menu_items_stay_legible(desktop: str, tmp_path: Path):
    window = make_window(show_store(receivers=1), tmp_path)
    window.show()
    try:
        tools = window.menuBar().actions()[2].menu()
        assert isinstance(tools, QMenu)
        for item in tools.actions():
            item.setEnabled(False)  # as while a dialog that owns them is open
        tools.popup(window.mapToGlobal(QPoint(0, 0)))
        await settle()
        shot = snapshot(tools)
        for item in tools.actions():
            assert not item.isEnabled()
            assert best_contrast(shot, tools.actionGeometry(item)) >= TEXT_AA, item.text()
        tools.hide()
    finally:
        close_window(window)


# -- dialogs -------------------------------------------------------------------------------


def _text_of(widget: QWidget) -> str:
    if isinstance(widget, QLabel):
        return widget.text()
    if isinstance(widget, QAbstractButton):
        return widget.text()
    if isinstance(widget, QLineEdit):
        return widget.text() or widget.placeholderText()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QAbstractSpinBox):
        return widget.text()
    return ""


def _assert_texts_readable(dialog: QDialog, where: str) -> int:
    """Check every visible text of ``dialog`` against what it is drawn on; return how many."""
    image = snapshot(dialog)
    checked = 0
    for widget in dialog.findChildren(QWidget):
        if not widget.isVisible() or widget.visibleRegion().isEmpty():
            continue  # hidden, or scrolled out of its page's view (pages scroll: issue #23, 9)
        if isinstance(widget, QTabBar):
            for i in range(widget.count()):
                rect = widget.tabRect(i).translated(widget.mapTo(dialog, QPoint(0, 0)))
                assert best_contrast(image, rect) >= TEXT_AA, (where, widget.tabText(i))
                checked += 1
            continue
        if isinstance(widget, QHeaderView):
            assert best_contrast(image, _rect_in(widget, dialog)) >= TEXT_AA, where
            checked += 1
            continue
        text = _text_of(widget).strip()
        if not text:
            continue
        rect = _rect_in(widget, dialog)
        assert best_contrast(image, rect) >= TEXT_AA, (where, type(widget).__name__, text)
        checked += 1
    return checked


async def _open_dialogs(window: MainWindow) -> AsyncIterator[tuple[str, QDialog]]:
    settings = window.open_settings()
    assert settings is not None
    tabs = settings.findChild(QTabWidget)
    assert tabs is not None
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        await settle()
        yield f"settings: {tabs.tabText(i)}", settings
    settings.close()
    for name, opener in (("groups", window.open_groups), ("discovery", window.open_discovery),
                         ("about", window.open_about)):
        dialog = opener()
        assert dialog is not None
        await settle()
        yield name, dialog
        dialog.close()


async def test_every_dialog_page_is_dark_and_its_texts_readable(desktop: str, tmp_path: Path):
    async with opened_window(tmp_path) as window:
        seen = []
        async for where, dialog in _open_dialogs(window):
            image = snapshot(dialog)
            assert luminance(background(image)) < 0.05, where  # the dialog follows the theme
            assert _assert_texts_readable(dialog, where) > 0, where
            seen.append(where)
        assert len(seen) == 7  # four settings pages, groups, discovery, about


def _indicator(box: QCheckBox) -> QRect:
    option = QStyleOptionButton()
    box.initStyleOption(option)
    return box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)


async def test_check_boxes_are_visible_and_checked_differs_from_unchecked(
    desktop: str, tmp_path: Path
):
    async with opened_window(tmp_path) as window:
        dialog = window.open_settings()
        assert dialog is not None
        await settle()
        boxes = [b for b in dialog.findChildren(QCheckBox) if b.isVisible()]
        assert boxes
        for box in boxes:
            rect = _indicator(box)
            box.setChecked(False)
            off = snapshot(box)
            surface = background(off)
            # The empty box's outline stands out from the dialog.
            assert best_contrast(off, rect, surface) >= CONTROL_AA, box.text()
            box.setChecked(True)
            on = snapshot(box)
            inside = rect.adjusted(3, 3, -3, -3)
            # Checked is not colour alone: a mark stands out from the box's own fill.
            assert best_contrast(on, inside) >= CONTROL_AA, box.text()
            assert background(on, inside) != background(off, inside), box.text()


async def test_checkable_list_items_show_their_boxes(desktop: str, tmp_path: Path):
    async with opened_window(tmp_path) as window:
        dialog = window.open_groups()
        assert dialog is not None
        await settle()
        view = dialog.channels
        image = snapshot(view.viewport())
        surface = background(image)
        item = view.item(0)
        assert item is not None
        rect = view.visualItemRect(item)
        box = QRect(rect.left(), rect.top(), rect.height(), rect.height())  # the indicator
        assert best_contrast(image, box, surface) >= CONTROL_AA


async def test_spin_box_arrows_are_visible(desktop: str, tmp_path: Path):
    async with opened_window(tmp_path) as window:
        dialog = window.open_settings()
        assert dialog is not None
        tabs = dialog.findChild(QTabWidget)
        assert tabs is not None
        spins: list[QSpinBox | QDoubleSpinBox] = []
        for i in range(tabs.count()):
            tabs.setCurrentIndex(i)
            await settle()
            spins += [s for s in dialog.findChildren(QSpinBox) if s.isVisible()]
            spins += [s for s in dialog.findChildren(QDoubleSpinBox) if s.isVisible()]
            for spin in spins:
                # Mid-range, so neither arrow is greyed out at a limit.
                spin.setValue((spin.minimum() + spin.maximum()) / 2)  # type: ignore[arg-type]
                option = QStyleOptionSpinBox()
                spin.initStyleOption(option)
                image = snapshot(spin)
                for part in (QStyle.SubControl.SC_SpinBoxUp, QStyle.SubControl.SC_SpinBoxDown):
                    rect = spin.style().subControlRect(
                        QStyle.ComplexControl.CC_SpinBox, option, part, spin)
                    assert best_contrast(image, rect) >= CONTROL_AA, (tabs.tabText(i), part)
            spins.clear()


async def test_a_combo_box_list_is_readable(desktop: str, tmp_path: Path):
    async with opened_window(tmp_path) as window:
        dialog = window.open_settings()
        assert dialog is not None
        combo = dialog.tls
        combo.showPopup()
        await settle()
        view = combo.view()
        image = snapshot(view)
        assert luminance(background(image)) < 0.05
        for row in range(combo.count()):
            rect = view.visualRect(view.model().index(row, 0))
            assert best_contrast(image, rect) >= TEXT_AA, combo.itemText(row)
        combo.hidePopup()


# -- colour pairs --------------------------------------------------------------------------


def test_every_text_pair_of_the_stylesheet_meets_aa():
    for where, text, surface in app_theme.TEXT_PAIRS:
        assert contrast(text, surface) >= TEXT_AA, (where, text.name(), surface.name())


def test_every_text_pair_of_the_palette_meets_aa():
    palette = app_theme.dark_palette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    pairs = [
        (role.WindowText, role.Window), (role.Text, role.Base), (role.Text, role.AlternateBase),
        (role.ButtonText, role.Button), (role.HighlightedText, role.Highlight),
        (role.ToolTipText, role.ToolTipBase), (role.PlaceholderText, role.Base),
        (role.Link, role.Base), (role.Link, role.Window),
    ]
    for colour_group in (group.Active, group.Inactive, group.Disabled):
        for text, surface in pairs:
            ratio = contrast(palette.color(colour_group, text),
                             palette.color(colour_group, surface))
            assert ratio >= TEXT_AA, (colour_group, text, surface, ratio)


def _every_look() -> list[theme.StatusLook]:
    return [*theme.STATUS_LOOK.values(), *theme.LIVENESS_LOOK.values(),
            *theme.IEM_LOOK.values(),
            *theme.CONNECTION_LOOK.values(), *theme.HEALTH_LOOK.values(),
            *SEVERITY_LOOK.values()]


def test_every_status_glyph_is_in_the_font_the_app_draws_with():
    """Issue #23, 6: the stale mark (an hourglass) was not in DejaVu Sans, the font the
    Linux setup installs, and rendered as an empty box."""
    for bold in (True, False):
        raw = QRawFont.fromFont(text_fit.font(24, bold))
        assert raw.isValid()
        for look in _every_look():
            for glyph in look.glyph:
                code = ord(glyph)
                assert raw.supportsCharacter(code), (look.text, f"U+{code:04X}", raw.familyName())


def test_low_and_critical_stay_apart_for_a_deuteranope():
    """Issue #23: low vs critical must stay distinguishable under a deuteranopia simulation;
    colour is never the only cue (each has its own glyph and word)."""
    low, critical = theme.STATUS_LOOK[ChannelStatus.LOW_BATTERY], theme.STATUS_LOOK[
        ChannelStatus.CRITICAL_BATTERY]
    assert low.glyph != critical.glyph
    assert low.text != critical.text
    seen_low, seen_critical = as_deuteranope_sees(low.colour), as_deuteranope_sees(
        critical.colour)
    assert delta_e(seen_low, seen_critical) >= 15, (seen_low.name(), seen_critical.name())
    # The same for every pair of header colours a tile can take (ok / low / critical / RF).
    headers = [theme.GREEN, theme.ORANGE, theme.RED, theme.DARK_GREY]
    for i, a in enumerate(headers):
        for b in headers[i + 1:]:
            apart = delta_e(as_deuteranope_sees(a), as_deuteranope_sees(b))
            assert apart >= 10, (a.name(), b.name(), apart)
    # Every status that shares a colour with another has its own glyph or word.
    looks = list(theme.STATUS_LOOK.values()) + list(theme.LIVENESS_LOOK.values())
    assert len({look.label for look in looks}) == len(looks)


def test_every_status_word_is_readable_where_it_is_written():
    for look in _every_look():
        for where, surface in app_theme.STATUS_SURFACES:
            assert contrast(look.ink, surface) >= TEXT_AA, (look.text, where, look.ink.name())


def test_status_colours_carry_readable_text():
    # Tile headers: battery colours under black text, grey (unknown) under light text,
    # an inactive channel's dark grey under dim text; the clip box and the band letters.
    pairs = [
        *[(theme.TEXT_ON_COLOUR, theme.battery_colour(status, known=True))
          for status in (ChannelStatus.OK, ChannelStatus.LOW_BATTERY,
                         ChannelStatus.CRITICAL_BATTERY)],
        (theme.TEXT, theme.battery_colour(None, known=False)),
        (theme.TEXT_DIM, theme.DARK_GREY),
        (theme.TEXT_ON_COLOUR, theme.YELLOW),
        (theme.TEXT_ON_COLOUR, theme.RED),
        (theme.TEXT_ON_COLOUR, theme.SKY),
        (theme.TEXT, theme.TILE),
        (theme.TEXT_DIM, theme.TILE),
    ]
    for text, surface in pairs:
        assert contrast(text, surface) >= TEXT_AA, (text.name(), surface.name())
