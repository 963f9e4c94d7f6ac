"""A deterministic engine for tests: known lengths, no randomness, no dependencies.

Each utterance is a soft 220 Hz tone lasting ``0.2 + 0.05 * len(text)`` seconds, divided by the
rate.  Plans built with it can be checked to the sample (``TestEngine.length_samples``).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from ...script.settings import SAMPLE_RATE
from .base import Audio, Engine, VoiceInfo, VoiceSettings

BASE_S: Final = 0.2
PER_CHAR_S: Final = 0.05
TONE_HZ: Final = 220.0
LEVEL: Final = 0.25
FADE_S: Final = 0.01


class TestEngine(Engine):
    name = "test"
    description = "deterministic tones of known length, for tests"
    __test__ = False  # not a pytest class
    speaks_words = False

    @staticmethod
    def length_samples(text: str, rate: float = 1.0, sample_rate: int = SAMPLE_RATE) -> int:
        return int(round(sample_rate * (BASE_S + PER_CHAR_S * len(text)) / rate))

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        n = self.length_samples(text, settings.rate)
        t = np.arange(n) / SAMPLE_RATE
        tone = LEVEL * np.sin(2 * np.pi * TONE_HZ * t)
        fade = min(int(FADE_S * SAMPLE_RATE), n // 2)
        if fade:
            ramp = np.linspace(0.0, 1.0, fade)
            tone[:fade] *= ramp
            tone[n - fade :] *= ramp[::-1]
        return Audio((tone * 32767).astype(np.int16), SAMPLE_RATE)

    def version(self, settings: VoiceSettings) -> str:
        return "test-1"

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("tone", "220 Hz tone", default=True)]
