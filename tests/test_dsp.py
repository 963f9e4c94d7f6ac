"""dsp: the numpy filters behind the loudness meter and limiter, against their definitions."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from voiceguide.audio import dsp, loudness


def sample_loop(sos: np.ndarray, x: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The biquad recursion written out sample by sample (transposed direct form II)."""
    y, state = np.array(x, dtype=np.float64), np.array(state, dtype=np.float64)
    for i, (b0, b1, b2, _, a1, a2) in enumerate(sos):
        z1, z2 = state[i]
        for n, v in enumerate(y):
            y[n] = out = b0 * v + z1
            z1, z2 = b1 * v - a1 * out + z2, b2 * v - a2 * out
        state[i] = z1, z2
    return y, state


@pytest.mark.parametrize("sample_rate", [8000, 22050, 48000])
@pytest.mark.parametrize("chunk", [1, 7, 32])
def test_biquads_follow_the_recursion_from_any_state(sample_rate, chunk):
    rng = np.random.default_rng(sample_rate + chunk)
    sos = loudness.k_weighting_sos(sample_rate)
    biquads = dsp.Biquads(sos, chunk)
    for length in [0, 1, chunk - 1, chunk, chunk + 1, 3001]:
        x, state = rng.standard_normal(max(length, 0)), rng.standard_normal((2, 2)) * 0.1
        want, want_state = sample_loop(sos, x, state)
        got, got_state = biquads.filter(x, state)
        scale = max(1.0, float(np.abs(want).max(initial=0)))
        assert np.abs(got - want).max(initial=0) < 1e-9 * scale
        assert np.abs(got_state - want_state).max() < 1e-9 * scale


@pytest.mark.parametrize("sample_rate", [8000, 22050, 48000])
def test_biquads_ring_out_as_the_recursion_does_in_silence(sample_rate):
    rng = np.random.default_rng(sample_rate)
    sos = loudness.k_weighting_sos(sample_rate)
    biquads = dsp.Biquads(sos)
    for length in [0, 1, 33, sample_rate // 4]:
        state = rng.standard_normal((2, 2)) * 0.1
        want, _ = sample_loop(sos, np.zeros(length), state)
        got = biquads.ring(state, length)
        assert len(got) == length and np.abs(got - want).max(initial=0) < 1e-10


def test_biquads_fed_in_odd_blocks_give_one_pass():
    biquads = dsp.Biquads(loudness.k_weighting_sos(22050))
    x = np.random.default_rng(1).standard_normal(50_000)
    whole, _ = biquads.filter(x)
    pieces, state = [], None
    for start in range(0, len(x), 4_321):
        piece, state = biquads.filter(x[start : start + 4_321], state)
        pieces.append(piece)
    assert np.abs(np.concatenate(pieces) - whole).max() < 1e-10  # the same up to rounding


@pytest.mark.parametrize("frequency_hz", [20, 100, 997, 5000, 15000])
def test_a_sine_comes_out_scaled_and_shifted_by_the_transfer_function(frequency_hz):
    sample_rate = 48000
    sos = loudness.k_weighting_sos(sample_rate)
    n = np.arange(2 * sample_rate)
    w = 2 * np.pi * frequency_hz / sample_rate
    y, _ = dsp.Biquads(sos).filter(np.cos(w * n))
    z = np.exp(-1j * w * np.arange(3))
    h = np.prod([(s[:3] @ z) / (s[3:] @ z) for s in sos])
    steady = n >= sample_rate  # the 38 Hz high pass has rung out long before
    assert np.abs(y[steady] - abs(h) * np.cos(w * n[steady] + np.angle(h))).max() < 1e-9


def test_k_weighting_lifts_997_hz_by_the_bs1770_offset():
    """BS.1770's -0.691 makes a full-scale 997 Hz sine read -3.01 LUFS: the filter's gain there is +0.691 dB."""
    sample_rate = 48000
    t = np.arange(3 * sample_rate) / sample_rate
    y = loudness.k_weighted(np.sin(2 * np.pi * 997 * t), sample_rate)[sample_rate:]
    gain_db = 10 * np.log10(np.mean(y * y) / 0.5)
    assert abs(gain_db - 0.691) < 0.01


def test_kaiser_lowpass_passes_below_and_stops_above_the_cutoff():
    h = dsp.kaiser_lowpass(49, 0.25, beta=6.0)
    assert np.allclose(h, h[::-1]) and abs(h.sum() - 1) < 1e-12
    assert np.abs(h[24 + 4 :: 4]).max() < 1e-12  # a quarter-band sinc: zero every 4th tap from the centre
    response = np.abs(np.fft.rfft(h, 4096))
    nyquist = np.linspace(0, 1, len(response))
    assert np.abs(response[nyquist < 0.15] - 1).max() < 0.01
    assert 20 * np.log10(response[nyquist > 0.35].max()) < -50


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_running_max_is_the_largest_in_each_window_cut_at_the_ends(dtype):
    rng = np.random.default_rng(3)
    for length in [1, 2, 5, 13, 77, 200]:
        x = (rng.standard_normal(length) * 50).astype(dtype) if dtype != np.uint8 else \
            (rng.random(length) < 0.1).astype(np.uint8)
        for before, after in [(0, 0), (6, 6), (44, 32), (0, 5), (3, 0), (250, 1)]:
            padded = np.pad(x, (before, after), mode="edge")
            want = sliding_window_view(padded, before + after + 1).max(axis=1)
            got = dsp.running_max(x, before, after)
            assert got.dtype == x.dtype and np.array_equal(got, want), (length, before, after)


def test_trailing_mean_averages_each_window_with_the_first_value_repeated_before():
    rng = np.random.default_rng(4)
    for length in [1, 3, 40, 500]:
        x = rng.uniform(0.1, 1.0, length)
        for width in [1, 2, 33]:
            want = sliding_window_view(np.concatenate([np.full(width - 1, x[0]), x]), width).mean(axis=1)
            assert np.abs(dsp.trailing_mean(x, width) - want).max() < 1e-12
    gain = np.ones(1000)
    gain[400:420] = 0.3
    smooth = dsp.trailing_mean(gain, 33)
    assert np.all(smooth[:400] == 1.0) and np.all(smooth[452:] == 1.0)  # flat runs stay exactly flat
    assert dsp.trailing_mean(np.zeros(0), 5).shape == (0,)
