"""The loudness pass event by event gives the rendered pass's sums and levels, for any arrangement of events."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from tones import SOUNDS, ToneSpeech, tone_plan

from voiceguide import session
from voiceguide.audio import event_sums, loudness, mix
from voiceguide.script.library import builtin_dir, routines_in
from voiceguide.script.settings import Overrides
from voiceguide.timeline.events import Event, EventKind
from voiceguide.timeline.plan import SAMPLE_RATE

SR = SAMPLE_RATE
SUB = int(round(loudness.SUBBLOCK_S * SR))


def rendered_sums(rendition: mix.Rendition, block_s: float = mix.BLOCK_S) -> np.ndarray:
    """The sums of the pass that renders both layers and K-weights them block by block."""
    meter = loudness.LayerMeter(rendition.plan.sample_rate, 2)
    for blocks in mix.layer_blocks(rendition, block_s=block_s):
        meter.feed(*blocks)
    return np.concatenate(meter.sums, axis=1)


def assert_same_pass(rendition: mix.Rendition, monkeypatch: pytest.MonkeyPatch) -> None:
    """Event sums equal to the rendered ones within 1e-7 of the largest (the rendered layers add events
    that overlap in one layer in float32; the events are added K-weighted, in float64), and the same
    levels to 1e-6 dB."""
    expected = rendered_sums(rendition)
    found = mix._event_sums(rendition, None)
    assert found.shape == expected.shape
    assert np.abs(found - expected).max() <= 1e-7 * np.abs(expected).max()
    with_events = mix.measure(rendition)
    with monkeypatch.context() as m:
        m.setattr(mix, "_event_sums", lambda rendition, on_done: rendered_sums(rendition))
        rendered = mix.measure(rendition)
    for field in ("gain_db", "sound_gain_db", "speech_lufs", "speech_peak_db", "expected_lufs"):
        found_db, expected_db = getattr(with_events, field), getattr(rendered, field)
        assert found_db == expected_db or abs(found_db - expected_db) < 1e-6, field


@dataclass(frozen=True)
class Placed:
    """A plan made by hand: any events, any length."""

    sample_rate: int
    length: int
    events: tuple[Event, ...]


def speech(start: int, text: str, cut: int | None = None) -> Event:
    return Event(start, start + (cut or ToneSpeech().length(text)), EventKind.SPEECH, 0, text=text)


def sound(start: int, name: str) -> Event:
    return Event(start, start + SOUNDS.length(name), EventKind.SOUND, 0, sound=name)


def test_a_tone_session_sums_as_rendered(monkeypatch):
    assert_same_pass(mix.Mix(tone_plan(), ToneSpeech(), SOUNDS), monkeypatch)


@pytest.mark.parametrize("name", sorted(routines_in(builtin_dir())))
def test_every_builtin_sums_as_rendered(name, monkeypatch):
    rendition = session.prepare(name, Overrides(voice="test"))
    assert_same_pass(mix.Mix.of(rendition), monkeypatch)


@pytest.mark.real
def test_a_builtin_with_a_real_voice_sums_as_rendered(monkeypatch):
    """hibari's speech (padding trimmed, sentences of every length) with the built-in cues: the levels to 0.01 dB."""
    rendition = mix.Mix.of(session.prepare("standing-reset", Overrides(voice="hibari")))
    assert_same_pass(rendition, monkeypatch)


def test_overlapping_events_in_one_layer_and_across_layers(monkeypatch):
    """Speech over speech (a cross term inside the layer), cues under speech and over each other, chains of
    events whose ring-outs meet, events at sub-block edges and at sample 0."""
    events = (
        speech(0, "Exhale."), sound(1000, "exhale"), speech(3000, "Inhale slowly."), sound(SUB * 20, "tick"),
        sound(SUB * 20 + 500, "chime"), speech(SUB * 20 + 700, "Lift your hips and hold."),
        speech(SUB * 40, "Rest."), speech(SUB * 40 + 400, "Breathe in."),  # two voices at once
        sound(SUB * 80, "tick"), sound(SUB * 80 + SOUNDS.length("tick") // 3, "tick"),
        speech(SUB * 100 + 1, "Well done."),  # alone, one sample past an edge
        sound(SUB * 120 + SUB - 1, "chime"),  # one sample before an edge
    )
    events = tuple(sorted(events, key=lambda e: e.start))
    plan = Placed(SR, SUB * 140 + 17, events)
    assert_same_pass(mix.Mix(plan, ToneSpeech(), SOUNDS), monkeypatch)


def test_a_session_ending_mid_utterance_and_events_cut_to_their_span(monkeypatch):
    events = (speech(0, "Find a spot on the floor."), speech(SUB * 30, "Lie on your back.", cut=SUB * 3 + 5),
              sound(SUB * 30 + 10, "chime"), speech(SUB * 50, "Hold it there for a long breath."))
    for length in (SUB * 50 + SUB // 2, SUB * 51, SUB * 52 + 3, SUB * 30 + 200):
        kept = tuple(e for e in events if e.start < length)
        assert_same_pass(mix.Mix(Placed(SR, length, kept), ToneSpeech(), SOUNDS), monkeypatch)


def test_shorter_than_a_gating_block_and_silent(monkeypatch):
    assert_same_pass(mix.Mix(Placed(SR, SUB * 3 + 5, (speech(100, "Go."),)), ToneSpeech(), SOUNDS), monkeypatch)
    assert_same_pass(mix.Mix(Placed(SR, SUB * 40, ()), ToneSpeech(), SOUNDS), monkeypatch)
    assert_same_pass(mix.Mix(Placed(SR, SUB * 40, (speech(100, "Quiet now."),)), ToneSpeech(0.0), SOUNDS), monkeypatch)


@pytest.mark.parametrize("threads", [1, 2])
def test_each_distinct_sound_is_weighted_once_per_thread_and_silence_not_at_all(monkeypatch, threads):
    weighted: list[int] = []
    real = event_sums.weighted_with_ring

    def counting(samples, sample_rate):
        weighted.append(len(samples))
        return real(samples, sample_rate)

    monkeypatch.setattr(event_sums, "weighted_with_ring", counting)
    monkeypatch.setattr(event_sums, "TWO_THREADS_S", math.inf if threads == 1 else 0.0)
    monkeypatch.setattr(event_sums, "KEPT_BYTES", 2**40)  # room to keep everything (see the next test)
    plan = tone_plan()
    sums = mix._event_sums(mix.Mix(plan, ToneSpeech(), SOUNDS), None)
    distinct = {(e.kind, e.text, e.sound, e.end - e.start) for e in plan.events}
    assert len(distinct) <= len(weighted) <= threads * len(distinct) and len(weighted) < len(plan.events)
    heard = sum(e.end - e.start for e in plan.events)
    assert sum(weighted) < heard < plan.length
    expected = rendered_sums(mix.Mix(plan, ToneSpeech(), SOUNDS))
    assert np.abs(sums - expected).max() <= 1e-7 * np.abs(expected).max()


def test_with_nothing_kept_between_events_the_sums_are_the_same(monkeypatch):
    """Weighted audio kept for later events is bounded (``KEPT_BYTES``): what is let go is weighted again."""
    weighted: list[int] = []
    real = event_sums.weighted_with_ring
    monkeypatch.setattr(event_sums, "weighted_with_ring", lambda *a: weighted.append(1) or real(*a))
    plan = tone_plan()
    kept = mix._event_sums(mix.Mix(plan, ToneSpeech(), SOUNDS), None)
    times = len(weighted)
    monkeypatch.setattr(event_sums, "KEPT_BYTES", 0)
    assert np.array_equal(mix._event_sums(mix.Mix(plan, ToneSpeech(), SOUNDS), None), kept)
    assert times < len(weighted) - times <= len(plan.events)


def test_progress_reaches_the_end():
    plan = tone_plan()
    seen: list[int] = []
    mix.measure(mix.Mix(plan, ToneSpeech(), SOUNDS), on_block=seen.append)
    assert seen == sorted(seen) and seen[-1] == plan.length


def test_a_bed_keeps_the_rendered_pass():
    """A bed sounds everywhere: its sums come from the rendered layers, and the voice is where it was."""
    plain = session.prepare("standing-reset", Overrides(voice="test"))
    bedded = session.prepare("standing-reset", Overrides(voice="test", bed="brown"))
    assert bedded.bed is not None
    levels = mix.measure(mix.Mix.of(bedded))
    assert levels.bed_gain_db != 0.0
    assert abs(levels.speech_lufs - mix.measure(mix.Mix.of(plain)).speech_lufs) < 1e-6
