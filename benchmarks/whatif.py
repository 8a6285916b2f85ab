"""Proposed fixes, applied as monkeypatches in a benchmark process only (``--whatif``).

Nothing here changes the app: each patch mirrors a small change proposed in RESULTS.md so
that its effect is measured before anyone edits the real files. ``apply(names)`` installs
the named patches in the current process. The fixes measured first (relink, sslctx,
ssc_meters, history_columns, lan_cache) have since been applied to the app itself and
were removed from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def _diagnostic_no_meter_paint() -> None:
    """Diagnostic only (not a fix): the board draws no meter lanes (refresh + Qt floor)."""
    from micboard_desktop.ui.widgets.band_painter import BandPainter

    BandPainter.paint_audio = lambda self, *args: None  # type: ignore[method-assign]
    BandPainter.paint_rf = lambda self, *args: None  # type: ignore[method-assign]


PATCHES: dict[str, Callable[[], None]] = {
    "diag_no_meter_paint": _diagnostic_no_meter_paint,
}


FIXES: tuple[str, ...] = ()
"""Proposed fixes not yet applied (``all``). ``text_cache`` was removed: the board's band
painter now draws band texts from cached pixmaps itself."""


def apply_from_env() -> list[str]:
    """Install the patches named in ``MBD_WHATIF`` (comma-separated); return them."""
    import os

    return apply(os.environ.get("MBD_WHATIF", "").split(","))


def apply(names: Iterable[str]) -> list[str]:
    """Install the named patches (``all`` for every one); return the names applied."""
    names = list(names)
    wanted = list(FIXES) if "all" in names else [n for n in names if n]
    for name in wanted:
        PATCHES[name]()
    return wanted
