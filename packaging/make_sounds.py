"""Synthesise the alert sounds and write them as small WAV files (standard library only).

Run from the repository root after changing a sound; the outputs are committed::

    .venv/bin/python packaging/make_sounds.py

Writes ``resources/sounds/warning.wav`` and ``resources/sounds/critical.wav``: 16-bit mono
PCM at 22 050 Hz. Nothing is downloaded or sampled: every tone is computed here, so the
sounds carry no licence but the project's own.

The two must be told apart by ear in a loud room without looking: the warning is a soft
falling two-note chime (A5 then E5, sine with a bell-like decay); the critical is three
short, bright rising beeps, repeated (square-ish tone with odd harmonics around 1 kHz, where
the ear is most sensitive and stage monitors rarely sit).
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOUNDS = ROOT / "resources" / "sounds"
RATE = 22_050
PEAK = 0.7
"""Loudest sample as a share of full scale: loud, with headroom so no player clips."""


def tone(freq: float, seconds: float, *, harmonics: Sequence[float] = (1.0,),
         attack: float = 0.005, decay: float | None = None) -> list[float]:
    """Return one note: a sum of harmonics with a short attack and an optional exponential decay.

    ``harmonics[k]`` is the level of partial ``k + 1``; the release is always 10 ms so the
    note ends without a click.
    """
    count = round(RATE * seconds)
    release = min(count, round(RATE * 0.010))
    out: list[float] = []
    norm = sum(abs(h) for h in harmonics) or 1.0
    for i in range(count):
        t = i / RATE
        value = sum(level * math.sin(2 * math.pi * freq * (k + 1) * t)
                    for k, level in enumerate(harmonics) if level) / norm
        envelope = min(1.0, t / attack) if attack > 0 else 1.0
        if decay is not None:
            envelope *= math.exp(-t / decay)
        if i >= count - release:
            envelope *= (count - i) / release
        out.append(value * envelope)
    return out


def silence(seconds: float) -> list[float]:
    """Return ``seconds`` of silence."""
    return [0.0] * round(RATE * seconds)


def join(parts: Iterable[list[float]]) -> list[float]:
    """Concatenate notes and rests."""
    out: list[float] = []
    for part in parts:
        out.extend(part)
    return out


def warning_sound() -> list[float]:
    """A soft falling chime: A5 then E5 (bell-like decay), about 0.8 s."""
    bell = (1.0, 0.3, 0.1)
    return join((tone(880.0, 0.35, harmonics=bell, decay=0.18), silence(0.03),
                 tone(659.25, 0.45, harmonics=bell, decay=0.22)))


def critical_sound() -> list[float]:
    """Three bright rising beeps, twice: urgent, about 1 s."""
    square = (1.0, 0.0, 1 / 3, 0.0, 1 / 5)  # odd harmonics: the buzz of an alarm
    beeps = []
    for freq in (988.0, 1175.0, 1397.0):  # B5, D6, F6
        beeps += [tone(freq, 0.11, harmonics=square, attack=0.003), silence(0.04)]
    return join((*beeps, silence(0.15), *beeps))


def write_wav(path: Path, samples: Sequence[float]) -> None:
    """Write ``samples`` (-1..1) as 16-bit mono PCM, scaled so the loudest sample is PEAK."""
    loudest = max((abs(s) for s in samples), default=0.0) or 1.0
    scale = PEAK * 32767 / loudest
    frames = b"".join(struct.pack("<h", round(s * scale)) for s in samples)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)


def main() -> int:
    """Write both sounds; print where."""
    for name, samples in (("warning", warning_sound()), ("critical", critical_sound())):
        path = SOUNDS / f"{name}.wav"
        write_wav(path, samples)
        sys.stdout.write(f"{path.relative_to(ROOT)}: {len(samples) / RATE:.2f} s, "
                         f"{path.stat().st_size} bytes\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
