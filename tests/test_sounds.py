"""Cue sounds: soft, click-free, levelled, clearly different; a script's own files decoded through pydub."""

from __future__ import annotations

import itertools
import wave

import lameenc
import numpy as np
import pytest

from voiceguide.audio.loudness import SOUND_LUFS, momentary_max_lufs
from voiceguide.audio.sounds import MAX_PEAK, SoundBank
from voiceguide.errors import AudioError
from voiceguide.script.routine import SOUND_NAMES

SR = 22050


@pytest.fixture(scope="module")
def bank():
    return SoundBank(SR)


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), n=1 << 16))
    return float(np.argmax(spectrum) * SR / (1 << 16))


def early_late_hz(samples: np.ndarray) -> tuple[float, float]:
    """Dominant pitch of the first and last 40 % (weighted to where the sound is)."""
    n = len(samples)
    return dominant_hz(samples[: int(0.4 * n)]), dominant_hz(samples[int(0.6 * n) :])


@pytest.mark.parametrize("name", SOUND_NAMES)
def test_every_sound_is_soft_levelled_and_starts_and_ends_at_silence(bank, name):
    audio = bank.audio(name)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert bank.length(name) == len(audio) > 0
    assert abs(momentary_max_lufs(audio, SR) - SOUND_LUFS) < 0.05
    assert np.abs(audio).max() <= MAX_PEAK
    assert abs(audio[0]) < 1e-6 and abs(audio[-1]) < 1e-4  # nothing to click at either end


@pytest.mark.parametrize("name", SOUND_NAMES)
def test_no_clicks_no_energy_where_the_tones_have_none(bank, name):
    """Every partial is under 3 kHz; a click or a hard edge would spread energy above 5 kHz."""
    audio = bank.audio(name).astype(np.float64)
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / SR)
    assert power[freqs > 5000].sum() < 1e-4 * power.sum()


def test_attacks_are_gentle(bank):
    """No sound reaches its peak in under 3 ms: soft onsets, never startling."""
    for name in SOUND_NAMES:
        audio = np.abs(bank.audio(name))
        assert np.argmax(audio > 0.5 * audio.max()) >= int(0.003 * SR), name


def test_the_sounds_say_what_they_mean(bank):
    pitch = {name: early_late_hz(bank.audio(name)) for name in SOUND_NAMES}
    length = {name: bank.length(name) / SR for name in SOUND_NAMES}
    assert pitch["inhale"][1] > 1.15 * pitch["inhale"][0]  # rising
    assert pitch["exhale"][1] < 0.85 * pitch["exhale"][0]  # falling
    assert pitch["start"][1] > 1.1 * pitch["start"][0]  # two notes up ...
    assert pitch["release"][1] < 0.9 * pitch["release"][0]  # ... and down
    assert length["tick"] == min(length.values()) < 0.25  # a count is short
    assert length["bell"] == max(length.values()) >= 2.5  # the end rings out
    assert dominant_hz(bank.audio("bell")) < dominant_hz(bank.audio("chime"))  # lower than a step's chime


def test_the_sounds_are_clearly_different_from_each_other(bank):
    """Each pair differs in length by a quarter, or in pitch by a semitone at its start or end."""
    features = {name: (bank.length(name) / SR, *early_late_hz(bank.audio(name))) for name in SOUND_NAMES}
    semitone = 2 ** (1 / 12)
    for a, b in itertools.combinations(SOUND_NAMES, 2):
        (la, ea, za), (lb, eb, zb) = features[a], features[b]
        differs = (max(la, lb) / min(la, lb) > 1.25 or max(ea, eb) / min(ea, eb) > semitone
                   or max(za, zb) / min(za, zb) > semitone)
        assert differs, (a, b, features[a], features[b])


def test_sounds_are_made_once(bank):
    assert bank.audio("chime") is bank.audio("chime")
    with pytest.raises(ValueError):
        bank.audio("chime")[0] = 1.0  # shared, so read-only


def test_built_in_sounds_are_made_once_per_process_and_rate(tmp_path):
    """Every session of a batch (or of ``serve``) has a bank of its own; the built-ins are made once."""
    first, second = SoundBank(22050), SoundBank(22050, {"tick": str(tmp_path / "unused.wav")})
    assert first.audio("chime") is second.audio("chime")
    assert SoundBank(24000).audio("chime") is not first.audio("chime")
    assert len(SoundBank(24000).audio("chime")) == first.length("chime") * 24000 // 22050


def test_unknown_sound_is_an_error(bank):
    with pytest.raises(AudioError, match="'gong'.*chime"):
        bank.audio("gong")


# --------------------------------------------------------------------------- replacements


def write_wav(path, samples: np.ndarray, rate: int, channels: int = 1) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    if channels == 2:
        pcm = np.repeat(pcm, 2)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def bowl(rate: int, quiet_before_s: float = 0.0) -> np.ndarray:
    t = np.arange(int(1.5 * rate)) / rate
    tone = 0.8 * np.sin(2 * np.pi * 300 * t) * np.exp(-t / 0.5)
    return np.concatenate([np.zeros(int(quiet_before_s * rate)), tone])


def test_a_stereo_44k_wav_replaces_a_sound_at_the_built_in_level(tmp_path):
    path = tmp_path / "bowl.wav"
    write_wav(path, bowl(44100, quiet_before_s=0.3), 44100, channels=2)
    bank = SoundBank(SR, {"chime": str(path)})
    audio = bank.audio("chime")
    assert audio.dtype == np.float32
    assert abs(len(audio) / SR - 1.5) < 0.01  # mono at the session rate, leading quiet trimmed off
    assert abs(momentary_max_lufs(audio, SR) - SOUND_LUFS) < 0.05
    assert abs(dominant_hz(audio) - 300) < 3
    assert abs(audio[0]) < 1e-3  # the abrupt start is faded in
    assert np.array_equal(bank.audio("bell"), SoundBank(SR).audio("bell"))  # the others stay built in


def test_an_mp3_replacement_decodes_through_ffmpeg(tmp_path):
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64)
    encoder.set_in_sample_rate(SR)
    encoder.set_channels(1)
    encoder.set_quality(2)
    pcm = (bowl(SR) * 32767).astype(np.int16)
    path = tmp_path / "bowl.mp3"
    path.write_bytes(bytes(encoder.encode(pcm.tobytes())) + bytes(encoder.flush()))
    audio = SoundBank(SR, {"bell": str(path)}).audio("bell")
    assert abs(momentary_max_lufs(audio, SR) - SOUND_LUFS) < 0.05
    assert abs(dominant_hz(audio) - 300) < 3


def test_a_file_that_cannot_be_decoded_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(AudioError) as error:
        SoundBank(SR, {"tick": str(path)}).audio("tick")
    message = str(error.value)
    assert repr(str(path)) in message and "ffmpeg" in message and "sounds:" in message


def test_a_missing_or_silent_file_is_an_error(tmp_path):
    with pytest.raises(AudioError, match="does not exist"):
        SoundBank(SR, {"tick": str(tmp_path / "nowhere.wav")}).audio("tick")
    silent = tmp_path / "silent.wav"
    write_wav(silent, np.zeros(SR), SR)
    with pytest.raises(AudioError, match="silent"):
        SoundBank(SR, {"tick": str(silent)}).audio("tick")


@pytest.mark.parametrize("rate", [22050, 44100, 16000])
def test_a_built_in_sounds_length_is_known_without_making_it(rate):
    lengths = SoundBank(rate)
    made = SoundBank(rate)
    for name in SOUND_NAMES:
        assert lengths.length(name) == len(made.audio(name)), name
    assert lengths._made == {}  # planning made nothing
