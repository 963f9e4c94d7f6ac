"""The bed as a plan hears it: lowered before every word, swelling with the breaths, faded in and out.

A reactive compressor lowers a bed only once the voice has started (ffmpeg's ``sidechaincompress``
reacts in 20 ms, so the first consonant is masked).  The plan knows where every word falls, so the
gain here is computed from the plan's speech events, before they sound:

- **Ducking**: utterances closer than ``HOLD_GAP_S`` are one stretch; the bed starts falling
  ``LEAD_S`` before a stretch, reaches ``DUCK_DB`` down ``FALL_S`` later (50 ms before the first
  syllable), stays down to the stretch's last sample, then rises over ``RISE_S``.  The ramps are
  raised cosines in dB, which the ear hears as an even glide, with no corner at either end.
- **Fades**: in over the lead-in (at least ``MIN_FADE_IN_S``), out over the last ``FADE_OUT_S``.
- **Breath** (a source that ``breathes``): the swell rises (raised cosine) from ``BREATH_LOW_DB``
  to full over each inhale, from its cue to the exhale's, and falls back over each exhale; every
  segment starts where the last one ended, so a lone exhale cue glides rather than jumps.  Where
  no breath is paced, it rests at ``BREATH_LOW_DB``, returning there over ``BREATH_RETURN_S``.

Everything is computed for any sample range on its own (``BedLayer.samples``): the stretches and
breath segments are found by bisection, like the mixer's events.
"""

from __future__ import annotations

import bisect
from typing import Final

import numpy as np

from .bed import BedSource
from .kinds import EventKind

DUCK_DB: Final = 10.0
LEAD_S: Final = 0.3
FALL_S: Final = 0.25
HOLD_GAP_S: Final = 1.0
RISE_S: Final = 0.7
MIN_FADE_IN_S: Final = 0.5
FADE_OUT_S: Final = 3.0
BREATH_LOW_DB: Final = -9.0
BREATH_MAX_S: Final = 10.0
"""A breath segment lasts until the next breath cue, or this long at most."""
BREATH_RETURN_S: Final = 3.0


def _glide(x: np.ndarray) -> np.ndarray:
    """0 -> 1 over ``x`` in [0, 1] as a raised cosine: no corner at either end."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def duck_stretches(plan) -> list[tuple[int, int]]:
    """``[start, end)`` samples of speech with the gaps under ``HOLD_GAP_S`` filled in, in order."""
    gap = HOLD_GAP_S * plan.sample_rate
    stretches: list[list[int]] = []
    for e in sorted((e for e in plan.events if e.kind == EventKind.SPEECH), key=lambda e: e.start):
        if stretches and e.start - stretches[-1][1] < gap:
            stretches[-1][1] = max(stretches[-1][1], e.end)
        else:
            stretches.append([e.start, e.end])
    return [(a, b) for a, b in stretches]


def breath_segments(plan, sample_rate: int) -> list[tuple[int, int, float, float]]:
    """``(start, end, from, to)`` of the breath swell (amplitudes), in order and not overlapping."""
    low = 10 ** (BREATH_LOW_DB / 20)
    cues = sorted((e.start, e.sound == "inhale") for e in plan.events
                  if e.kind == EventKind.SOUND and e.sound in ("inhale", "exhale"))
    most, back = int(BREATH_MAX_S * sample_rate), int(BREATH_RETURN_S * sample_rate)
    segments: list[tuple[int, int, float, float]] = []
    level, free_from = low, 0

    def rest_until(t: int) -> None:
        nonlocal level
        if level != low and free_from < t:  # glide back to rest, as far as there is room
            end = min(t, free_from + back)
            reached = level + (low - level) * float(_glide(np.array((end - free_from) / back)))
            segments.append((free_from, end, level, reached))
            level = reached

    for i, (t, rising) in enumerate(cues):
        if t < free_from:  # two cues at once: the later one wins from here
            continue
        rest_until(t)
        following = cues[i + 1][0] if i + 1 < len(cues) else t + most
        end = max(t + 1, min(following, t + most))
        target = 1.0 if rising else low
        segments.append((t, end, level, target))
        level, free_from = target, end
    rest_until(free_from + back)
    return segments


class BedLayer:
    """A bed source under one plan: ``samples(start, stop)`` ducked, faded and (for breath) swelling."""

    def __init__(self, plan, source: BedSource):
        rate = plan.sample_rate
        self.source = source
        self.length = plan.length
        self.stretches = duck_stretches(plan)
        self.stretch_ends = [b for _, b in self.stretches]
        self.lead, self.fall, self.rise = (int(round(s * rate)) for s in (LEAD_S, FALL_S, RISE_S))
        first = min((e.start for e in plan.events), default=0)
        self.fade_in = max(first, int(MIN_FADE_IN_S * rate))
        self.fade_out = min(int(FADE_OUT_S * rate), plan.length)
        self.breath = breath_segments(plan, rate) if source.breathes else []
        self.breath_starts = [s[0] for s in self.breath]

    def duck_gain(self, start: int, stop: int) -> np.ndarray:
        """The ducking over ``[start, stop)`` as a linear gain (float32): 1 up, ``-DUCK_DB`` down.

        Held stretches are set to the ducked gain outright; only the ramps are computed (in dB, then
        converted), which keeps a 10 s block to a few thousand exponentials.
        """
        gain = np.ones(stop - start, np.float32)
        down = np.float32(10 ** (-DUCK_DB / 20))
        first = bisect.bisect_right(self.stretch_ends, start - self.rise)
        for a, b in self.stretches[first:]:
            if a - self.lead >= stop:
                break
            ramps = ((a - self.lead, a - self.lead + self.fall, False), (b, b + self.rise, True))
            lo, hi = max(start, ramps[0][1]), min(stop, b)
            if lo < hi:
                gain[lo - start : hi - start] = down
            for r0, r1, rising in ramps:
                lo, hi = max(start, r0), min(stop, r1)
                if lo < hi:
                    depth = _glide((np.arange(lo, hi) - r0) / (r1 - r0))
                    ramp = (10 ** (-DUCK_DB / 20 * (1 - depth if rising else depth))).astype(np.float32)
                    np.minimum(gain[lo - start : hi - start], ramp, out=gain[lo - start : hi - start])
        return gain

    def envelope(self, start: int, stop: int) -> np.ndarray:
        """The whole gain over ``[start, stop)``: ducking, fades and breath, linear float32."""
        gain = self.duck_gain(start, stop)
        if start < self.fade_in:
            hi = min(stop, self.fade_in)
            gain[: hi - start] *= _glide(np.arange(start, hi) / self.fade_in).astype(np.float32)
        if stop > self.length - self.fade_out:
            lo = max(start, self.length - self.fade_out)
            gain[lo - start :] *= _glide((self.length - np.arange(lo, stop)) / self.fade_out).astype(np.float32)
        if self.source.breathes:
            gain *= self.swell(start, stop).astype(np.float32)
        return gain

    def swell(self, start: int, stop: int) -> np.ndarray:
        """The breath swell (amplitude, from ``BREATH_LOW_DB`` to 1) over ``[start, stop)``."""
        n = np.arange(start, stop)
        out = np.full(stop - start, 10 ** (BREATH_LOW_DB / 20))
        first = max(0, bisect.bisect_right(self.breath_starts, start) - 1)
        for a, b, v0, v1 in self.breath[first:]:
            if a >= stop:
                break
            if b <= start:
                continue
            lo, hi = max(a, start), min(b, stop)
            out[lo - start : hi - start] = v0 + (v1 - v0) * _glide((n[lo - start : hi - start] - a) / (b - a))
        return out

    def samples(self, start: int, stop: int) -> np.ndarray:
        """The bed over ``[start, stop)`` at ``BED_LUFS`` between words, float32."""
        out = self.source.samples(start, stop)
        out *= self.envelope(start, stop)
        return out
