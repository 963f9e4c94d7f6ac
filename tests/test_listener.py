"""An independent listener hears each cue as itself, not as a distractor, in order, for every real engine."""

from __future__ import annotations

import numpy as np
import pytest
from listener import recognise, words

from voiceguide.voice.speech import Speech

CUES = ["Lie on your back.", "Bend your knees.", "Breathe in slowly.", "Hold for thirty seconds.", "And release."]
DISTRACTORS = ["Stand up straight.", "Lift your left arm.", "Breathe out quickly.", "Hold for ten seconds.", "Turn around."]
GAP = np.zeros(int(0.8 * 22050), dtype=np.float32)


@pytest.fixture(scope="module", params=["piper", "hibari", "system"])
def voice(request, tmp_path_factory):
    return Speech(request.param, cache_dir=tmp_path_factory.mktemp("listener-cache"))


def test_each_cue_is_heard_as_itself(voice):
    for cue in CUES:
        assert recognise(voice.audio(cue), voice.sample_rate, CUES + DISTRACTORS) == " ".join(words(cue))


def test_a_sequence_of_cues_is_heard_in_order(voice):
    session = np.concatenate([part for cue in reversed(CUES) for part in (voice.audio(cue), GAP)])
    heard = recognise(session, voice.sample_rate, CUES + DISTRACTORS)
    assert heard == " ".join(" ".join(words(cue)) for cue in reversed(CUES))


def test_markup_in_a_cue_is_not_spoken_as_markup(voice):
    audio = voice.audio('Bend <emphasis level="strong">your</emphasis> knees.<break time="1s"/>')
    prompts = CUES + DISTRACTORS + ["Bend your knees emphasis level strong"]
    assert recognise(audio, voice.sample_rate, prompts) == "bend your knees"


def test_a_distractor_spoken_is_heard_as_that_distractor(voice):
    """The listener discriminates both ways: it is not just answering with the cues."""
    for distractor in DISTRACTORS[:2]:
        heard = recognise(voice.audio(distractor), voice.sample_rate, CUES + DISTRACTORS)
        assert heard == " ".join(words(distractor))
