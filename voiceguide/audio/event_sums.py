"""A session's loudness sums event by event: each distinct sound K-weighted once, silence for free.

``loudness.LayerMeter`` keeps, per 100 ms sub-block, each layer's K-weighted energy and every
pair's cross term, from the rendered layers.  The K filter is linear and time-invariant, so a
layer's weighted signal is the sum of its events' weighted audio, each shifted to its start: each
distinct utterance or cue is weighted once, with the filter's ring-out after it, and the sums
follow from where its events sit.  An event whose weighted audio meets no other adds its own
energy to its layer's sub-blocks; where several meet (a cue under speech), the stretch they cover
is added up from their weighted audio, cross terms and all.  Nothing is rendered and nothing
filtered between the events, and a cue heard a hundred times is weighted once: on the built-in
sessions about a fifth of the filtering of the rendered pass.  The result is the rendered pass's
up to rounding (the tests compare the two).

A bed sounds everywhere, under every event: with one, ``mix.measure`` keeps the rendered pass.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final, NamedTuple

import numpy as np

from .loudness import SUBBLOCK_S, k_filter

TWO_THREADS_S: Final = 20.0
"""Sessions with more sound than this (seconds of events) are summed in two halves at once, the
second on a thread of its own: the K filter's products let go of the GIL, and the encoder, which
has the other core to itself later, has not started yet."""
KEPT_BYTES: Final = 2 * 2**20
"""Weighted audio kept for events still to come, per thread (float64: 12 s of sound at 22050 Hz).
Keeping every utterance heard again until its last event took 33 MB in a 60-minute session whose
fifty counted cues come back every 400 s; past this, the one unused longest is weighted again
when it is next heard."""
RING_S: Final = 0.25
"""How long after a sound the K filter's ring-out is counted.  Its impulse response falls under
1e-15 (where ``LayerMeter`` counts a layer as silent again) within 0.14 s at any rate, and under
1e-20 by 0.25 s: what is left out is far below the rounding of the sums."""


class Placed(NamedTuple):
    """One event as the meter sees it."""

    start: int
    """Its first sample in the session."""
    layer: int
    """0 speech, 1 cue sounds (``LayerMeter``'s order)."""
    key: str
    """The text or the sound's name: events with the same key and length sound the same."""
    length: int
    """Samples heard: its audio, cut to its span in the plan."""


def weighted_with_ring(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``samples`` through the K filter from rest, followed by ``RING_S`` of the filter ringing out (float64)."""
    k = k_filter(sample_rate)
    weighted, state = k.filter(samples)
    return np.concatenate([weighted, k.ring(state, int(round(RING_S * sample_rate)))])


def event_sums(events: Sequence[Placed], audio: Callable[[Placed], np.ndarray], length: int, sample_rate: int,
               layers: int = 2, on_done: Callable[[int], None] | None = None) -> np.ndarray:
    """The sums ``LayerMeter`` would keep for these events rendered into ``length`` samples: an array
    (pairs of layers, whole sub-blocks), the pairs in ``LayerMeter``'s order.

    ``audio(event)`` is the event's samples (at least ``event.length`` of them), asked for from two
    threads at once; ``on_done(samples)`` hears how far the pass has come, for progress.
    """
    sub = int(round(SUBBLOCK_S * sample_rate))
    count = length // sub
    pairs = [(i, j) for i in range(layers) for j in range(i, layers)]
    ring = int(round(RING_S * sample_rate))
    heard = sorted(e for e in events if e.length > 0 and e.start < count * sub)
    groups = list(_overlapping(heard, ring))
    first, second = _halves(groups) if sum(e.length for e in heard) > TWO_THREADS_S * sample_rate else (groups, [])

    def sums_of(groups: list[list[Placed]], on_done: Callable[[int], None] | None) -> np.ndarray:
        return _sums(groups, audio, sample_rate, ring, pairs, count, sub, on_done)

    if second:
        with ThreadPoolExecutor(1, thread_name_prefix="loudness") as other:
            later = other.submit(sums_of, second, None)
            sums = sums_of(first, on_done)
            sums += later.result()
    else:
        sums = sums_of(first, on_done)
    if on_done is not None:
        on_done(length)
    return sums


def _halves(groups: list[list[Placed]]) -> tuple[list[list[Placed]], list[list[Placed]]]:
    """``groups`` cut in two with about as much sound in each."""
    heard = np.cumsum([sum(e.length for e in group) for group in groups])
    cut = int(np.searchsorted(heard, heard[-1] / 2)) + 1 if len(groups) else 0
    return groups[:cut], groups[cut:]


def _sums(groups: list[list[Placed]], audio: Callable[[Placed], np.ndarray], sample_rate: int, ring: int,
          pairs: list[tuple[int, int]], count: int, sub: int, on_done: Callable[[int], None] | None) -> np.ndarray:
    """``event_sums`` of these groups of events."""
    sums = np.zeros((len(pairs), count))
    uses = Counter((e.key, e.layer, e.length) for group in groups for e in group)
    kept: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()  # to be used again, the latest last
    kept_bytes = 0

    def weighted(e: Placed) -> np.ndarray:
        nonlocal kept_bytes
        key = (e.key, e.layer, e.length)
        found = kept.pop(key, None)
        if found is None:
            found = weighted_with_ring(np.asarray(audio(e)[: e.length], dtype=np.float64), sample_rate)
        else:
            kept_bytes -= found.nbytes
        uses[key] -= 1
        if uses[key]:
            kept[key] = found
            kept_bytes += found.nbytes
            while kept_bytes > KEPT_BYTES and len(kept) > 1:  # the longest unused go: weighted again if heard again
                kept_bytes -= kept.popitem(last=False)[1].nbytes
        return found

    for group in groups:
        if len(group) == 1:
            [e] = group
            z = weighted(e)
            _add_by_subblock(sums[pairs.index((e.layer, e.layer))], e.start, z * z, sub)
            end = e.start + len(z)
        else:
            start = group[0].start
            end = max(e.start + e.length + ring for e in group)
            mixed: dict[int, np.ndarray] = {}
            for e in group:
                z = weighted(e)
                layer = mixed.setdefault(e.layer, np.zeros(end - start))
                layer[e.start - start : e.start - start + len(z)] += z
            for row, (i, j) in zip(sums, pairs):
                if i in mixed and j in mixed:
                    _add_by_subblock(row, start, mixed[i] * mixed[j], sub)
        if on_done is not None:
            on_done(min(end, count * sub))
    return sums


def _overlapping(events: list[Placed], ring: int) -> Iterator[list[Placed]]:
    """The events (sorted by start) in groups whose weighted audio, ring-out included, meets no other group's."""
    group: list[Placed] = []
    end = 0
    for e in events:
        if group and e.start >= end:
            yield group
            group = []
        end = max(end, e.start + e.length + ring) if group else e.start + e.length + ring
        group.append(e)
    if group:
        yield group


def _add_by_subblock(row: np.ndarray, start: int, values: np.ndarray, sub: int) -> None:
    """Add ``values`` (samples from ``start`` on) into ``row``'s sub-blocks of ``sub`` samples; what
    falls past the last whole sub-block is left out, as ``LayerMeter`` leaves it."""
    end = min(start + len(values), len(row) * sub)
    if end <= start:
        return
    first = start // sub
    cuts = np.arange((first + 1) * sub, end, sub) - start
    row[first : first + len(cuts) + 1] += np.add.reduceat(values[: end - start], np.r_[0, cuts])
