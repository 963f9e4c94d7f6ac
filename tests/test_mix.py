"""The mixer: every event at its plan sample, blocks that add up to the whole, memory that stays flat."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from tones import SOUNDS, ToneSpeech, long_routine, tone_plan

from voiceguide.audio import mix
from voiceguide.audio.loudness import Levels
from voiceguide.timeline.plan import SAMPLE_RATE


def gains(gain_db: float, *, sound_gain_db: float) -> Levels:
    """Levels that only scale: the whole mix by ``gain_db``, the cue sounds by ``sound_gain_db`` more."""
    return Levels(speech_lufs=-16.0, speech_peak_db=None, sound_gain_db=sound_gain_db, gain_db=gain_db,
                  expected_lufs=-16.0)


def naive_layers(plan, speech, sounds) -> tuple[np.ndarray, np.ndarray]:
    """The obvious whole-array mix, to compare the block renderer against."""
    layers = {"speech": np.zeros(plan.length, np.float32), "sound": np.zeros(plan.length, np.float32)}
    for e in plan.events:
        audio = speech.audio(e.text) if e.kind == "speech" else sounds.audio(e.sound)
        layers[e.kind][e.start : e.end] += audio[: e.end - e.start]
    return layers["speech"], layers["sound"]


def test_total_length_is_the_plan_length_exactly():
    plan = tone_plan()
    assert len(mix.render(mix.Mix(plan, ToneSpeech(), SOUNDS))) == plan.length
    assert sum(len(b) for b in mix.render_blocks(mix.Mix(plan, ToneSpeech(), SOUNDS), block_s=0.37)) == plan.length


def test_every_event_is_at_its_plan_sample():
    plan, speech = tone_plan(), ToneSpeech()
    speech_layer, sound_layer = mix.Renderer(mix.Mix(plan, speech, SOUNDS)).layers(0, plan.length)
    expected_speech, expected_sounds = naive_layers(plan, speech, SOUNDS)
    assert np.array_equal(speech_layer, expected_speech)
    assert np.array_equal(sound_layer, expected_sounds)
    for e in plan.events:
        if e.kind == "speech":  # speech never overlaps speech: each utterance is there untouched
            assert np.array_equal(speech_layer[e.start : e.end], speech.audio(e.text))
            assert speech_layer[e.start - 1] == 0 or any(o.end == e.start for o in plan.events if o.kind == "speech")


@pytest.mark.parametrize("block_s", [0.01, 0.37, 10.0, 10_000.0])
def test_blocks_concatenate_to_the_whole_render_exactly(block_s):
    plan = tone_plan()
    whole = mix.render(mix.Mix(plan, ToneSpeech(), SOUNDS), gains(-3.0, sound_gain_db=2.0))
    blocks = list(mix.render_blocks(mix.Mix(plan, ToneSpeech(), SOUNDS), gains(-3.0, sound_gain_db=2.0), block_s=block_s))
    assert all(b.dtype == np.float32 for b in blocks)
    assert np.array_equal(np.concatenate(blocks), whole)


def test_gains_scale_the_whole_mix_and_the_sounds():
    plan, speech = tone_plan(), ToneSpeech()
    speech_layer, sound_layer = naive_layers(plan, speech, SOUNDS)
    mixed = mix.render(mix.Mix(plan, speech, SOUNDS), gains(-6.0, sound_gain_db=-10.0))
    expected = 10 ** (-6 / 20) * (speech_layer + 10 ** (-10 / 20) * sound_layer)
    assert np.allclose(mixed, expected, atol=1e-6)


def test_sounds_sit_below_the_voice_by_default():
    """With no loudness pass at all, cue sounds are quieter than speech at the speech layer's level."""
    from voiceguide.audio.loudness import momentary_max_lufs

    speech_lufs = momentary_max_lufs(ToneSpeech().audio("A typical sentence of guidance."), SAMPLE_RATE)
    for name in ("chime", "bell", "tick", "inhale"):
        assert momentary_max_lufs(SOUNDS.audio(name), SAMPLE_RATE) < speech_lufs - 3


def test_a_block_fetches_only_the_audio_it_overlaps():
    plan, speech = tone_plan(), ToneSpeech()
    renderer = mix.Renderer(mix.Mix(plan, speech, SOUNDS))
    first = plan.events[0]
    renderer.layers(0, first.start)  # the quiet lead-in
    assert speech.calls == 0 and not renderer.active
    for start, stop in mix.block_ranges(plan, 1.0):
        renderer.layers(start, stop)
        assert all(plan.events[i].end > start for i in renderer.active)  # finished events are let go
    spoken = [e for e in plan.events if e.kind == "speech"]
    assert speech.calls <= 2 * len(spoken)  # at most once per block an utterance spans


def _peak_bytes_rendering(minutes: float) -> int:
    plan, speech = tone_plan(long_routine(minutes)), ToneSpeech()
    tracemalloc.start()
    try:
        for _ in mix.render_blocks(mix.Mix(plan, speech, SOUNDS)):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_session():
    short, long = _peak_bytes_rendering(2), _peak_bytes_rendering(20)
    assert long < 1.3 * short, (short, long)
