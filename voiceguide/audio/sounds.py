"""The cue sounds, made by the program (no sample files), or a script's own files in their place.

Each built-in is a few sine partials under an envelope that starts and ends at zero (no clicks),
with soft attacks and low-to-middle pitches (never startling):

- ``chime``  a step starts: one clear glass-like note (G5) ringing out.
- ``start``  a hold starts: two quick rising notes, C5 then E5.
- ``release`` a hold ends: the same two notes falling, E5 then C5.
- ``tick``   a count: a short soft wood-block knock.
- ``inhale`` a tone gliding up a fourth, swelling and fading like a breath in.
- ``exhale`` a longer tone gliding down a fifth, like a breath out.
- ``bell``   the end: a low singing-bowl with a slow shimmer, ringing for three seconds.

Every sound, built-in or replaced, is levelled to ``loudness.SOUND_LUFS`` (its loudest 400 ms), so a
script's own chime sits where the built-in one would.  Sounds are made on first use and kept.
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np

from ..errors import AudioError
from ..script.routine import SOUND_NAMES
from .decode import decode_file
from .loudness import SOUND_LUFS, momentary_max_lufs

FADE_S: Final = 0.005
"""Fade at both ends of a replacement file, so one that starts or stops abruptly does not click."""
MAX_REPLACEMENT_S: Final = 30.0
SILENCE_DB: Final = -50.0
"""Replacement files are trimmed of leading and trailing quiet this far under their peak, so the
sound starts at its cue."""
MAX_PEAK: Final = 0.9


def _partials(sr: int, length_s: float, freqs_hz, amps, *, attack_s: float, decay_s: float,
              glide_to: float = 1.0) -> np.ndarray:
    """Sine partials under an attack ramp and exponential decay, ending in a short fade to exactly zero.

    ``glide_to`` bends every partial's frequency smoothly to that ratio over the sound (for breaths).
    """
    n = int(round(length_s * sr))
    t = np.arange(n) / sr
    bend = 1 + (glide_to - 1) * (0.5 - 0.5 * np.cos(np.pi * t / length_s))  # smooth ratio curve
    out = np.zeros(n)
    for f, a in zip(freqs_hz, amps):
        phase = 2 * np.pi * np.cumsum(f * bend) / sr
        out += a * np.sin(phase)
    attack = np.minimum(1.0, t / attack_s)
    envelope = (0.5 - 0.5 * np.cos(np.pi * attack)) * np.exp(-t / decay_s)
    fade = min(n, int(0.03 * sr))
    envelope[n - fade :] *= np.linspace(1.0, 0.0, fade) ** 2
    return out * envelope


def _swell(sr: int, length_s: float, freqs_hz, amps, *, glide_to: float, peak_at: float) -> np.ndarray:
    """A breath-like tone: rises to its loudest at ``peak_at`` of its length, then fades to zero."""
    n = int(round(length_s * sr))
    x = np.arange(n) / n
    envelope = np.where(x < peak_at, np.sin(0.5 * np.pi * x / peak_at) ** 2,
                        np.cos(0.5 * np.pi * (x - peak_at) / (1 - peak_at)) ** 2)
    return _partials(sr, length_s, freqs_hz, amps, attack_s=1e-9, decay_s=1e9, glide_to=glide_to) * envelope


def _two_notes(sr: int, first_hz: float, second_hz: float) -> np.ndarray:
    """Two soft mallet notes 0.16 s apart (start and release of a hold)."""
    def note(f: float) -> np.ndarray:
        return _partials(sr, 0.45, (f, 4 * f), (1.0, 0.08), attack_s=0.008, decay_s=0.12)

    gap = int(round(0.16 * sr))
    a, b = note(first_hz), note(second_hz)
    out = np.zeros(gap + len(b))
    out[: len(a)] += a
    out[gap:] += b
    return out


def _built_in(name: str, sr: int) -> np.ndarray:
    if name == "chime":
        return _partials(sr, 1.2, (784.0, 1568.0, 2352.0), (1.0, 0.22, 0.06), attack_s=0.01, decay_s=0.35)
    if name == "start":
        return _two_notes(sr, 523.25, 659.25)
    if name == "release":
        return _two_notes(sr, 659.25, 523.25)
    if name == "tick":
        return _partials(sr, 0.15, (1000.0, 2400.0), (1.0, 0.2), attack_s=0.008, decay_s=0.04)
    if name == "inhale":
        return _swell(sr, 1.2, (330.0, 660.0), (1.0, 0.25), glide_to=4 / 3, peak_at=0.6)
    if name == "exhale":
        return _swell(sr, 1.6, (440.0, 880.0), (1.0, 0.2), glide_to=2 / 3, peak_at=0.3)
    if name == "bell":
        # Singing-bowl partials (inharmonic), the lowest doubled slightly off pitch for a slow beat.
        return _partials(sr, 3.0, (392.0, 393.2, 1058.0, 2040.0), (0.6, 0.6, 0.3, 0.1), attack_s=0.015,
                         decay_s=1.1)
    raise AudioError(f"unknown cue sound {name!r}; the sounds are: {', '.join(SOUND_NAMES)}")


@functools.lru_cache(maxsize=4 * len(SOUND_NAMES))
def _levelled_built_in(name: str, sr: int) -> np.ndarray:
    """A built-in sound at ``SOUND_LUFS``, read-only: made once per process and rate (the seven took
    about 40 ms, each export or session of a batch or ``serve`` paid them again)."""
    made = _level(_built_in(name, sr), sr)
    made.flags.writeable = False
    return made


def _built_in_length(name: str, sr: int) -> int | None:
    """A built-in sound's length in samples without making it (planning needs only lengths, and
    making all seven costs about 40 ms at start-up); None for an unknown name."""
    seconds = {"chime": 1.2, "tick": 0.15, "inhale": 1.2, "exhale": 1.6, "bell": 3.0}
    if name in ("start", "release"):
        return int(round(0.16 * sr)) + int(round(0.45 * sr))  # _two_notes
    return int(round(seconds[name] * sr)) if name in seconds else None


def _level(samples: np.ndarray, sr: int) -> np.ndarray:
    """Scale to ``SOUND_LUFS`` (loudest 400 ms), never above ``MAX_PEAK``."""
    gain = 10 ** ((SOUND_LUFS - momentary_max_lufs(samples, sr)) / 20)
    peak = float(np.abs(samples).max()) * gain
    if peak > MAX_PEAK:
        gain *= MAX_PEAK / peak
    return (samples * gain).astype(np.float32)


def _replacement(name: str, path: str, sr: int) -> np.ndarray:
    samples = decode_file(path, sr, max_s=MAX_REPLACEMENT_S,
                          too_long=f"cue sounds may last at most {MAX_REPLACEMENT_S:g} s: trim the file")
    peak = float(np.abs(samples).max()) if len(samples) else 0.0
    if peak == 0.0:
        raise AudioError(f"sound file {path!r} for {name!r} is silent; choose a file with sound in it")
    loud = np.flatnonzero(np.abs(samples) > peak * 10 ** (SILENCE_DB / 20))
    samples = samples[loud[0] : loud[-1] + 1]
    if len(samples) > MAX_REPLACEMENT_S * sr:
        raise AudioError(
            f"sound file {path!r} for {name!r} lasts {len(samples) / sr:.0f} s; cue sounds may last at most "
            f"{MAX_REPLACEMENT_S:g} s: trim the file"
        )
    fade = min(len(samples) // 2, int(FADE_S * sr))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade + 1)[1:]
        samples[:fade] *= ramp
        samples[len(samples) - fade :] *= ramp[::-1]
    return samples


class SoundBank:
    """The cue sounds at one sample rate: ``length(name)`` in samples and ``audio(name)`` as float32."""

    def __init__(self, sample_rate: int, replacements: dict[str, str] | None = None):
        self.sample_rate = sample_rate
        self.replacements = dict(replacements or {})
        self._made: dict[str, np.ndarray] = {}

    def audio(self, name: str) -> np.ndarray:
        made = self._made.get(name)
        if made is None:
            path = self.replacements.get(name)
            if path is not None and name not in SOUND_NAMES:
                raise AudioError(f"unknown cue sound {name!r}; the sounds are: {', '.join(SOUND_NAMES)}")
            if path:
                made = _level(_replacement(name, path, self.sample_rate), self.sample_rate)
                made.flags.writeable = False
            else:
                made = _levelled_built_in(name, self.sample_rate)
            self._made[name] = made
        return made

    def length(self, name: str) -> int:
        if name not in self._made and name not in self.replacements:
            known = _built_in_length(name, self.sample_rate)
            if known is not None:
                return known
        return len(self.audio(name))
