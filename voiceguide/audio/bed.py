"""Beds under the voice: generated ones (pink, brown, drone, breath) or a file, looped without a click.

A bed source gives any sample range on its own (``samples(start, stop)``), at the reference loudness
``BED_LUFS``; the mixer renders a session block by block, so no source ever holds a whole session:

- **Noise** (``pink``, ``brown``, and ``breath``'s air) is overlap-added from a small table of
  grains: ``GRAINS`` circular noises of two hops each, shaped in the frequency domain, under a sine
  window whose squares add to one at half overlap, so the level is steady.  Hop ``k`` uses a grain
  picked (and flipped or reversed) from a permutation seeded with ``(seed, k // GRAINS)``: the same
  script gives the same file, any block can be made without the ones before it, and the cost is a
  multiply-add per sample (making fresh noise for every hop cost 0.5 s per 6 minutes of session,
  more than the whole export).  A grain comes back once a permutation, about every 18 s, among
  different neighbours, which the ear does not pick out of noise.
- **Drone**: a chord of pure partials in just ratios over 65 Hz (C2, G2, C3, G3, C4, E4), each
  swelling slowly, in a table one period long (``DRONE_PERIOD_S``, every partial a whole number of
  cycles), read round and round.  Just ratios make no two partials beat with each other, and most
  of its energy lies under the voice's own pitch.
- **File**: decoded like custom cue sounds (``decode.decode_file``: its length found first, so an
  hour-long file is refused without being decoded), mono at the session's rate,
  quiet ends trimmed; its last ``LOOP_CROSSFADE_S`` are crossfaded (equal power) into its start,
  so the loop runs on without a click or a step.

The plan-dependent parts (ducking, fades, breath swells) are in ``duck.py``.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

import numpy as np

from ..errors import AudioError
from ..script.routine import BED_NAMES
from .decode import decode_file, lasts
from .loudness import BED_LUFS, integrated_lufs
from .sounds import SILENCE_DB

GRAINS: Final = 48
HOP_S: Final = 0.37
"""Grain hop (grains last two hops): long enough to shape noise down to a few Hz."""
NORMALISE_S: Final = 20.0
"""How much of a generated bed is measured to bring it to ``BED_LUFS``."""
DRONE_PERIOD_S: Final = 20.0
DRONE_ROOT_HZ: Final = 65.0
DRONE_PARTIALS: Final = ((1.0, 1.0), (1.5, 0.55), (2.0, 0.45), (3.0, 0.22), (4.0, 0.1), (5.0, 0.06))
"""(ratio to the root, amplitude): C2 G2 C3 G3 C4 E4, just intonation."""
DRONE_SWELL_DB: Final = 3.0
"""Each partial swells and ebbs by this much, a few times a period, out of step with the others."""
LOOP_CROSSFADE_S: Final = 2.0
MIN_FILE_S: Final = 2.0
MAX_FILE_S: Final = 600.0
"""A bed file is held in memory (10 minutes: 53 MB); it is looped, so a longer one is rarely needed.
A longer file is refused from its length before it is decoded (``decode.py``)."""
_TOO_LONG: Final = f"a bed file may last at most {MAX_FILE_S / 60:g} minutes (it is looped): trim it"


class BedSource(Protocol):
    """A bed at ``BED_LUFS``: any range of samples, float32, the same whenever asked."""

    breathes: bool
    """Whether the bed swells with the plan's breaths (``duck.py`` applies the swell)."""

    def samples(self, start: int, stop: int) -> np.ndarray: ...


@dataclass(frozen=True)
class Bed:
    """A bed chosen for a session: its source, its level against the voice, and how to name it."""

    source: BedSource
    level_lu: float
    label: str
    """What the screen, ``plan`` and the cue sheet call it: "brown noise", "rain.ogg"."""

    def describe(self) -> str:
        return f"{self.label} at {self.level_lu:g} LU"


def _seed(name: str) -> int:
    return zlib.crc32(name.encode())


def _butterworth(f: np.ndarray, corner_hz: float, order: int, high: bool) -> np.ndarray:
    """A Butterworth filter's magnitude response (high pass or low pass) at frequencies ``f``."""
    ratio = (corner_hz / f) if high else (f / corner_hz)
    return 1 / np.sqrt(1 + ratio ** (2 * order))


def _shape(name: str, f: np.ndarray) -> np.ndarray:
    """Amplitude spectra: pink (-3 dB/octave) and brown (-6 dB/octave) with the rumble and hiss taken
    off; breath is pink air in the band of a breath heard close."""
    f = np.maximum(f, 1e-3)
    if name == "pink":
        return f**-0.5 * _butterworth(f, 30.0, 2, True) * _butterworth(f, 5000.0, 1, False)
    if name == "brown":
        return f**-1.0 * _butterworth(f, 35.0, 2, True) * _butterworth(f, 3000.0, 1, False)
    if name == "breath":
        return f**-0.5 * _butterworth(f, 300.0, 2, True) * _butterworth(f, 2500.0, 2, False)
    raise ValueError(name)


class NoiseBed:
    """Shaped noise, overlap-added from a seeded table of grains (module docstring)."""

    def __init__(self, name: str, sample_rate: int):
        self.breathes = name == "breath"
        self.hop = 2 ** round(math.log2(HOP_S * sample_rate))
        self.seed = _seed(name)
        n = 2 * self.hop
        rng = np.random.default_rng(self.seed)
        f = np.fft.rfftfreq(n, 1 / sample_rate)
        spectra = (rng.standard_normal((GRAINS, len(f))) + 1j * rng.standard_normal((GRAINS, len(f)))) * _shape(name, f)
        spectra[:, 0] = 0.0
        window = np.sin(np.pi * (np.arange(n) + 0.5) / n)  # squares add to 1 at half overlap
        grains = np.fft.irfft(spectra, n, axis=1)
        grains *= window * (0.1 / np.sqrt(np.mean(grains**2)))  # near the final level: above the loudness gate
        self.grains = grains.astype(np.float32)
        self._order: tuple[int, np.ndarray, np.ndarray] | None = None
        self.grains *= np.float32(_normaliser(self, sample_rate))

    def _grain(self, k: int) -> np.ndarray:
        """The grain starting at hop ``k - 1`` (grains span ``[(k - 1) * hop, (k + 1) * hop)``)."""
        block = k // GRAINS
        if self._order is None or self._order[0] != block:
            rng = np.random.default_rng([self.seed, block])
            self._order = (block, rng.permutation(GRAINS), rng.integers(0, 4, GRAINS))
        _, order, flips = self._order
        grain = self.grains[order[k % GRAINS]]
        flip = flips[k % GRAINS]
        grain = grain[::-1] if flip & 2 else grain
        return -grain if flip & 1 else grain

    def samples(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros(stop - start, np.float32)
        h = self.hop
        for k in range(start // h, (stop - 1) // h + 2 if stop > start else 0):
            a, b = max(start, (k - 1) * h), min(stop, (k + 1) * h)
            if a < b:
                out[a - start : b - start] += self._grain(k)[a - (k - 1) * h : b - (k - 1) * h]
        return out


class DroneBed:
    """A just-intoned chord, read round from a table one period long (module docstring)."""

    breathes = False

    def __init__(self, sample_rate: int):
        n = int(round(DRONE_PERIOD_S * sample_rate))
        t = np.arange(n) / sample_rate
        rng = np.random.default_rng(_seed("drone"))
        table = np.zeros(n)
        depth = 10 ** (DRONE_SWELL_DB / 40) - 1  # +-half the swell, in amplitude
        for i, (ratio, amp) in enumerate(DRONE_PARTIALS):
            cycles = round(DRONE_ROOT_HZ * ratio * DRONE_PERIOD_S)  # whole cycles a period: no seam
            swell = 1 + depth * np.sin(2 * np.pi * (i % 3 + 1) * t / DRONE_PERIOD_S + rng.uniform(0, 2 * np.pi))
            table += amp * swell * np.sin(2 * np.pi * cycles * t / DRONE_PERIOD_S + rng.uniform(0, 2 * np.pi))
        self.table = table.astype(np.float32)
        self.table *= np.float32(_normaliser(self, sample_rate))

    def samples(self, start: int, stop: int) -> np.ndarray:
        return self.table.take(np.arange(start, stop), mode="wrap")


class FileBed:
    """An audio file, looped with a crossfade (module docstring)."""

    breathes = False

    def __init__(self, path: str | Path, sample_rate: int):
        x = decode_file(path, sample_rate, key="bed", max_s=MAX_FILE_S, too_long=_TOO_LONG)
        peak = float(np.abs(x).max()) if len(x) else 0.0
        if peak == 0.0:
            raise AudioError(f"bed file {str(path)!r} is silent; choose a file with sound in it")
        loud = np.flatnonzero(np.abs(x) > peak * 10 ** (SILENCE_DB / 20))
        x = x[loud[0] : loud[-1] + 1]
        seconds = len(x) / sample_rate
        if seconds < MIN_FILE_S:
            raise AudioError(f"bed file {str(path)!r} lasts {seconds:.1f} s; a bed is looped and needs at least "
                             f"{MIN_FILE_S:g} s: choose a longer file")
        if seconds > MAX_FILE_S:
            raise AudioError(f"bed file {str(path)!r} lasts {lasts(seconds)}; {_TOO_LONG}")
        fade = min(int(LOOP_CROSSFADE_S * sample_rate), len(x) // 4)
        period = len(x) - fade
        body = x[:period].copy()
        angle = 0.5 * np.pi * (np.arange(fade) + 0.5) / fade
        body[:fade] = x[:fade] * np.sin(angle) + x[period:] * np.cos(angle)  # the end runs on into the start
        self.breathes = False
        self.table = body.astype(np.float32)
        lufs = integrated_lufs(np.tile(self.table, 2) if len(self.table) < 10 * sample_rate else self.table,
                               sample_rate)
        if not math.isfinite(lufs):
            raise AudioError(f"bed file {str(path)!r} is too quiet to measure; choose a file with sound in it")
        self.table *= np.float32(10 ** ((BED_LUFS - lufs) / 20))

    def samples(self, start: int, stop: int) -> np.ndarray:
        return self.table.take(np.arange(start, stop), mode="wrap")


def _normaliser(source: BedSource, sample_rate: int) -> float:
    """The gain bringing a generated source to ``BED_LUFS``, from its first ``NORMALISE_S``."""
    return 10 ** ((BED_LUFS - integrated_lufs(source.samples(0, int(NORMALISE_S * sample_rate)), sample_rate)) / 20)


def open_bed(name_or_path: str, level_lu: float, sample_rate: int) -> Bed:
    """A generated bed by name (``BED_NAMES``) or an audio file's; AudioError saying what to do if it cannot be used."""
    if name_or_path in BED_NAMES:
        source: BedSource = DroneBed(sample_rate) if name_or_path == "drone" else NoiseBed(name_or_path, sample_rate)
        label = {"pink": "pink noise", "brown": "brown noise", "drone": "drone", "breath": "breath"}[name_or_path]
        return Bed(source, level_lu, label)
    return Bed(FileBed(name_or_path, sample_rate), level_lu, Path(name_or_path).name)
