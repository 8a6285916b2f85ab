"""The frozen app ships the alert sounds and what miniaudio needs to play them."""

from __future__ import annotations

from pathlib import Path

from micboard_desktop.core.alert_sounds import Tone
from tests.packaging._modules import ROOT, load

fm = load("freeze_manifest")


def test_every_alert_sound_is_a_data_file_under_resources_sounds() -> None:
    pairs = {(Path(src).relative_to(ROOT).as_posix(), dest) for src, dest in fm.data_files()}
    for tone in Tone:
        assert (f"resources/sounds/{tone.value}.wav", "resources/sounds") in pairs


def test_miniaudio_s_cffi_backend_is_a_hidden_import() -> None:
    # _miniaudio imports _cffi_backend from C: without this the frozen app could not play.
    assert "_cffi_backend" in fm.hidden_imports()
    assert "PySide6.QtMultimedia" in fm.EXCLUDES  # the sounds need no Qt Multimedia
