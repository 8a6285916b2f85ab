"""The dark theme for every widget the app shows: one palette, one style, one stylesheet.

Setting colours with a stylesheet on the main window alone left the native style's light
palette in force wherever the sheet said nothing: menus drew near-white text on light
grey, and check boxes and spin-box arrows vanished into the dark dialogs (issue #15). So
the theme goes on the *application*: the Fusion style (the same on Linux, Windows and
macOS), a dark palette for everything the style draws itself, and a stylesheet that
covers each control whose parts the palette alone does not reach (menus, indicators,
arrows, popups, headers, scroll bars, tool tips).

Every text colour here is paired with the surfaces it is drawn on in :data:`TEXT_PAIRS`,
and the UI tests hold each pair to WCAG AA (4.5:1).
"""

from __future__ import annotations

from typing import Final

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from micboard_desktop.ui import theme
from micboard_desktop.ui.assets import resources_dir

STYLE_NAME: Final = "Fusion"
"""Draws the same everywhere and takes all its colours from the palette."""

WINDOW: Final = theme.BACKGROUND
BAR: Final = QColor("#0c0c0c")
"""Menu bar, tool bar and status bar."""
FIELD: Final = QColor("#151515")
"""Inside text fields, spin boxes, combo boxes and check-box indicators."""
VIEW: Final = QColor("#0a0a0a")
VIEW_ALT: Final = QColor("#141414")
"""Every other row of a table or list."""
BUTTON: Final = QColor("#262626")
BUTTON_HOVER: Final = QColor("#333333")
POPUP: Final = QColor("#1c1c1c")
"""Menus, combo-box lists, tool tips and table headers."""
TAB: Final = QColor("#161616")
HIGHLIGHT: Final = QColor("#0b4f73")
HIGHLIGHT_TEXT: Final = QColor("#ffffff")
TEXT: Final = theme.TEXT
TEXT_DIM: Final = theme.TEXT_DIM
DISABLED_TEXT: Final = QColor("#939393")
"""Dimmer than text, yet still 4.5:1 on every surface: a disabled setting must stay legible."""
DISABLED_HIGHLIGHT: Final = QColor("#2a2a2a")
ACCENT: Final = theme.SKY
BORDER: Final = QColor("#6a6a6a")
"""Outline of a control: at least 3:1 against the window (WCAG 1.4.11), so it can be found."""
INDICATOR: Final = theme.TEXT_DIM
"""Outline of an unchecked check box: it must stand out from the field and the window."""
LINE: Final = QColor("#2b2b2b")
"""Decorative separators between cells and tabs (not a control boundary)."""
SCROLL_HANDLE: Final = QColor("#6a6a6a")

ICON_DIR: Final = resources_dir() / "icons" / "theme"

TEXT_PAIRS: Final[tuple[tuple[str, QColor, QColor], ...]] = (
    ("menu bar", TEXT, BAR),
    ("menu", TEXT, POPUP),
    ("menu, disabled", DISABLED_TEXT, POPUP),
    ("menu, selected", HIGHLIGHT_TEXT, HIGHLIGHT),
    ("tab", TEXT_DIM, TAB),
    ("tab, selected", HIGHLIGHT_TEXT, BUTTON),
    ("button", TEXT, BUTTON),
    ("button, hover", TEXT, BUTTON_HOVER),
    ("button, disabled", DISABLED_TEXT, BUTTON),
    ("field", TEXT, FIELD),
    ("field, disabled", DISABLED_TEXT, FIELD),
    ("field, placeholder", TEXT_DIM, FIELD),
    ("field, disabled placeholder", DISABLED_TEXT, FIELD),
    ("table", TEXT, VIEW),
    ("table, alternate row", TEXT, VIEW_ALT),
    ("table, selected", HIGHLIGHT_TEXT, HIGHLIGHT),
    ("header", TEXT, POPUP),
    ("tool tip", TEXT, POPUP),
    ("group title", TEXT_DIM, WINDOW),
    ("label", TEXT, WINDOW),
    ("label, dim", TEXT_DIM, WINDOW),
    ("label, disabled", DISABLED_TEXT, WINDOW),
    ("status bar", TEXT_DIM, BAR),
    ("progress", HIGHLIGHT_TEXT, HIGHLIGHT),
)
"""Every (text, background) pair the stylesheet draws, by where it appears.

Qt draws a placeholder in the text colour at half opacity unless told otherwise, which
is 2.4:1 in a disabled field; the sheet names the placeholder colour for that reason."""

STATUS_SURFACES: Final[tuple[tuple[str, QColor], ...]] = (
    ("window", WINDOW),
    ("table", VIEW),
    ("table, alternate row", VIEW_ALT),
    ("status bar", BAR),
    ("tile", theme.TILE),
)
"""Surfaces a status word is written on in its colour (tables, status bar, tiles)."""


def _icon(name: str) -> str:
    # Quoted, with forward slashes: Qt's url() takes that on every platform.
    return f'url("{(ICON_DIR / name).as_posix()}")'


def dark_palette() -> QPalette:
    """Return the palette for everything the style draws from colour roles."""
    role = QPalette.ColorRole
    palette = QPalette()
    colours = {
        role.Window: WINDOW,
        role.WindowText: TEXT,
        role.Base: FIELD,
        role.AlternateBase: VIEW_ALT,
        role.ToolTipBase: POPUP,
        role.ToolTipText: TEXT,
        role.PlaceholderText: TEXT_DIM,
        role.Text: TEXT,
        role.Button: BUTTON,
        role.ButtonText: TEXT,
        role.BrightText: HIGHLIGHT_TEXT,
        role.Light: QColor("#3a3a3a"),
        role.Midlight: QColor("#2e2e2e"),
        role.Mid: QColor("#222222"),
        role.Dark: VIEW,
        role.Shadow: QColor("#000000"),
        role.Highlight: HIGHLIGHT,
        role.HighlightedText: HIGHLIGHT_TEXT,
        role.Link: ACCENT,
        role.LinkVisited: theme.PURPLE,
    }
    for colour_role, colour in colours.items():
        palette.setColor(colour_role, colour)
    disabled = QPalette.ColorGroup.Disabled
    for colour_role in (role.WindowText, role.Text, role.ButtonText, role.HighlightedText,
                        role.PlaceholderText):
        palette.setColor(disabled, colour_role, DISABLED_TEXT)
    palette.setColor(disabled, role.Highlight, DISABLED_HIGHLIGHT)
    return palette


def stylesheet() -> str:
    """Return the application stylesheet (tiles paint themselves and ignore it)."""
    c = {
        "window": WINDOW.name(), "bar": BAR.name(), "field": FIELD.name(),
        "view": VIEW.name(), "view_alt": VIEW_ALT.name(), "button": BUTTON.name(),
        "button_hover": BUTTON_HOVER.name(), "popup": POPUP.name(), "tab": TAB.name(),
        "highlight": HIGHLIGHT.name(), "highlight_text": HIGHLIGHT_TEXT.name(),
        "text": TEXT.name(), "dim": TEXT_DIM.name(), "disabled": DISABLED_TEXT.name(),
        "accent": ACCENT.name(), "border": BORDER.name(), "indicator": INDICATOR.name(),
        "line": LINE.name(), "handle": SCROLL_HANDLE.name(),
        "check": _icon("check.svg"),
        "up": _icon("arrow-up.svg"), "down": _icon("arrow-down.svg"),
        "up_off": _icon("arrow-up-disabled.svg"), "down_off": _icon("arrow-down-disabled.svg"),
    }
    return _SHEET.format(**c)


_SHEET: Final = """
QWidget {{ font-size: 14px; }}
QMainWindow, QDialog {{ background: {window}; }}
QWidget#board, QScrollArea, QScrollArea > QWidget > QWidget {{ background: {window}; }}
QLabel:disabled, QCheckBox:disabled {{ color: {disabled}; }}

QMenuBar {{ background: {bar}; color: {text}; border-bottom: 1px solid {line}; }}
QMenuBar::item {{ background: transparent; padding: 6px 12px; }}
QMenuBar::item:selected, QMenuBar::item:pressed {{
    background: {highlight}; color: {highlight_text}; }}
QMenu {{ background: {popup}; color: {text}; border: 1px solid {border}; padding: 4px 0; }}
QMenu::item {{ padding: 6px 24px 6px 20px; }}
QMenu::item:selected {{ background: {highlight}; color: {highlight_text}; }}
QMenu::item:disabled {{ color: {disabled}; }}
QMenu::separator {{ height: 1px; background: {border}; margin: 4px 10px; }}

QTabWidget::pane {{ border: 0; }}
QTabBar::tab {{
    background: {tab}; color: {dim}; padding: 8px 18px; font-size: 15px;
    border: 1px solid {line}; border-bottom: 0;
}}
QTabBar::tab:hover:!selected {{ color: {text}; }}
QTabBar::tab:selected {{
    background: {button}; color: {highlight_text}; font-weight: bold;
    border-top: 2px solid {accent};
}}

QToolBar, QStatusBar {{ background: {bar}; border: 0; }}
QStatusBar QLabel {{ padding: 0 8px; }}

QPushButton, QToolButton {{
    background: {button}; color: {text}; border: 1px solid {border};
    padding: 5px 12px; border-radius: 3px;
}}
QPushButton:hover, QToolButton:hover {{ background: {button_hover}; }}
QPushButton:focus, QToolButton:focus {{
    border: 2px solid {accent}; padding: 4px 11px;
}}
QPushButton:disabled, QToolButton:disabled {{ color: {disabled}; border-color: {line}; }}
QPushButton:checked, QToolButton:checked {{ background: {highlight}; border-color: {accent}; }}

QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QPlainTextEdit {{
    background: {field}; color: {text}; border: 1px solid {border}; padding: 4px;
    selection-background-color: {highlight}; selection-color: {highlight_text};
}}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDoubleSpinBox:focus,
QPlainTextEdit:focus {{ border: 2px solid {accent}; padding: 3px; }}
QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled,
QPlainTextEdit:disabled {{ color: {disabled}; border-color: {line}; }}
QLineEdit, QPlainTextEdit {{ placeholder-text-color: {dim}; }}
QLineEdit:disabled, QPlainTextEdit:disabled {{ placeholder-text-color: {disabled}; }}

QSpinBox::up-button, QDoubleSpinBox::up-button {{
    subcontrol-origin: border; subcontrol-position: top right; width: 22px;
    background: {button}; border-left: 1px solid {border}; border-bottom: 1px solid {line};
}}
QSpinBox::down-button, QDoubleSpinBox::down-button {{
    subcontrol-origin: border; subcontrol-position: bottom right; width: 22px;
    background: {button}; border-left: 1px solid {border};
}}
QSpinBox::up-button:hover, QDoubleSpinBox::up-button:hover,
QSpinBox::down-button:hover, QDoubleSpinBox::down-button:hover {{ background: {button_hover}; }}
QSpinBox::up-arrow, QDoubleSpinBox::up-arrow {{ image: {up}; width: 10px; height: 10px; }}
QSpinBox::down-arrow, QDoubleSpinBox::down-arrow {{ image: {down}; width: 10px; height: 10px; }}
QSpinBox::up-arrow:disabled, QDoubleSpinBox::up-arrow:disabled,
QSpinBox::up-arrow:off, QDoubleSpinBox::up-arrow:off {{ image: {up_off}; }}
QSpinBox::down-arrow:disabled, QDoubleSpinBox::down-arrow:disabled,
QSpinBox::down-arrow:off, QDoubleSpinBox::down-arrow:off {{ image: {down_off}; }}

QComboBox::drop-down {{
    subcontrol-origin: border; subcontrol-position: top right; width: 22px;
    background: {button}; border-left: 1px solid {border};
}}
QComboBox::down-arrow {{ image: {down}; width: 10px; height: 10px; }}
QComboBox::down-arrow:disabled {{ image: {down_off}; }}
QComboBox QAbstractItemView {{
    background: {popup}; color: {text}; border: 1px solid {border}; outline: 0;
    selection-background-color: {highlight}; selection-color: {highlight_text};
}}

QCheckBox {{ spacing: 8px; }}
QCheckBox::indicator, QAbstractItemView::indicator, QGroupBox::indicator {{
    width: 16px; height: 16px; border: 2px solid {indicator}; border-radius: 3px;
    background: {field};
}}
QCheckBox::indicator:hover, QAbstractItemView::indicator:hover {{ border-color: {text}; }}
QCheckBox::indicator:checked, QAbstractItemView::indicator:checked,
QGroupBox::indicator:checked {{ background: {accent}; border-color: {accent}; image: {check}; }}
QCheckBox::indicator:disabled {{ border-color: {border}; background: {window}; }}
QCheckBox::indicator:checked:disabled {{ background: {border}; border-color: {border}; }}

QTreeView, QTableView, QListView {{
    background: {view}; alternate-background-color: {view_alt}; gridline-color: {line};
    color: {text}; selection-background-color: {highlight}; selection-color: {highlight_text};
    font-size: 15px;
}}
QHeaderView {{ background: {popup}; }}
QHeaderView::section {{
    background: {popup}; color: {text}; padding: 5px; border: 0;
    border-right: 1px solid {line}; border-bottom: 1px solid {line}; font-weight: bold;
}}
QTableCornerButton::section {{ background: {popup}; border: 0; }}

QScrollBar:vertical {{ background: {bar}; width: 14px; margin: 0; }}
QScrollBar:horizontal {{ background: {bar}; height: 14px; margin: 0; }}
QScrollBar::handle {{ background: {handle}; border-radius: 4px; margin: 2px; }}
QScrollBar::handle:vertical {{ min-height: 32px; }}
QScrollBar::handle:horizontal {{ min-width: 32px; }}
QScrollBar::handle:hover {{ background: {dim}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; border: 0; background: none; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}

QProgressBar {{
    background: {field}; color: {highlight_text}; border: 1px solid {border};
    text-align: center;
}}
QProgressBar::chunk {{ background: {highlight}; }}
QSplitter::handle {{ background: {popup}; }}
QGroupBox {{ border: 1px solid {line}; margin-top: 14px; padding-top: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; color: {dim}; }}
QToolTip {{ background: {popup}; color: {text}; border: 1px solid {accent}; padding: 4px; }}
"""


def apply_theme(app: QApplication | None = None) -> None:
    """Put the dark theme on the application, so dialogs, menus and popups get it too.

    Safe to call again: an application that already has the theme is left alone (setting
    a stylesheet re-polishes every widget).
    """
    app = app or QApplication.instance()  # type: ignore[assignment]
    if not isinstance(app, QApplication):
        return
    sheet = stylesheet()
    if app.styleSheet() == sheet:
        return
    if app.style().name().lower() != STYLE_NAME.lower():
        # Only when it differs: replacing the style object re-creates it under every widget.
        app.setStyle(STYLE_NAME)
    app.setPalette(dark_palette())
    app.setStyleSheet(sheet)
