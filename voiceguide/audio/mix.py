"""Plan -> samples: every utterance and cue sound placed at its plan sample, block by block.

Any range of the session can be rendered on its own (``Renderer.render(start, stop)``): the plan's
events are sorted by start, so the events overlapping a range are found by bisection, and only
their audio is fetched.  Rendering a session block by block therefore costs time in proportion to
its length and memory in proportion to one block, which is what lets a 60-minute export use about
the memory of a 2-minute one.

What is mixed is a ``Rendition``: a plan, its speech, its cue sounds, its bed and its settings
(``session.Session``, the live plan, or a ``Mix`` put together from parts).  How loud each layer
is comes as one ``loudness.Levels``: speech is placed at the level the speech layer made it, its
peaks optionally held under ``speech_peak_db`` (each distinct utterance limited once,
``SpeechLayer``); cue sounds come from the sound bank at ``loudness.SOUND_LUFS`` and are scaled by
``sound_gain_db``; a bed (``bed.py``, ducked by ``duck.BedLayer``) comes at ``loudness.BED_LUFS``
and is scaled by ``bed_gain_db``; ``gain_db`` then scales the whole mix.  ``measure`` chooses them
in a first pass (cues and bed where the settings put them against the speech actually spoken, the
session at -16 LUFS, speech peaks where -1 dBTP allows), and ``mastered_blocks`` renders with them
in a second, under the true-peak ceiling.  The bed is made block by block too: nothing holds a
whole session.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final, Generic, Protocol, TypeVar

import numpy as np

from ..script.settings import Settings
from . import event_sums, loudness
from .bed import Bed
from .duck import BedLayer
from .kinds import EventKind
from .loudness import Balance, Levels

BLOCK_S: Final = 10.0


class AudioSource(Protocol):
    """What the mixer needs from the speech layer (keyed by text) and the sound bank (keyed by name)."""

    def length(self, key: str) -> int: ...

    def audio(self, key: str) -> np.ndarray: ...


class Placed(Protocol):
    """What the mixer needs of a plan's event (``timeline.events.Event``)."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def kind(self) -> EventKind: ...
    @property
    def text(self) -> str | None: ...
    @property
    def sound(self) -> str | None: ...


class Timeline(Protocol):
    """What the mixer needs of a plan (``timeline.events.Plan``): its rate, length and events by start."""

    @property
    def sample_rate(self) -> int: ...
    @property
    def length(self) -> int: ...
    @property
    def events(self) -> Sequence[Placed]: ...


class Rendition(Protocol):
    """A session ready to be mixed (``session.Session``, ``play.live.LivePlan``, ``Mix``)."""

    @property
    def plan(self) -> Timeline: ...
    @property
    def speech(self) -> AudioSource: ...
    @property
    def sounds(self) -> AudioSource: ...
    @property
    def bed(self) -> Bed | None: ...
    @property
    def settings(self) -> Settings: ...


PlanT = TypeVar("PlanT", bound=Timeline)


@dataclass(frozen=True)
class Mix(Generic[PlanT]):
    """A rendition put together from its parts: a voice sample, a test's tones, the plan of the moment
    in ``play``, or a session with its speech wrapped once (``of``)."""

    plan: PlanT
    speech: AudioSource
    sounds: AudioSource
    bed: Bed | None = None
    settings: Settings = field(default_factory=Settings)

    @staticmethod
    def of(rendition: Rendition) -> Mix[Timeline]:
        """``rendition`` with its speech wrapped in one ``SpeechLayer``: pass the result to ``measure``
        and then to ``mastered_blocks``, so each utterance is profiled and limited once."""
        speech = speech_layer(rendition.speech, rendition.plan.sample_rate)
        return Mix(rendition.plan, speech, rendition.sounds, rendition.bed, rendition.settings)


def db_to_gain(db: float) -> float:
    return float(10 ** (db / 20))


class SpeechLayer:
    """The speech of a session: each distinct utterance profiled once, and limited once at a ceiling.

    Wraps the speech layer (``speech.Speech`` or anything with ``length`` and ``audio``); like it,
    keeps what it made per text, so a cue spoken a hundred times is processed once.
    """

    def __init__(self, speech: AudioSource, sample_rate: int) -> None:
        self.speech = speech
        self.sample_rate = sample_rate
        self._profiles: dict[str, loudness.PeakProfile] = {}
        self._limited: dict[str, tuple[np.ndarray, float]] = {}  # and at least its largest true peak
        self._ceiling_db: float | None = None

    def length(self, text: str) -> int:
        return self.speech.length(text)

    def audio(self, text: str) -> np.ndarray:
        return np.asarray(self.speech.audio(text), dtype=np.float32)

    def profile(self, text: str) -> loudness.PeakProfile:
        found = self._profiles.get(text)
        if found is None:
            kept = getattr(self.speech, "profile", None)  # ``speech.Speech`` keeps them in its cache
            found = kept(text) if kept is not None else loudness.PeakProfile.of(self.audio(text), self.sample_rate)
            self._profiles[text] = found
        return found

    def limited(self, text: str, ceiling_db: float) -> np.ndarray:
        """The utterance with its true peak held under ``ceiling_db`` dBFS."""
        return self._limited_with_peak(text, ceiling_db)[0]

    def limited_peak(self, text: str, ceiling_db: float) -> float:
        """At least the largest true peak of ``limited(text, ceiling_db)``, linear (``loudness.peak_bound``)."""
        return self._limited_with_peak(text, ceiling_db)[1]

    def _limited_with_peak(self, text: str, ceiling_db: float) -> tuple[np.ndarray, float]:
        if ceiling_db != self._ceiling_db:
            self._limited.clear()
            self._ceiling_db = ceiling_db
        found = self._limited.get(text)
        if found is None:
            ceiling = 10 ** (ceiling_db / 20)
            kept = getattr(self.speech, "limited_with_peak", None)  # ``speech.Speech`` keeps what limiting changed
            if text in self._profiles and self._profiles[text].peak <= ceiling:
                found = self.audio(text), self._profiles[text].peak  # nothing over: no work, no copy
            elif kept is not None:
                audio, peak = kept(text, ceiling_db)
                found = np.asarray(audio, dtype=np.float32), peak
            else:
                audio = loudness.limited(self.audio(text), self.sample_rate, ceiling)
                found = audio, loudness.peak_bound(audio, ceiling)
            self._limited[text] = found
        return found


def speech_layer(speech: AudioSource, sample_rate: int) -> SpeechLayer:
    """``speech`` wrapped once (pass the result to every pass so each utterance is processed once)."""
    return speech if isinstance(speech, SpeechLayer) else SpeechLayer(speech, sample_rate)


class Renderer:
    """Renders any sample range of a rendition's plan at ``levels`` (None: every layer as it was made,
    nothing limited); keeps the audio of events still sounding, nothing more."""

    def __init__(self, rendition: Rendition, levels: Levels | None = None) -> None:
        plan, bed = rendition.plan, rendition.bed
        self.plan = plan
        self.bed = BedLayer(plan, bed.source) if bed is not None else None
        self.bed_gain = np.float32(db_to_gain(levels.bed_gain_db if levels else 0.0))
        self.speech = speech_layer(rendition.speech, plan.sample_rate)
        self.speech_peak_db = levels.speech_peak_db if levels else None
        self.sounds = rendition.sounds
        self.gain = np.float32(db_to_gain(levels.gain_db if levels else 0.0))
        self.sound_gain = np.float32(db_to_gain(levels.sound_gain_db if levels else 0.0))
        self.events = plan.events
        self.starts = [e.start for e in self.events]
        self.longest = max((e.end - e.start for e in self.events), default=0)
        self.active: dict[int, np.ndarray] = {}
        self.peaks: dict[tuple[str, str], float] = {}  # (kind, text or sound) -> its true peak, bounded

    def _audio(self, index: int) -> np.ndarray:
        """The event's samples, exactly as long as its span in the plan."""
        audio = self.active.get(index)
        if audio is None:
            e = self.events[index]
            if e.kind == EventKind.SOUND:
                source = self.sounds.audio(str(e.sound))
            elif self.speech_peak_db is None:
                source = self.speech.audio(str(e.text))
            else:
                source = self.speech.limited(str(e.text), self.speech_peak_db)
            audio = np.asarray(source, dtype=np.float32)[: e.end - e.start]
            self.active[index] = audio
        return audio

    def peak_bound(self, start: int, stop: int) -> loudness.PeakBound | None:
        """At least the true peak around the samples of ``render(start, stop)``, piece by piece: the sum of
        the true peaks of the events within reach, scaled as they are mixed (interpolation is linear, so
        the mix's is at most that).  None when not known: under a bed, or speech not limited."""
        speech_peak_db = self.speech_peak_db
        if self.bed is not None or speech_peak_db is None:
            return None
        reach = loudness.TRUE_PEAK_REACH
        first = bisect.bisect_right(self.starts, start - reach - self.longest)
        last = bisect.bisect_left(self.starts, stop + reach)
        spans, peaks = [], []
        for i in range(first, last):
            e = self.events[i]
            a, b = max(start, e.start - reach), min(stop, e.end + reach)
            if a < b:
                spans.append((a, b))
                peaks.append(self._peak(i, speech_peak_db) * float(self.gain))
        at = np.unique(np.array([start, stop, *(x for span in spans for x in span)]))
        within = np.array(spans).reshape(-1, 2)
        covers = (within[:, :1] <= at[:-1]) & (at[:-1] < within[:, 1:])  # (events, pieces)
        level = np.where(covers, np.array(peaks)[:, None], 0.0).sum(axis=0)
        return loudness.PeakBound(at[:-1] - start, at[1:] - start, level)

    def _peak(self, index: int, speech_peak_db: float) -> float:
        """At least the true peak of the event's audio as placed, before the common gain."""
        e = self.events[index]
        key = str(e.sound if e.kind == EventKind.SOUND else e.text)
        found = self.peaks.get((e.kind, key))
        if found is None:
            if e.kind == EventKind.SOUND:
                found = loudness.quick_peak_bound(self.sounds.audio(key)) * float(self.sound_gain)
            else:
                found = self.speech.limited_peak(key, speech_peak_db)
            self.peaks[(e.kind, key)] = found
        length = len(self.sounds.audio(key)) if e.kind == EventKind.SOUND else self.speech.length(key)
        return found if length <= e.end - e.start else math.inf  # cut short: an edge of its own, not bounded

    def layers(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Speech and cue sounds of samples ``[start, stop)``, unscaled, as two float32 arrays."""
        speech = np.zeros(stop - start, dtype=np.float32)
        sounds = np.zeros(stop - start, dtype=np.float32)
        first = bisect.bisect_right(self.starts, start - self.longest)
        last = bisect.bisect_left(self.starts, stop)
        for i in range(first, last):
            e = self.events[i]
            if e.end <= start:
                continue
            audio = self._audio(i)
            a, b = max(start, e.start), min(stop, e.start + len(audio))
            if a < b:
                layer = speech if e.kind == EventKind.SPEECH else sounds
                layer[a - start : b - start] += audio[a - e.start : b - e.start]
        # Forget what has finished sounding; blocks move forward, so it is not needed again.
        for i in [i for i in self.active if self.events[i].end <= start]:
            del self.active[i]
        return speech, sounds

    def bed_layer(self, start: int, stop: int) -> np.ndarray | None:
        """The bed of samples ``[start, stop)``, ducked and unscaled (None: no bed)."""
        return self.bed.samples(start, stop) if self.bed is not None else None

    def render(self, start: int, stop: int) -> np.ndarray:
        """The mix of samples ``[start, stop)``: ``gain * (speech + sound_gain * sounds + bed_gain * bed)``, float32."""
        speech, sounds = self.layers(start, stop)
        sounds *= self.sound_gain
        speech += sounds
        if self.bed is not None:
            bed = self.bed.samples(start, stop)
            bed *= self.bed_gain
            speech += bed
        speech *= self.gain
        return speech


def block_ranges(plan: Timeline, block_s: float) -> Iterator[tuple[int, int]]:
    """``[start, stop)`` of consecutive blocks covering the whole session."""
    step = max(1, int(round(block_s * plan.sample_rate)))
    for start in range(0, plan.length, step):
        yield start, min(start + step, plan.length)


def render_blocks(rendition: Rendition, levels: Levels | None = None, *,
                  block_s: float = BLOCK_S) -> Iterator[np.ndarray]:
    """The session as consecutive float32 blocks of ``block_s`` seconds (the last may be shorter).

    Concatenated, the blocks are exactly ``plan.length`` samples, identical to ``render``.
    ``levels.speech_peak_db`` limits each utterance's true peak (dBFS, before the gains); see ``measure``.
    """
    renderer = Renderer(rendition, levels)
    for start, stop in block_ranges(rendition.plan, block_s):
        yield renderer.render(start, stop)


def layer_blocks(rendition: Rendition, *, block_s: float = BLOCK_S) -> Iterator[tuple[np.ndarray, ...]]:
    """Speech, cue sounds and (with a bed) the ducked bed as separate consecutive blocks, for
    measuring each layer's loudness."""
    renderer = Renderer(rendition)
    for start, stop in block_ranges(rendition.plan, block_s):
        speech_block, sound_block = renderer.layers(start, stop)
        bed_block = renderer.bed_layer(start, stop)
        yield (speech_block, sound_block) if bed_block is None else (speech_block, sound_block, bed_block)


def render(rendition: Rendition, levels: Levels | None = None) -> np.ndarray:
    """The whole session in one array (for tests and short sessions): ``plan.length`` float32 samples."""
    return Renderer(rendition, levels).render(0, rendition.plan.length)


def balance_of(rendition: Rendition) -> Balance:
    """Where the rendition's settings put the cue sounds and its bed against the voice."""
    bed = rendition.bed
    return Balance(rendition.settings.cue_level_lu, bed.level_lu if bed is not None else None)


def measure(rendition: Rendition, *, block_s: float = BLOCK_S, on_block: Callable[[int], None] | None = None,
            ceiling_dbtp: float = loudness.CEILING_DBTP) -> Levels:
    """First pass: the levels that bring this session to -16 LUFS, cues and bed under the voice, peaks in bounds.

    Sums the speech and cue layers' K-weighted energy per 100 ms for a ``loudness.LayerMeter``, event
    by event (``event_sums``; with a bed, which sounds everywhere, the layers rendered block by block),
    and profiles each distinct utterance's peaks; pass the same ``Mix.of(rendition)`` here and to
    ``mastered_blocks`` so each utterance is processed once.  ``on_block(samples_done)`` hears how far
    the pass has come, for progress.
    ``ceiling_dbtp`` is where the true peak of the result is to stay; the settings' ``cue_level_lu``
    and the bed's ``level_lu`` place the cues and the bed against the speech.
    """
    plan = rendition.plan
    speech = speech_layer(rendition.speech, plan.sample_rate)
    mixed = Mix(plan, speech, rendition.sounds, rendition.bed, rendition.settings)
    spoken = Counter(str(e.text) for e in plan.events if e.kind == EventKind.SPEECH)
    for text in spoken:  # fetched here, so the worker below only computes (the speech layer is not shared)
        speech.audio(text)
    # Profiling is numpy work that mostly lets go of the GIL: it runs beside the layer pass.
    with ThreadPoolExecutor(1, thread_name_prefix="profiles") as worker:
        profiling = worker.submit(lambda: [(speech.profile(text), count) for text, count in spoken.items()])
        if mixed.bed is None:  # the layers are their events: summed event by event, silence skipped
            meter = loudness.LayerMeter.of_sums(plan.sample_rate, 2, _event_sums(mixed, on_block))
        else:  # a bed sounds everywhere: the layers rendered and metered block by block
            meter, done = loudness.LayerMeter(plan.sample_rate, 3), 0
            for blocks in layer_blocks(mixed, block_s=block_s):
                meter.feed(*blocks)
                done += len(blocks[0])
                if on_block:
                    on_block(done)
        profiles = profiling.result()
    # The session's speech as one profile: each utterance's energy histogram times its events.
    spoken_energy = loudness.PeakProfile(np.sum([p.energy * n for p, n in profiles], axis=0), 0.0) if profiles else None
    total = spoken_energy.total if spoken_energy is not None else 0.0

    def kept(ceiling: float) -> float:
        return spoken_energy.energy_under(ceiling) / total if spoken_energy is not None and total > 0 else 1.0

    return meter.levels(kept if profiles else None, ceiling_dbtp, balance_of(rendition))


def _event_sums(rendition: Rendition, on_done: Callable[[int], None] | None) -> np.ndarray:
    """``LayerMeter``'s sums of the speech and cue layers, from the events (``event_sums``), no bed."""
    plan, speech, sounds = rendition.plan, rendition.speech, rendition.sounds

    def placed(e: Placed) -> event_sums.Placed:  # heard as ``Renderer._audio`` places it: cut to its span
        spoken = e.kind == EventKind.SPEECH
        key = str(e.text if spoken else e.sound)
        heard = len(speech.audio(key) if spoken else sounds.audio(key))
        return event_sums.Placed(e.start, 0 if spoken else 1, key, min(heard, e.end - e.start))

    return event_sums.event_sums([placed(e) for e in plan.events],
                                 lambda p: speech.audio(p.key) if p.layer == 0 else sounds.audio(p.key),
                                 plan.length, plan.sample_rate, 2, on_done)


def mastered_blocks(rendition: Rendition, levels: Levels, *, block_s: float = BLOCK_S) -> Iterator[np.ndarray]:
    """Second pass: the session at ``levels``, true peak under the ceiling, as consecutive float32 blocks."""
    renderer = Renderer(rendition, levels)
    plan = rendition.plan
    return loudness.limited_blocks(renderer.render, block_ranges(plan, block_s), plan.length, plan.sample_rate,
                                   levels.ceiling_dbtp, renderer.peak_bound)
