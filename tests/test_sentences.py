"""The sentences an engine keeps: short ones only, within a bound, handed out unchanged."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from voiceguide.voice.engines.sentences import MAX_PHONEMES, Sentences


def test_a_short_sentence_is_kept_and_handed_out_read_only():
    kept = Sentences(24000)
    audio = np.arange(100, dtype=np.int16)
    assert kept.get("lift") is None
    assert kept.keep("lift", 6, audio) is audio
    assert kept.get("lift") is audio and len(kept) == 1 and kept.samples == 100
    with pytest.raises(ValueError):
        kept.get("lift")[0] = 1


def test_a_long_sentence_is_not_kept_but_still_returned():
    kept = Sentences(24000)
    audio = np.ones(100, dtype=np.int16)
    assert kept.keep("long", MAX_PHONEMES + 1, audio) is audio and not audio.flags.writeable
    assert kept.get("long") is None and kept.samples == 0
    kept.keep("edge", MAX_PHONEMES, audio.copy())
    assert kept.get("edge") is not None


def test_what_is_kept_stays_within_its_bound():
    kept = Sentences(1000, max_s=1.0)  # 1000 samples in all
    for n in range(5):
        kept.keep(n, 3, np.zeros(300, dtype=np.int16))
    assert len(kept) == 3 and kept.samples == 900
    kept.keep("small", 3, np.zeros(100, dtype=np.int16))  # still fits
    assert kept.samples == 1000 and kept.get(4) is None


def test_the_first_sentence_kept_under_a_key_stays_when_two_threads_make_it():
    kept = Sentences(24000)
    made = [np.full(10, n, dtype=np.int16) for n in range(8)]
    with ThreadPoolExecutor(4) as pool:
        returned = list(pool.map(lambda audio: kept.keep("same", 4, audio), made))
    first = kept.get("same")
    assert len(kept) == 1 and kept.samples == 10 and any(first is audio for audio in made)
    assert [r is a for r, a in zip(returned, made)] == [True] * 8  # each caller gets what it made
