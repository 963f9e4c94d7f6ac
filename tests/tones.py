"""Shared test helpers: the deterministic test engine as a speech layer, cue sounds, and small
plans built from dataclasses (no YAML), for the mixer, loudness and export tests."""

from __future__ import annotations

import numpy as np

from voiceguide.audio.sounds import SoundBank
from voiceguide.errors import Location
from voiceguide.script.routine import Breathing, Phase, Routine, Span, Step
from voiceguide.timeline.plan import SAMPLE_RATE, build_plan
from voiceguide.voice.engines import VoiceSettings
from voiceguide.voice.engines.testing import TestEngine

HERE = Location("t.yaml", 1, 1)


class ToneSpeech:
    """The speech layer's two methods over the deterministic test engine, at ``level`` times its volume."""

    def __init__(self, level: float = 1.0):
        self.engine = TestEngine()
        self.level = level
        self.calls = 0

    def length(self, text: str) -> int:
        return TestEngine.length_samples(text)

    def audio(self, text: str) -> np.ndarray:
        self.calls += 1
        samples = self.engine.synthesize(text, VoiceSettings()).samples
        return (samples.astype(np.float32) / 32768 * self.level).astype(np.float32)


SOUNDS = SoundBank(SAMPLE_RATE)


class Lengths:
    def __init__(self, speech, sounds):
        self.speech, self.sound = speech.length, sounds.length


def step(kind: str, index: int, **fields) -> Step:
    return Step(kind, index, HERE, **fields)


ROUTINE = Routine(
    title="Mix test",
    summary="Two moves and a breath.",
    path="mix-test.yaml",
    intro=("Find a spot on the floor.",),
    outro=("Well done.",),
    steps=(
        step("reps", 0, name="Pelvic tilts", setup=("Lie on your back.",), reps=Span(3, 3, integer=True),
             cycle=(Phase("Exhale, flatten.", 4, short="Exhale.", sound="exhale"), Phase("Inhale.", 4, sound="tick"))),
        step("hold", 1, name="Hip opener", sides=("left", "right"), setup=("Kneel on your {side} knee.",),
             hold=Span(12, 12), breathe=Breathing(4, 4), reminders=("Ribs over hips.",)),
        step("breaths", 2, name="Slow breaths", breaths=Span(2, 2, integer=True), inhale=4, exhale=5),
    ),
)


def tone_plan(routine: Routine = ROUTINE, speech=None, sounds: SoundBank = SOUNDS, **options):
    return build_plan(routine, Lengths(speech or ToneSpeech(), sounds), **options)


def long_routine(minutes: float) -> Routine:
    """About ``minutes`` of repetitions, for memory and benchmark comparisons."""
    reps = max(1, int(minutes * 60 / 8))
    return Routine(title=f"{minutes:g} minutes", path="long.yaml", caution=False, steps=(
        step("reps", 0, name="Tilts", reps=Span(reps, reps, integer=True),
             cycle=(Phase("Exhale.", 4, sound="exhale"), Phase("Inhale.", 4, sound="inhale"))),
    ))
