"""Sentences an engine has made, kept so that one said in many texts is made once.

A session says a few short sentences again and again in different texts ("Lift.", "Exhale,
flatten.", the counts): in ``lower-back-and-hips`` 160 sentences are 109 different ones, and every one
said again is at most 61 phoneme letters long (hibari's and Piper's alike).  An engine that makes
speech a sentence at a time keeps the short ones here, by what decides their sound (its phonemes and
speed), and joins them into the texts that say them.  Safe to use from the threads that make a cold
session's speech at once.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Final

import numpy as np

MAX_PHONEMES: Final = 64
"""Sentences up to this many phonemes are kept: every one this session says again, and few others."""
MAX_S: Final = 300.0
"""At most this much kept audio per voice (14 MB of 16-bit samples at 24 kHz): a long batch stays bounded."""


class Sentences:
    """Short sentences made so far, by key; see the module docstring."""

    def __init__(self, sample_rate: int, *, max_phonemes: int = MAX_PHONEMES, max_s: float = MAX_S) -> None:
        self.max_phonemes = max_phonemes
        self.max_samples = int(max_s * sample_rate)
        self._kept: dict[Hashable, np.ndarray] = {}
        self._samples = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> np.ndarray | None:
        """The sentence kept under ``key``, or None (then make it, and ``keep`` it)."""
        with self._lock:
            return self._kept.get(key)

    def keep(self, key: Hashable, phonemes: int, audio: np.ndarray) -> np.ndarray:
        """``audio`` (a sentence of ``phonemes`` phonemes) made read-only and, when short enough and there is
        room, kept under ``key``; returned either way."""
        audio.setflags(write=False)  # handed out as it is, to every text that says it
        if phonemes <= self.max_phonemes:
            with self._lock:
                if key not in self._kept and self._samples + audio.size <= self.max_samples:
                    self._kept[key] = audio
                    self._samples += audio.size
        return audio

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)

    @property
    def samples(self) -> int:
        """How many samples are kept, all sentences together."""
        with self._lock:
            return self._samples
