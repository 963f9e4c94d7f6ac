"""Loudness made for listening: -16 LUFS integrated, true peak at most -1 dBTP, whatever the voice.

The measuring and limiting pieces, on plain arrays (``mix`` applies them to a plan):

- ITU-R BS.1770-4 loudness: the K-weighting filter with libebur128's coefficients (the same as
  ffmpeg's ``ebur128``, computed for any sample rate), 400 ms blocks every 100 ms, gated at
  -70 LUFS absolute and -10 LU relative.
- ``LayerMeter`` streams the speech layer and the cue-sound layer of a session and keeps, per
  100 ms, three sums: speech energy, sound energy and their cross term.  The filter is linear, so
  that is enough to know the gated loudness of the mix for *any* pair of layer gains, exactly,
  without rendering again.
- A true-peak estimate (4x oversampling) and a gentle look-ahead limiter.

Why the speech is limited on its own, before the mix: speech has peaks 18-20 dB over its
loudness, and -16 LUFS under -1 dBTP allows 14.5, so several dB of peaks must go.  Limiting the
finished session would lower its loudness by an amount known only afterwards (measured: 1.3 LU
with Piper).  Instead each distinct utterance gets a ``PeakProfile`` once: its K-weighted energy
binned by the peak level the limiter would see around each sample.  From the profiles,
``LayerMeter.levels`` predicts how much loudness any speech ceiling costs and solves for the gain
and ceiling together; the mixer then limits each utterance at that ceiling, and the final limiter
over the mix only catches the odd cue landing on a speech peak.

We measure ourselves rather than through pyloudnorm because pyloudnorm needs the whole signal in
memory at once (a 60-minute session is 300 MB of float32); the tests check our figures against
ffmpeg.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np

from . import dsp

TARGET_LUFS: Final = -16.0
"""Spoken-word podcast loudness."""
CEILING_DBTP: Final = -1.5
"""Limiter ceiling for the finished mix (WAV): half a dB under the -1 dBTP promise, for the estimate.
A lossy encoder adds peaks of its own; ``export`` asks for a lower ceiling before MP3."""
SPEECH_HEADROOM_DB: Final = 0.5
"""Speech peaks are held this far under the ceiling, leaving room for a cue under a peak."""
SOUNDS_BELOW_SPEECH_LU: Final = 12.0
"""Cue sounds sit this far under the speech loudness: clearly heard, never over the voice."""
SOUND_LUFS: Final = TARGET_LUFS - SOUNDS_BELOW_SPEECH_LU
"""The loudness (loudest 400 ms) the sound bank gives every cue, built-in or replaced."""
BED_LUFS: Final = -30.0
"""The loudness every bed is made at (``bed.py``), before the mixer sets it against the voice."""
MAX_GAIN_DB: Final = 30.0
"""A near-silent session is not turned into amplified noise."""

ABSOLUTE_GATE_LUFS: Final = -70.0
RELATIVE_GATE_LU: Final = -10.0
SUBBLOCK_S: Final = 0.1  # gating blocks are 400 ms with 75 % overlap: four 100 ms sub-blocks
OVERSAMPLE: Final = 4
_UPSAMPLER: Final = (dsp.kaiser_lowpass(12 * OVERSAMPLE + 1, 1 / OVERSAMPLE, beta=6.0) * OVERSAMPLE).astype(np.float32)
"""Low-pass for 4x interpolation: 12 taps a phase, as BS.1770 Annex 2 uses."""

LIMITER_LOOKAHEAD_S: Final = 0.0015  # the gain ramps down over this before a peak ...
LIMITER_HOLD_S: Final = 0.002  # ... stays down this long after it, then ramps back up
"""Short, so only the peaks themselves are lowered.  Measured on a Piper session (limited to reach
-16 LUFS under -1 dBTP), the speech energy was lowered on average by 2.5 dB with these, against
4.4 dB with 2/5 ms, 5.7 dB with 3/10 ms and 9.7 dB with 8/50 ms: longer windows turn the limiter
into a compressor that pulls every loud vowel down and the quiet sounds up."""
_FIR_MARGIN: Final = 16  # samples of context the interpolator needs on each side
BOUND_MARGIN: Final = 1e-4
"""A bound on the true peak counts as under the ceiling only this far under it (0.0009 dB): room for
the float32 rounding of the mix the bound was added up for."""
PROFILE_BIN_DB: Final = 0.25
PROFILE_RANGE_DB: Final = (-90.0, 12.0)
PROFILE_DEPTH_DB: Final = 30.0
GATING_SPREAD_S: Final = 0.2  # see session_speech_lufs


# --------------------------------------------------------------------------- BS.1770 pieces


def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """The two K-weighting biquads (high shelf, then high pass) for ``sample_rate``, as second-order sections.

    Analogue prototypes as in libebur128, so results agree with ffmpeg at every rate.
    """
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
        1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0,
    ]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


@lru_cache(maxsize=8)
def k_filter(sample_rate: int) -> dsp.Biquads:
    """The K-weighting filter for ``sample_rate``, ready to run (set up once per rate)."""
    return dsp.Biquads(k_weighting_sos(sample_rate))


def k_weighted(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``samples`` through the K-weighting filter from rest, in float64."""
    return k_filter(sample_rate).filter(samples)[0]


def lufs(mean_square: float) -> float:
    """Mono loudness of a K-weighted mean square; -inf for silence."""
    return -0.691 + 10 * math.log10(mean_square) if mean_square > 0 else -math.inf


def gated_loudness(block_energy: np.ndarray) -> float:
    """Integrated loudness from the mean squares of the 400 ms gating blocks (absolute, then relative gate)."""
    z = block_energy[block_energy > 10 ** ((ABSOLUTE_GATE_LUFS + 0.691) / 10)]
    if not len(z):
        return -math.inf
    relative = 10 ** ((lufs(float(z.mean())) + RELATIVE_GATE_LU + 0.691) / 10)
    z = z[z > relative]
    return lufs(float(z.mean())) if len(z) else -math.inf


def integrated_lufs(samples: np.ndarray, sample_rate: int) -> float:
    """Gated integrated loudness of a whole mono clip (an utterance); -inf for silence."""
    weighted = k_weighted(samples, sample_rate)
    sub = int(round(SUBBLOCK_S * sample_rate))
    count = len(weighted) // sub
    if count < 4:  # shorter than one 400 ms block: the clip is its own block
        return gated_loudness(np.array([float(np.mean(weighted * weighted))])) if len(weighted) else -math.inf
    energy = (weighted[: count * sub] ** 2).reshape(count, sub).mean(axis=1)
    blocks = np.convolve(energy, np.full(4, 0.25), mode="valid")  # 400 ms blocks, 100 ms apart
    return gated_loudness(blocks)


def momentary_max_lufs(samples: np.ndarray, sample_rate: int) -> float:
    """The loudest 400 ms of a short sound (EBU momentary loudness); a shorter sound counts as 400 ms."""
    window = int(round(0.4 * sample_rate))
    padded = np.concatenate([samples.astype(np.float64), np.zeros(window)])
    weighted = k_weighted(padded, sample_rate)
    power = np.concatenate([[0.0], np.cumsum(weighted * weighted)])
    return lufs(float(np.max(power[window:] - power[:-window])) / window)


def _phase_matrix() -> np.ndarray:
    """``_UPSAMPLER`` as one column per phase: the interpolated point ``n + p/4`` is ``x[n-6 : n+7] @ W[:, p]``."""
    delay, half = (len(_UPSAMPLER) - 1) // 2, _TAPS_EACH_SIDE
    w = np.zeros((2 * half + 1, OVERSAMPLE), np.float32)
    for k in range(-half, half + 1):
        for p in range(OVERSAMPLE):
            j = p + delay - OVERSAMPLE * k
            if 0 <= j < len(_UPSAMPLER):
                w[k + half, p] = _UPSAMPLER[j]
    return w


_TAPS_EACH_SIDE: Final = 6
_PHASES: Final = _phase_matrix()
_ROWS_EACH_PRODUCT: Final = dsp.SINGLE_THREAD_MULTIPLY // (2 * _TAPS_EACH_SIDE + 1) // OVERSAMPLE
"""Interpolated in groups this large: see ``dsp.SINGLE_THREAD_MULTIPLY``."""
_OVERSHOOT: Final = float(np.abs(_PHASES).sum(axis=0).max())
"""No interpolated point exceeds this times the largest sample around it: below ``floor / _OVERSHOOT``
a sample's neighbourhood cannot reach ``floor``."""


def true_peak(samples: np.ndarray, floor: float = 0.0, could_reach: np.ndarray | None = None) -> np.ndarray:
    """Per-sample true-peak estimate: the largest 4x-interpolated magnitude from each sample to the next.

    With ``floor``, the estimate is exact only where it could exceed ``floor`` (around loud
    samples) and is the sample's own magnitude elsewhere (then below ``floor``): a limiter needs no
    more, and speech has few such places, so this is much cheaper.  ``could_reach`` (booleans, one
    per sample) narrows that further: where it is False the caller knows the true peak is under
    ``floor`` (``mix.Renderer.peak_bound``).
    """
    x = np.asarray(samples, dtype=np.float32)
    peak = np.abs(x)
    if not len(x):
        return peak
    half = _TAPS_EACH_SIDE
    loud = None
    if floor > 0:
        loud = np.flatnonzero(peak > floor / _OVERSHOOT if could_reach is None else
                              (peak > floor / _OVERSHOOT) & could_reach)
    if loud is None or len(loud) > len(x) // 8:  # dense: interpolate everything
        for phase in range(1, OVERSAMPLE):  # polyphase: the points n + phase/4 are x through every 4th tap
            up = np.convolve(x, _UPSAMPLER[phase::OVERSAMPLE])[half : half + len(x)]
            np.maximum(peak, np.abs(up), out=peak)
        return peak
    if len(loud):
        # Every sample within reach of a loud one: the loud ones' neighbourhoods marked (cheaper than a
        # running maximum over the whole array when, as in speech, few samples are loud).
        mask = np.zeros(len(x) + 2 * half, np.bool_)
        for k in range(2 * half + 1):
            mask[loud + k] = True
        near = np.flatnonzero(mask[half:-half])
        padded = np.concatenate([np.zeros(half, np.float32), x, np.zeros(half, np.float32)])
        taps = np.arange(2 * half + 1)
        for group in range(0, len(near), _ROWS_EACH_PRODUCT):  # products OpenBLAS keeps on this thread
            at = near[group : group + _ROWS_EACH_PRODUCT]
            phases = np.abs(padded[at[:, None] + taps] @ _PHASES)
            # The largest of the four phases, column by column: the same values as ``max(axis=1)``, which
            # numpy reduces row by row (four values each) about 25 times slower.
            peak[at] = functools.reduce(np.maximum, (phases[:, p] for p in range(OVERSAMPLE)), peak[at])
    return peak


TRUE_PEAK_REACH: Final = _TAPS_EACH_SIDE + 1
"""Samples on each side of a sample its true peak depends on (with one to spare)."""


def quick_peak_bound(samples: np.ndarray) -> float:
    """At least the largest true peak of ``samples``, from their largest magnitude alone (nothing interpolated)."""
    return _OVERSHOOT * float(np.abs(samples).max(initial=0.0))


def peak_bound(samples: np.ndarray, floor: float) -> float:
    """At least the largest true peak of ``samples``: exact when it is over ``floor``, else ``floor``."""
    return max(floor, float(true_peak(samples, floor).max(initial=0.0)))


def true_peak_dbtp(samples: np.ndarray) -> float:
    peak = float(true_peak(samples).max()) if len(samples) else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


# --------------------------------------------------------------------------- limiting


def _lookahead_hold(sample_rate: int) -> tuple[int, int]:
    return max(1, int(round(LIMITER_LOOKAHEAD_S * sample_rate))), int(round(LIMITER_HOLD_S * sample_rate))


def peak_envelope(samples: np.ndarray, sample_rate: int, floor: float = 0.0, release: int = 0) -> np.ndarray:
    """The peak the limiter answers to at each sample: the largest true peak from ``hold`` (plus
    ``release`` samples) before it to ``lookahead`` after it (exact where it could exceed ``floor``,
    see ``true_peak``)."""
    return _held(true_peak(samples, floor), sample_rate, release)


def _held(peaks: np.ndarray, sample_rate: int, release: int = 0) -> np.ndarray:
    """``peak_envelope`` from the true peaks already estimated."""
    lookahead, hold = _lookahead_hold(sample_rate)
    return dsp.running_max(peaks, hold + release, lookahead - 1)


def limiter_gain(samples: np.ndarray, sample_rate: int, ceiling: float,
                 envelope: np.ndarray | None = None) -> np.ndarray:
    """Per-sample gain (<= 1) keeping the true peak of ``samples * gain`` under ``ceiling``.

    The gain each peak needs is held over the look-ahead and hold (``peak_envelope``), then smoothed
    by a moving average as long as the look-ahead: every sample's gain is then at most what its own
    peak needs, and it moves in ramps, never in steps (no clicks).
    """
    lookahead, _ = _lookahead_hold(sample_rate)
    envelope = peak_envelope(samples, sample_rate, ceiling) if envelope is None else envelope
    held = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-12))
    return np.minimum(dsp.trailing_mean(held, lookahead), 1.0)  # the running mean may round a hair above 1


def limited(samples: np.ndarray, sample_rate: int, ceiling: float) -> np.ndarray:
    """``samples`` with true peaks held under ``ceiling``; the same array when nothing is over."""
    if not len(samples):
        return samples
    return _limited_around(samples, sample_rate, ceiling, true_peak(samples, ceiling))


Stretch = tuple[int, np.ndarray]
"""Where limiting changed samples: the first sample's index and the float32 samples from there on."""


def limited_stretches(samples: np.ndarray, sample_rate: int, ceiling: float) -> list[Stretch]:
    """What ``limited`` changes in ``samples``, and nothing else (few samples in speech: kept in the
    speech cache, so a warm export of the same session does not limit its utterances again)."""
    if not len(samples):
        return []
    return _stretches(samples, sample_rate, ceiling, true_peak(samples, ceiling))


def with_stretches(samples: np.ndarray, stretches: list[Stretch]) -> np.ndarray:
    """``samples`` with ``stretches`` written over them (a copy; the same array when there are none)."""
    if not stretches:
        return samples
    out = np.array(samples, dtype=np.float32)
    for a, values in stretches:
        out[a : a + len(values)] = values
    return out


def _limited_around(samples: np.ndarray, sample_rate: int, ceiling: float, peaks: np.ndarray) -> np.ndarray:
    """``samples * limiter_gain(...)``, the gain worked out only around the true ``peaks`` over ``ceiling``."""
    return with_stretches(samples, _stretches(samples, sample_rate, ceiling, peaks))


def _stretches(samples: np.ndarray, sample_rate: int, ceiling: float, peaks: np.ndarray) -> list[Stretch]:
    """The stretches ``samples * limiter_gain(...)`` changes, the gain worked out only around the true
    ``peaks`` over ``ceiling``.

    The gain is below 1 only where the envelope (``hold`` before to ``lookahead`` after) is over the
    ceiling somewhere in the running mean's ``lookahead``: within ``hold + 2 lookahead`` of a peak
    over.  Elsewhere it is exactly 1, so those samples are left as they are; each stretch around
    peaks over is worked out with as much context again on each side, which is all the envelope
    and the mean look at.  Speech has few such peaks, so this is a fraction of the whole.
    """
    over = np.flatnonzero(peaks > ceiling)
    if not len(over):
        return []
    lookahead, hold = _lookahead_hold(sample_rate)
    reach = hold + 2 * lookahead
    starts, ends = over - reach, over + reach + 1
    split = np.flatnonzero(starts[1:] > ends[:-1] + 2 * reach) + 1  # stretches whose contexts do not meet
    found: list[Stretch] = []
    for a, b in zip(starts[np.r_[0, split]], ends[np.r_[split - 1, len(over) - 1]]):
        a, b = max(0, int(a)), min(len(samples), int(b))
        lo, hi = max(0, a - reach), min(len(samples), b + reach)
        gain = limiter_gain(samples[lo:hi], sample_rate, ceiling, _held(peaks[lo:hi], sample_rate))
        found.append((a, (samples[a:b] * gain[a - lo : b - lo]).astype(np.float32)))
    return found


@dataclass(frozen=True)
class PeakProfile:
    """An utterance's K-weighted energy, binned by its ``peak_envelope`` in dB: enough to tell how
    much energy limiting at any ceiling leaves (``energy_under``) without limiting it."""

    energy: np.ndarray
    peak: float
    """The largest true peak, linear."""

    @classmethod
    def of(cls, samples: np.ndarray, sample_rate: int) -> PeakProfile:
        lo, hi = PROFILE_RANGE_DB
        bins = int((hi - lo) / PROFILE_BIN_DB)
        if not len(samples):
            return cls(np.zeros(bins), 0.0)
        # Peaks more than PROFILE_DEPTH_DB under the loudest are never limited: no need to interpolate them.
        floor = float(np.abs(samples).max()) * 10 ** (-PROFILE_DEPTH_DB / 20)
        # The gain recovers over a look-ahead after the hold: count half of that as held.
        envelope = peak_envelope(samples, sample_rate, floor, release=_lookahead_hold(sample_rate)[0] // 2)
        weighted = k_weighted(samples, sample_rate)
        level_db = 20 * np.log10(np.maximum(envelope, 1e-9))
        index = np.clip(((level_db - lo) / PROFILE_BIN_DB).astype(int), 0, bins - 1)
        return cls(np.bincount(index, weights=weighted * weighted, minlength=bins), float(envelope.max()))

    @property
    def total(self) -> float:
        return float(self.energy.sum())

    def energy_under(self, ceiling: float) -> float:
        """K-weighted energy left after limiting at ``ceiling`` (linear)."""
        lo, _ = PROFILE_RANGE_DB
        centres = 10 ** ((lo + (np.arange(len(self.energy)) + 0.5) * PROFILE_BIN_DB) / 20)
        return float(np.sum(self.energy * np.minimum(1.0, ceiling / centres) ** 2))


def limiter_margin(sample_rate: int) -> int:
    """Samples of context on each side a block needs so the limiter's result does not depend on block edges."""
    lookahead, hold = _lookahead_hold(sample_rate)
    return 2 * lookahead + hold + _FIR_MARGIN


@dataclass(frozen=True)
class PeakBound:
    """At least the true peak around each sample of a range, piece by piece: ``level[k]`` over samples
    ``start[k]`` to ``stop[k]`` of it."""

    start: np.ndarray
    stop: np.ndarray
    level: np.ndarray

    def over(self, ceiling: float, length: int) -> np.ndarray | None:
        """Booleans, one per sample: where the true peak could reach ``ceiling``; None when nowhere."""
        pieces = np.flatnonzero(self.level > ceiling * (1 - BOUND_MARGIN))
        if not len(pieces):
            return None
        could = np.zeros(length, np.bool_)
        for k in pieces:
            could[self.start[k] : self.stop[k]] = True
        return could


def limited_blocks(render: Callable[[int, int], np.ndarray], ranges: Iterable[tuple[int, int]], length: int,
                   sample_rate: int, ceiling_dbtp: float = CEILING_DBTP,
                   bound: Callable[[int, int], PeakBound | None] | None = None) -> Iterator[np.ndarray]:
    """Each ``[start, stop)`` of ``render``, true peak held under ``ceiling_dbtp``.

    Each block is rendered with a little context on both sides, so the limiter sees a peak coming
    and the result is the same wherever the block edges fall.  ``bound(lo, hi)``, when given, is
    at least the true peak around the samples of ``render(lo, hi)`` (None: not known): where it is
    under the ceiling nothing is interpolated, and nothing changes (the limiter only ever acts
    around true peaks over the ceiling, and those are all still found exactly).
    """
    ceiling = 10 ** (ceiling_dbtp / 20)
    margin = limiter_margin(sample_rate)
    for start, stop in ranges:
        lo, hi = max(0, start - margin), min(length, stop + margin)
        context = render(lo, hi)
        block = context[start - lo : stop - lo]
        if len(context) and float(np.abs(context).max()) * _OVERSHOOT > ceiling:  # else no peak can be over
            known = bound(lo, hi) if bound is not None else None
            could_reach = known.over(ceiling, len(context)) if known is not None else None
            if known is None or could_reach is not None:
                peaks = true_peak(context, ceiling, could_reach)
                block = _limited_around(context, sample_rate, ceiling, peaks)[start - lo : stop - lo]
        yield block


# --------------------------------------------------------------------------- levels of a session


@dataclass(frozen=True)
class Levels:
    """What the loudness pass found, and how the mixer is to apply it."""

    speech_lufs: float
    """Integrated loudness of the speech as the speech layer made it, before any limiting."""
    speech_peak_db: float | None
    """Ceiling for each utterance's true peak before the gain, dBFS (None: no speech to limit)."""
    sound_gain_db: float
    """Gain on the cue sounds before the common gain, placing them under the speech."""
    gain_db: float
    """The one gain on the whole mix."""
    expected_lufs: float
    """Integrated loudness the result will have (predicted from the measured sums and profiles)."""
    ceiling_dbtp: float = CEILING_DBTP
    """Where the final limiter holds the true peak."""
    bed_gain_db: float = 0.0
    """Gain on the bed (made at ``bed.BED_LUFS``) before the common gain, placing it under the speech."""


@dataclass(frozen=True)
class Balance:
    """Where the cue sounds and the bed sit against the voice, in LU (the script's ``cue_level`` and
    ``bed_level``); ``bed_lu`` None: no bed."""

    cue_lu: float = -SOUNDS_BELOW_SPEECH_LU
    bed_lu: float | None = None


class LayerMeter:
    """K-weighted energy sums of several layers (speech, cue sounds, bed) per 100 ms, fed block by block:
    each layer's energy and every pair's cross term."""

    def __init__(self, sample_rate: int, layers: int = 2):
        self.filter = k_filter(sample_rate)
        self.state = [self.filter.zero_state() for _ in range(layers)]
        self.sub = int(round(SUBBLOCK_S * sample_rate))
        self.carry = [np.zeros(0) for _ in range(layers)]  # filtered samples short of a whole 100 ms
        self.pairs = [(i, j) for i in range(layers) for j in range(i, layers)]
        self.sums: list[np.ndarray] = []  # (pairs, k) arrays: sum of layer i * layer j

    @classmethod
    def of_sums(cls, sample_rate: int, layers: int, sums: np.ndarray) -> LayerMeter:
        """A meter holding ``sums`` (pairs x sub-blocks, in ``pairs`` order) as if they had been fed."""
        meter = cls(sample_rate, layers)
        meter.sums = [sums]
        return meter

    def feed(self, *blocks: np.ndarray) -> None:
        total = len(self.carry[0]) + len(blocks[0])
        filtered = [self._filter(block, layer) for layer, block in enumerate(blocks)]  # None: all zeros
        whole = total // self.sub * self.sub
        self.carry = [f[whole:] if f is not None else np.zeros(total - whole) for f in filtered]
        if not whole:
            return
        rows = [f[:whole].reshape(-1, self.sub) if f is not None else None for f in filtered]
        sums = np.zeros((len(self.pairs), whole // self.sub))
        for p, (i, j) in enumerate(self.pairs):
            a, b = rows[i], rows[j]
            if a is not None and b is not None:  # cues are quiet most of the time: their sums stay zero
                sums[p] = np.einsum("ij,ij->i", a, b)
        self.sums.append(sums)

    def _filter(self, block: np.ndarray, layer: int) -> np.ndarray | None:
        """The K-weighted block after what was carried over; None when it is all zeros."""
        state, carry = self.state[layer], self.carry[layer]
        if not state.any() and not block.any():
            return None if not carry.any() else np.concatenate([carry, np.zeros(len(block))])
        filtered, state = self.filter.filter(block, state)
        self.state[layer] = state if np.abs(state).max() >= 1e-15 else np.zeros_like(state)  # rung out: skip next
        return np.concatenate([carry, filtered])

    def loudness(self, *gains: float) -> float:
        """Gated integrated loudness of the layers mixed at ``gains`` (layers not given: left out)."""
        if len(self.sums) != 1:
            self.sums = [np.concatenate(self.sums, axis=1) if self.sums else np.zeros((len(self.pairs), 0))]
        sums = self.sums[0]
        sub = np.zeros(sums.shape[1])
        for p, (i, j) in enumerate(self.pairs):
            if i < len(gains) and j < len(gains) and gains[i] and gains[j]:
                sub += (1 if i == j else 2) * gains[i] * gains[j] * sums[p]
        if len(sub) < 4:  # shorter than one gating block
            return lufs(float(sub.sum()) / (4 * self.sub)) if len(sub) else -math.inf
        blocks = sub[:-3] + sub[1:-2] + sub[2:-1] + sub[3:]
        return gated_loudness(blocks / (4 * self.sub))

    def levels(self, speech_kept: Callable[[float], float] | None = None,
               ceiling_dbtp: float = CEILING_DBTP, balance: Balance = Balance()) -> Levels:
        """The gain to ``TARGET_LUFS``, with the cues and the bed placed under the speech (``solve_levels``)."""
        return solve_levels(self.loudness, speech_kept, ceiling_dbtp, balance)


def solve_levels(loudness_of: Callable[..., float], speech_kept: Callable[[float], float] | None,
                 ceiling_dbtp: float = CEILING_DBTP, balance: Balance = Balance()) -> Levels:
    """The gain to ``TARGET_LUFS``, with the cues ``balance.cue_lu`` and the bed ``balance.bed_lu`` against
    the speech.

    ``loudness_of(speech_gain, sound_gain, bed_gain)`` is the session's integrated loudness with those
    layer gains (measured sums, or a model); ``speech_kept(ceiling)`` is the fraction of speech energy
    left by limiting every utterance at ``ceiling`` (from ``PeakProfile``s); the speech ceiling is
    where ``ceiling_dbtp`` less ``SPEECH_HEADROOM_DB`` falls after the gain.  The result's loudness
    only grows with the gain, so bisection finds it.

    A bed never makes the voice quieter: the gain is at least the one found without it.  (A bed sits
    under the voice, so it can only add a hair of loudness under speech, ducked; between utterances it
    may lower the gated loudness, and then the voice comes up, as it would in a quieter session.)
    """
    speech_lufs = loudness_of(1.0, 0.0)

    def result(gain_db: float, with_bed: bool = True) -> tuple[float, float, float, float | None]:
        gain = 10 ** (gain_db / 20)
        peak_db = ceiling_dbtp - SPEECH_HEADROOM_DB - gain_db if speech_kept and math.isfinite(speech_lufs) else None
        speech = math.sqrt(speech_kept(10 ** (peak_db / 20))) if speech_kept and peak_db is not None else 1.0
        limited_lufs = loudness_of(speech, 0.0)
        voice_lufs = limited_lufs if math.isfinite(limited_lufs) else TARGET_LUFS
        sound_db = voice_lufs + balance.cue_lu - SOUND_LUFS if math.isfinite(limited_lufs) else 0.0
        bed_db = voice_lufs + balance.bed_lu - BED_LUFS if balance.bed_lu is not None else 0.0
        bed = gain * 10 ** (bed_db / 20) if with_bed and balance.bed_lu is not None else 0.0
        return loudness_of(gain * speech, gain * 10 ** (sound_db / 20), bed), sound_db, bed_db, peak_db

    def solve(with_bed: bool) -> float:
        lo, hi = min(TARGET_LUFS - unlimited, MAX_GAIN_DB), MAX_GAIN_DB  # limiting only ever takes loudness away
        if result(hi, with_bed)[0] <= TARGET_LUFS:
            return hi
        for _ in range(40):
            if hi - lo < 0.001:
                break
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if result(mid, with_bed)[0] <= TARGET_LUFS else (lo, mid)
        return lo

    unlimited = result(0.0, with_bed=False)[0]
    if not math.isfinite(unlimited):
        found, _, bed_db, _ = result(0.0)
        return Levels(speech_lufs, None, 0.0, 0.0, found, ceiling_dbtp, bed_db)
    gain_db = solve(True) if balance.bed_lu is None else max(solve(True), solve(False))
    found, sound_db, bed_db, peak_db = result(gain_db)
    return Levels(speech_lufs, peak_db, sound_db, gain_db, found, ceiling_dbtp, bed_db)


def session_speech_lufs(durations_s: Iterable[float], utterance_lufs: float) -> float:
    """The integrated loudness of a layer of separate utterances that each measure ``utterance_lufs``.

    Gating blocks are 400 ms every 100 ms, and those touching an utterance's edges are partly
    quiet yet above the relative gate: in a session an utterance of d seconds spreads its energy
    over about d + ``GATING_SPREAD_S`` of blocks, so short cues make the layer measure quieter than
    each of them alone.  Checked on the built-in routines: within 0.3 LU of the measured layer with
    Piper and espeak-ng (the test voice's steady tones: 0.8 LU).
    """
    d = np.asarray(list(durations_s), dtype=float)
    if not d.sum() > 0:
        return utterance_lufs
    return utterance_lufs + 10 * math.log10(d.sum() / (d + GATING_SPREAD_S).sum())


def predicted_levels(profiles: Iterable[PeakProfile], speech_lufs: float,
                     ceiling_dbtp: float = CEILING_DBTP, balance: Balance = Balance()) -> Levels:
    """Levels chosen before a session is heard, from a few of its utterances.

    A model stands in for the measured session: its speech layer is at ``speech_lufs``
    (``session_speech_lufs``) and the cues, 12 LU under, add nothing (the gate leaves them out);
    the sample's ``PeakProfile``s tell what limiting costs.  A bed is placed against that predicted
    speech loudness exactly as export places it against the measured one (and, ducked under speech
    and under the gate between words at its usual levels, it adds nothing to the model either).
    Used by the live player, which cannot wait for the whole session to be measured.
    """
    profiles = list(profiles)
    total = sum(p.total for p in profiles)

    def loudness_of(speech_gain: float, *others: float) -> float:
        return speech_lufs + 20 * math.log10(speech_gain) if speech_gain > 0 else -math.inf

    def kept(ceiling: float) -> float:
        return sum(p.energy_under(ceiling) for p in profiles) / total

    return solve_levels(loudness_of, kept if total > 0 else None, ceiling_dbtp, balance)
