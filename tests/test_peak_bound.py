"""True peaks bounded from the events: never under the mix's own, and mastering sample for sample the same."""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import pytest
from test_event_sums import Placed, sound, speech
from tones import SOUNDS, ToneSpeech, tone_plan

from voiceguide import session
from voiceguide.audio import loudness, mix
from voiceguide.script.settings import Overrides
from voiceguide.timeline.plan import SAMPLE_RATE

SR = SAMPLE_RATE
SUB = int(round(loudness.SUBBLOCK_S * SR))


def overlapping() -> mix.Mix:
    """Speech over speech, cues under speech and over each other, an utterance cut short by its span."""
    events = (speech(0, "Exhale."), sound(1000, "exhale"), speech(3000, "Inhale slowly."), sound(SUB * 20, "tick"),
              sound(SUB * 20 + 500, "chime"), speech(SUB * 20 + 700, "Lift your hips and hold."),
              speech(SUB * 40, "Rest."), speech(SUB * 40 + 400, "Breathe in."),
              speech(SUB * 60, "Lie on your back.", cut=SUB * 3 + 5), sound(SUB * 60 + 10, "bell"))
    return mix.Mix(Placed(SR, SUB * 90, tuple(sorted(events, key=lambda e: e.start))), ToneSpeech(), SOUNDS)


BUILT_INS = ["hip-hinge", "sitting-reset", "standing-reset"]
"""Real sessions, short ones: together every cue sound the built-ins play, and cues under speech.
lower-back-and-hips is the built-ins' steps in one 12-minute session and gentle-relief 7 minutes of
them: the bound is worked out block by block from the events within reach, so a longer session checks
nothing more, and their reference true peak (every sample interpolated, at two levels) cost more than
the rest of this module."""
LIMITED = "gentle-relief"
"""The built-in whose peaks reach the limiter when its cues are 14 dB louder: without such peaks mastering
is the same whatever the bound, so the mastering test mixes it too (and asserts that it is limited)."""
RENDITIONS = ["tones", "overlapping", *BUILT_INS]
"""What the tests mix, by name: made when a test first asks (``mixed``), never while the module is
collected, before the session's speech cache is set (it would have gone to the checkout's audio_cache/)."""


@functools.cache
def mixed(name: str) -> mix.Mix:
    """A value both tests only read, made once."""
    if name == "tones":
        return mix.Mix.of(mix.Mix(tone_plan(), ToneSpeech(), SOUNDS))
    if name == "overlapping":
        return mix.Mix.of(overlapping())
    return mix.Mix.of(session.prepare(name, Overrides(voice="test")))


def loud_cues(levels: loudness.Levels) -> loudness.Levels:
    """The cues 14 dB louder than measured: where they meet speech the mix goes over the ceiling."""
    return replace(levels, sound_gain_db=levels.sound_gain_db + 14.0)


@pytest.mark.parametrize("name", RENDITIONS)
def test_the_bound_is_never_under_the_true_peak_of_the_mix(name):
    rendition = mixed(name)
    for levels in (mix.measure(rendition), loud_cues(mix.measure(rendition))):
        renderer = mix.Renderer(rendition, levels)
        exact = loudness.true_peak(mix.render(rendition, levels))  # the whole session: no edges but its own
        for lo, hi in mix.block_ranges(rendition.plan, 3.7):
            bound = renderer.peak_bound(lo, hi)
            assert bound is not None and bound.start[0] == 0 and bound.stop[-1] == hi - lo
            assert np.array_equal(bound.start[1:], bound.stop[:-1])  # pieces cover the range, in order
            for a, b, level in zip(bound.start, bound.stop, bound.level):
                assert exact[lo + a : lo + b].max() <= level * (1 + 1e-6)


@pytest.mark.parametrize("name", [*RENDITIONS, LIMITED])
def test_mastering_with_the_bound_is_sample_for_sample_as_without(name, monkeypatch):
    rendition = mixed(name)
    for levels in (mix.measure(rendition), loud_cues(mix.measure(rendition))):
        bounded = np.concatenate(list(mix.mastered_blocks(rendition, levels)))
        with monkeypatch.context() as m:
            m.setattr(mix.Renderer, "peak_bound", lambda self, start, stop: None)
            unbounded = np.concatenate(list(mix.mastered_blocks(rendition, levels)))
        assert np.array_equal(bounded, unbounded)
    limited_somewhere = not np.array_equal(bounded, mix.render(rendition, levels))
    assert limited_somewhere or name not in ("overlapping", LIMITED)  # the loud cues did reach the limiter


def test_most_of_a_session_is_never_interpolated(monkeypatch):
    """Speech alone is limited under the ceiling already: only where cues meet it is the mix interpolated."""
    rendition = mix.Mix.of(session.prepare("standing-reset", Overrides(voice="test")))
    levels = mix.measure(rendition)
    interpolated = []
    real = loudness.true_peak

    def counting(samples, floor=0.0, could_reach=None):
        interpolated.append(len(samples) if could_reach is None else int(could_reach.sum()))
        return real(samples, floor, could_reach)

    monkeypatch.setattr(loudness, "true_peak", counting)
    for _ in mix.mastered_blocks(rendition, levels):
        pass
    assert sum(interpolated) < 0.2 * rendition.plan.length


def test_no_bound_under_a_bed():
    rendition = mix.Mix.of(session.prepare("standing-reset", Overrides(voice="test", bed="brown")))
    assert mix.Renderer(rendition, mix.measure(rendition)).peak_bound(0, 1000) is None
