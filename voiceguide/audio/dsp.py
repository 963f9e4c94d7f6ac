"""The few filters the loudness meter and the limiter need, on numpy alone.

These were ``scipy.signal`` and ``scipy.ndimage`` calls; importing those two took about a second,
most of the time ``voiceguide play`` needed before it could speak.  Each piece here gives scipy's
result to float precision (compared when it replaced it) in O(n) numpy operations:

- ``Biquads``: a cascade of second-order IIR sections, as ``scipy.signal.sosfilt``, with the
  same per-section state for streaming.
- ``kaiser_lowpass``: a windowed-sinc low-pass FIR, as ``scipy.signal.firwin`` with a Kaiser window.
- ``running_max``: a sliding maximum, as ``scipy.ndimage.maximum_filter1d`` with ``mode="nearest"``.
- ``trailing_mean``: a sliding mean, as ``scipy.ndimage.uniform_filter1d`` with ``mode="nearest"``.

And ``trim``, which cuts the quiet around speech (every voice, and each sentence of some).
"""

from __future__ import annotations

from typing import Final

import numpy as np

TRIM_THRESHOLD_DB: Final = -45.0
"""Relative to the peak: quieter edges are not speech."""
TRIM_MARGIN_MS: Final = 5.0
"""Kept before the first and after the last speech sample, faded."""

CHUNK: Final = 32
"""Samples ``Biquads`` handles as one matrix row: fewer means more rows to chain, more means more
multiplications per sample.  10 minutes at 22050 Hz in 10 s blocks took 0.10 s with 24 or 32,
0.11 s with 48, 0.13 s with 64 (``sosfilt``: 0.10 s)."""
SINGLE_THREAD_MULTIPLY: Final = 262_144
"""Matrix products are made a few rows at a time, each at most this many multiplications (rows x
inner x outer): OpenBLAS runs products up to that size on the calling thread.  Larger ones it
spreads over its own threads, and when two Python threads do that at once (the loudness pass
profiles utterances beside the meter) they fight over the cores: measured, the pass took twice as
long.  Small groups also keep the temporaries in the cache."""


class Biquads:
    """A cascade of biquads, run on whole arrays with matrix products instead of a sample loop.

    An IIR filter cannot be vectorised sample by sample, but it is linear: cut the signal into
    chunks of ``CHUNK`` samples, and each chunk's output is its own input through the impulse
    response (a ``CHUNK`` x ``CHUNK`` matrix, exact: no longer response matters inside a chunk) plus
    the response to the filter state at the chunk's start (a small matrix).  The states at the chunk
    starts follow one from the next by a linear recurrence over chunks, solved by doubling
    (``log2`` of the chunk count vectorised steps).  Nothing is truncated: the result is
    ``sosfilt``'s up to rounding (within 1e-10 of the signal's scale with the K-weighting filter,
    where sosfilt itself is within 1e-12 of a long-double run).
    """

    def __init__(self, sos: np.ndarray, chunk: int = CHUNK):
        self.sos = np.asarray(sos, dtype=np.float64)
        order = 2 * len(self.sos)
        # The filter as a state-space system, read off one step of the recursion (it is linear):
        # state' = state @ a.T + x * b,  y = state @ c + x * d.
        self.d, self.b = self._step(np.zeros(order), 1.0)
        self.c, columns = np.zeros(order), []
        for i in range(order):
            self.c[i], column = self._step(np.eye(order)[i], 0.0)
            columns.append(column)
        a = np.array(columns).T
        self.a = a
        self._free = np.array([self.c])  # row k: ``c @ a**k``, the output k samples into silence per unit of state
        powers = [np.eye(order)]
        for _ in range(chunk):
            powers.append(powers[-1] @ a)
        self.powers = np.array(powers)  # a**0 ... a**chunk
        self.chunk = chunk
        self.group = max(1, SINGLE_THREAD_MULTIPLY // (chunk * chunk))  # rows per matrix product
        impulse = np.concatenate([[self.d], [self.c @ p @ self.b for p in self.powers[: chunk - 1]]])
        lags = np.arange(chunk)[None, :] - np.arange(chunk)[:, None]
        # A chunk's output is ``chunk @ response + start_state @ from_state``; its end state is
        # ``start_state @ powers[chunk].T + chunk @ to_state``.
        self.response = np.where(lags >= 0, impulse[np.clip(lags, 0, None)], 0.0)
        self.to_state = np.array([self.powers[chunk - 1 - j] @ self.b for j in range(chunk)])
        self.from_state = np.array([self.c @ p for p in self.powers[:chunk]]).T

    def _step(self, state: np.ndarray, x: float) -> tuple[float, np.ndarray]:
        """One sample through the sections in transposed direct form II (``sosfilt``'s, and its state layout)."""
        state, new = state.reshape(-1, 2), np.zeros((len(self.sos), 2))
        for i, (b0, b1, b2, _, a1, a2) in enumerate(self.sos):
            y = b0 * x + state[i, 0]
            new[i] = b1 * x - a1 * y + state[i, 1], b2 * x - a2 * y
            x = y
        return x, new.ravel()

    def zero_state(self) -> np.ndarray:
        return np.zeros((len(self.sos), 2))

    def filter(self, x: np.ndarray, state: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``x`` filtered from ``state`` (None: at rest), and the state after it: ``sosfilt(sos, x, zi=state)``."""
        x = np.asarray(x, dtype=np.float64)
        start = (self.zero_state() if state is None else np.asarray(state, dtype=np.float64)).ravel()
        whole, chunk = len(x) // self.chunk, self.chunk
        rows = x[: whole * chunk].reshape(whole, chunk)
        groups = [slice(i, min(i + self.group, whole)) for i in range(0, whole, self.group)]
        # Chunk start states: s[0] = start, s[k + 1] = s[k] @ a**chunk.T + rows[k] @ to_state.
        states = np.empty((whole + 1, len(start)))
        states[0] = start
        for g in groups:
            np.matmul(rows[g], self.to_state, out=states[1:][g])
        step = self.powers[chunk].T
        span = 1
        while span < len(states) and np.abs(step).max() > 1e-30:  # beyond that, older chunks add nothing
            states[span:] += states[:-span] @ step
            step, span = step @ step, 2 * span
        y = np.empty(len(x))
        head = y[: whole * chunk].reshape(whole, chunk)
        for g in groups:
            np.matmul(rows[g], self.response, out=head[g])
            head[g] += states[g] @ self.from_state
        rest, state = x[whole * chunk :], states[whole]
        if len(rest):  # the last few samples, as the start of one more chunk
            r = len(rest)
            y[whole * chunk :] = rest @ self.response[:r, :r] + state @ self.from_state[:, :r]
            state = state @ self.powers[r].T + rest @ self.to_state[chunk - r :]
        return y, state.reshape(-1, 2)


    def ring(self, state: np.ndarray, n: int) -> np.ndarray:
        """The next ``n`` samples out of the filter at ``state`` given silence: ``filter(zeros(n), state)[0]``
        (to rounding), as one small product."""
        while len(self._free) < n:  # doubled: rows m..2m-1 are rows 0..m-1 times a**m
            self._free = np.concatenate([self._free, self._free @ np.linalg.matrix_power(self.a, len(self._free))])
        return self._free[:n] @ np.asarray(state, dtype=np.float64).ravel()


def kaiser_lowpass(taps: int, cutoff: float, beta: float) -> np.ndarray:
    """Linear-phase low-pass FIR, ``cutoff`` a fraction of Nyquist, unit gain at 0 Hz: a Kaiser-windowed sinc."""
    m = np.arange(taps) - (taps - 1) / 2
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(taps, beta)
    return h / h.sum()


def running_max(x: np.ndarray, before: int, after: int) -> np.ndarray:
    """``out[n] = max(x[n - before : n + after + 1])``, the window cut at the ends of ``x``.

    van Herk / Gil-Werman: in blocks as long as the window, every window is the tail of one block
    and the head of the next, so two running maxima (forward and backward within blocks) give all
    windows in three passes, however long the window.
    """
    width, n = before + after + 1, len(x)
    if width == 1 or not n:
        return np.array(x, copy=True)
    blocks = -(-(n + width - 1) // width)
    padded = np.pad(x, (before, blocks * width - n - before), mode="edge").reshape(blocks, width).T
    # Accumulating across rows (each a whole row of blocks) is much faster than along short rows.
    head = np.maximum.accumulate(padded, axis=0).T.ravel()  # from each block's start to here
    tail = np.maximum.accumulate(padded[::-1], axis=0)[::-1].T.ravel()  # from here to the block's end
    return np.maximum(tail[:n], head[width - 1 : width - 1 + n])


def trailing_mean(x: np.ndarray, width: int) -> np.ndarray:
    """``out[n] = mean(x[n - width + 1 : n + 1])``, ``x[0]`` repeated before the start.

    Cumulative sums of the differences from the largest value: a run at that value averages to
    exactly it (a limiter gain of 1 stays exactly 1), and the sums stay small.
    """
    x = np.asarray(x, dtype=np.float64)
    if not len(x):
        return x.copy()
    top = float(x.max())
    padded = np.concatenate([np.full(width, x[0] - top), x - top])  # one extra in front: the sum before x[0]
    sums = np.cumsum(padded)
    return top + (sums[width:] - sums[:-width]) / width


def to_pcm16(block: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> int16, rounded and clipped: the one conversion every writer uses."""
    return np.clip(np.rint(block * 32767.0), -32768, 32767).astype(np.int16)


def trim(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Cut leading and trailing quiet down to ``TRIM_MARGIN_MS``, fading the cut edges."""
    peak = float(np.max(np.abs(samples), initial=0.0))
    if peak == 0.0:
        return samples[:0]
    loud = np.flatnonzero(np.abs(samples) >= peak * 10 ** (TRIM_THRESHOLD_DB / 20))
    margin = int(sample_rate * TRIM_MARGIN_MS / 1000)
    start, end = max(loud[0] - margin, 0), min(loud[-1] + 1 + margin, len(samples))
    out = samples[start:end].copy()
    fade = min(margin, len(out) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, endpoint=False, dtype=np.float32)
        if start > 0:
            out[:fade] *= ramp
        if end < len(samples):
            out[-fade:] *= ramp[::-1]
    return out
