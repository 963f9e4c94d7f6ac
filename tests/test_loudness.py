"""Loudness: our BS.1770 meter against ffmpeg's ebur128, and sessions that come out at -16 LUFS, <= -1 dBTP."""

from __future__ import annotations

import re
import subprocess
import wave

import numpy as np
import pytest
from tones import SOUNDS, ToneSpeech, tone_plan

from voiceguide.audio import loudness, mix
from voiceguide.timeline.plan import SAMPLE_RATE

SR = SAMPLE_RATE


def ebur128(path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) as ffmpeg measures them."""
    out = subprocess.run(["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    summary = out[out.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return integrated, peak


def write_wav(path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2").tobytes())


def noise_with_quiet_and_loud_parts(seconds: float = 20.0) -> np.ndarray:
    x = np.random.default_rng(7).standard_normal(int(seconds * SR)) * 0.05
    x[5 * SR : 8 * SR] *= 0.01  # gated out
    x[12 * SR : 13 * SR] *= 4
    return x


def test_meter_matches_ffmpeg_fed_in_odd_blocks(tmp_path):
    x = noise_with_quiet_and_loud_parts()
    meter = loudness.LayerMeter(SR)
    for start in range(0, len(x), 12_345):
        block = x[start : start + 12_345]
        meter.feed(block, np.zeros_like(block))
    path = tmp_path / "noise.wav"
    write_wav(path, x)
    integrated, peak = ebur128(path)
    assert abs(meter.loudness(1.0, 0.0) - integrated) < 0.1
    assert abs(loudness.true_peak_dbtp(x) - peak) < 0.3


def test_the_mix_loudness_is_known_for_any_layer_gains_without_rendering_again():
    x = noise_with_quiet_and_loud_parts(8.0)
    y = np.sin(2 * np.pi * 700 * np.arange(len(x)) / SR) * 0.1
    meter = loudness.LayerMeter(SR)
    meter.feed(x, y)
    direct = loudness.LayerMeter(SR)
    direct.feed(0.5 * x + 2.0 * y, np.zeros_like(x))
    assert abs(meter.loudness(0.5, 2.0) - direct.loudness(1.0, 0.0)) < 1e-9


@pytest.fixture(scope="module")
def mastered_tones() -> tuple[mix.Levels, np.ndarray]:
    """The tone session at the engine's own level, measured and mastered once (read-only) for the tests
    that only read it."""
    plan, speech = tone_plan(), ToneSpeech()
    levels = mix.measure(mix.Mix(plan, speech, SOUNDS))
    out = np.concatenate(list(mix.mastered_blocks(mix.Mix(plan, speech, SOUNDS), levels)))
    out.flags.writeable = False
    return levels, out


def test_a_tone_session_comes_out_at_target_with_cues_under_the_voice(tmp_path, mastered_tones):
    plan, speech = tone_plan(), ToneSpeech()
    levels, out = mastered_tones
    assert abs(levels.expected_lufs - loudness.TARGET_LUFS) < 0.01
    assert len(out) == plan.length
    path = tmp_path / "session.wav"
    write_wav(path, out)
    integrated, peak = ebur128(path)
    assert abs(integrated - loudness.TARGET_LUFS) < 0.3
    assert peak <= -1.0
    # The cue sounds' loudness is SOUNDS_BELOW_SPEECH_LU under the speech's, as mixed.
    speech_layer, sound_layer = mix.Renderer(mix.Mix(plan, speech, SOUNDS)).layers(0, plan.length)
    meter = loudness.LayerMeter(SR)
    meter.feed(speech_layer, sound_layer)
    chime = loudness.momentary_max_lufs(SOUNDS.audio("chime"), SR) + levels.sound_gain_db
    assert abs(meter.loudness(1, 0) - loudness.SOUNDS_BELOW_SPEECH_LU - chime) < 0.01


def test_the_result_does_not_depend_on_how_loud_the_engine_speaks(mastered_tones):
    plan, speech = tone_plan(), ToneSpeech(0.1)
    levels = mix.measure(mix.Mix(plan, speech, SOUNDS))
    quiet = np.concatenate(list(mix.mastered_blocks(mix.Mix(plan, speech, SOUNDS), levels)))
    assert np.allclose(quiet, mastered_tones[1], atol=1e-4)  # the engine at a tenth of its level, and at its own


def test_loud_transients_are_limited_under_the_ceiling(tmp_path):
    """Speech with sharp peaks high above its loudness: the limiter keeps the true peak under -1 dBTP."""

    class Spiky(ToneSpeech):
        def audio(self, text):
            audio = super().audio(text)
            audio[::997] = 0.99 * np.sign(audio[::997] + 1e-9)  # spikes far above the tone
            return audio

    plan, speech = tone_plan(), Spiky()
    levels = mix.measure(mix.Mix(plan, speech, SOUNDS))
    out = np.concatenate(list(mix.mastered_blocks(mix.Mix(plan, speech, SOUNDS), levels, block_s=3.0)))
    assert loudness.true_peak_dbtp(out) <= loudness.CEILING_DBTP + 0.01
    path = tmp_path / "spiky.wav"
    write_wav(path, out)
    integrated, peak = ebur128(path)
    assert peak <= -1.0
    assert abs(integrated - loudness.TARGET_LUFS) < 1.0


def test_the_limiter_never_lets_a_peak_through_and_moves_in_ramps():
    x = np.zeros(20_000)
    x[[3000, 3100, 9000]] = [2.0, -1.5, 0.9]
    gain = loudness.limiter_gain(x, SR, 0.5)
    wanted = np.minimum(1.0, 0.5 / np.maximum(loudness.true_peak(x), 1e-12))
    assert np.all(gain <= wanted + 1e-12)
    ramp = round(loudness.LIMITER_LOOKAHEAD_S * SR)
    assert np.abs(np.diff(gain)).max() <= 1.0 / ramp + 1e-6  # never faster than a full ramp: no steps, no clicks
    assert gain[0] == 1.0 and gain[-1] == 1.0


def test_limited_blocks_do_not_depend_on_block_edges():
    class Loud(ToneSpeech):
        def audio(self, text):
            return np.clip(super().audio(text) * 6, -0.95, 0.95).astype(np.float32)  # squared-off: peaky

    plan, speech = tone_plan(), Loud()
    levels = mix.measure(mix.Mix(plan, speech, SOUNDS))
    a = np.concatenate(list(mix.mastered_blocks(mix.Mix(plan, speech, SOUNDS), levels, block_s=10.0)))
    b = np.concatenate(list(mix.mastered_blocks(mix.Mix(plan, speech, SOUNDS), levels, block_s=0.73)))
    assert np.allclose(a, b, atol=1e-6)
    assert np.abs(a).max() < 10 ** (loudness.CEILING_DBTP / 20) + 1e-6


def test_silence_gets_no_gain():
    from voiceguide.script.routine import Routine

    plan = tone_plan(Routine(title="Quiet", steps=(), caution=False))
    quiet = type("Quiet", (), {"length": lambda self, t: 0, "audio": lambda self, t: np.zeros(0, np.float32)})()
    levels = mix.measure(mix.Mix(plan, ToneSpeech(), type(SOUNDS)(SR)))
    assert levels.gain_db <= loudness.MAX_GAIN_DB
    assert mix.measure(mix.Mix(plan, quiet, SOUNDS)).speech_lufs == -np.inf


@pytest.mark.parametrize("sample_rate", [16000, 22050, 44100, 48000])
def test_k_weighting_at_any_rate_matches_ffmpeg(tmp_path, sample_rate):
    t = np.arange(5 * sample_rate) / sample_rate
    x = 0.3 * np.sin(2 * np.pi * 100 * t) + 0.1 * np.sin(2 * np.pi * 5000 * t)
    meter = loudness.LayerMeter(sample_rate)
    meter.feed(x, np.zeros_like(x))
    path = tmp_path / "tones.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.rint(x * 32767).astype("<i2").tobytes())
    assert abs(meter.loudness(1, 0) - ebur128(path)[0]) < 0.1


def test_true_peak_with_a_floor_is_exact_wherever_it_could_reach_the_floor():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(5 * SR) * 0.02).astype(np.float32)
    loud = rng.choice(len(x), 40, replace=False)
    x[loud] = rng.choice([-0.9, 0.9], 40)  # a few isolated clicks, inter-sample peaks around them
    x[:3], x[-3:] = 0.95, -0.95  # at both ends too
    dense, floor = loudness.true_peak(x), 0.5
    sparse = loudness.true_peak(x, floor)
    over = dense > floor
    assert over.sum() > 40  # the neighbours of the clicks overshoot too
    np.testing.assert_allclose(sparse[over], dense[over], rtol=1e-3)
    assert np.all(sparse[~over] <= floor)


def test_no_interpolated_point_overshoots_the_samples_by_more_than_the_margin():
    # the worst case: samples of alternating sign weighted as the interpolator's taps are
    signs = np.sign(loudness._PHASES[:, np.argmax(np.abs(loudness._PHASES).sum(axis=0))])
    x = (signs * 0.5).astype(np.float32)
    assert loudness.true_peak(x).max() == pytest.approx(0.5 * loudness._OVERSHOOT, rel=1e-5)
    noise = np.random.default_rng(4).standard_normal(SR).astype(np.float32)
    assert loudness.true_peak(noise).max() <= np.abs(noise).max() * loudness._OVERSHOOT


def test_limiting_around_the_peaks_over_gives_the_whole_limiter_result():
    rng = np.random.default_rng(5)
    for trial in range(30):  # clicks alone, clicks in clusters, over at both ends
        n = int(rng.integers(100, 50_000))
        x = (rng.standard_normal(n) * 0.05).astype(np.float32)
        clicks = rng.choice(n, int(rng.integers(1, 30)))
        x[clicks] = rng.choice([-1.2, 1.2], len(clicks))
        if trial % 3 == 0:
            x[:5], x[-5:] = 1.3, -1.3
        whole = (x * loudness.limiter_gain(x, SR, 0.7)).astype(np.float32)  # the gain worked out everywhere
        np.testing.assert_allclose(loudness.limited(x, SR, 0.7), whole, atol=1e-6)
