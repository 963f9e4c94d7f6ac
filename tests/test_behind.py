"""The encoder a few blocks behind the mixer: everything in order, errors from either side raised, no thread left."""

from __future__ import annotations

import threading
import time

import lameenc
import numpy as np
import pytest

from voiceguide.export.behind import QUEUED_BLOCKS, encode_behind


def encoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "encoder"]


def test_every_block_is_written_in_order_as_one_encoder_makes_it():
    """Real LAME: the same bytes as encoding the blocks one after another on this thread."""
    rng = np.random.default_rng(3)
    blocks = [(rng.standard_normal(n) * 3000).astype("<i2").tobytes() for n in (22050, 17, 0, 40000, 22050)]

    def encoder() -> lameenc.Encoder:
        e = lameenc.Encoder()
        e.set_bit_rate(64)
        e.set_in_sample_rate(22050)
        e.set_out_sample_rate(22050)
        e.set_channels(1)
        e.set_quality(7)
        return e

    one = encoder()
    expected = b"".join(one.encode(b) for b in blocks)
    written: list[bytes] = []
    encode_behind(iter(blocks), encoder().encode, written.append)
    assert b"".join(written) == expected and len(written) == len(blocks)
    assert not encoder_threads()


def test_the_mixer_runs_ahead_while_the_encoder_works():
    """With the encoder held on its first block, the mixer still makes the next ``QUEUED_BLOCKS`` and one more."""
    release, made = threading.Event(), []

    def blocks():
        for k in range(20):
            made.append(k)
            yield bytes([k])

    def encode(block: bytes) -> bytes:
        release.wait(10)
        return block

    written: list[bytes] = []
    worker = threading.Thread(target=encode_behind, args=(blocks(), encode, written.append))
    worker.start()
    deadline = time.monotonic() + 10
    while len(made) < QUEUED_BLOCKS + 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # it would go on now if it could
    assert len(made) == QUEUED_BLOCKS + 2 and written == []
    release.set()
    worker.join(10)
    assert written == [bytes([k]) for k in range(20)]


def test_an_encoder_error_stops_the_mixer_and_is_raised():
    made = []

    def blocks():
        for k in range(1000):
            made.append(k)
            yield bytes([k % 256])

    def encode(block: bytes) -> bytes:
        if block == bytes([3]):
            raise OSError(28, "No space left on device")
        return block

    with pytest.raises(OSError, match="No space"):
        encode_behind(blocks(), encode, lambda b: None)
    assert len(made) < 3 + QUEUED_BLOCKS + 3  # not the 1000
    assert not encoder_threads()


@pytest.mark.parametrize("error", [RuntimeError("the voice stopped"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_a_mixer_error_or_interrupt_is_raised_after_the_queued_blocks(error):
    written: list[bytes] = []

    def blocks():
        yield b"a"
        yield b"b"
        raise error

    with pytest.raises(type(error)):
        encode_behind(blocks(), lambda b: b.upper(), written.append)
    assert written == [b"A", b"B"]
    assert not encoder_threads()
