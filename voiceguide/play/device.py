"""The sound device: one int16 buffer for the whole session, filled while it plays, and the
simpleaudio output that plays it (see ``player`` for why one buffer).

A device that stops.  A Bluetooth headset that drops out or a USB card pulled out stops taking
samples: simpleaudio then reports the play done long before the clock says it can be, or alsa-lib
reports a failed write.  Either ends the session at once with ``how="device"`` (exit code 4), where
the clock says it was, rather than running through the remaining steps in a moment; alsa-lib's own
lines are kept off the terminal.  A device that is not paced by a clock of its own (the null
sink of the tests) has to be declared with ``VOICEGUIDE_PLAYER_UNPACED``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import numpy as np

from ..audio.loudness import Levels
from ..errors import NoSoundDeviceError
from .live import LivePlan

TICK_S: Final = 0.1  # how often waiting threads look again; playback timing never depends on it
CAPACITY_MARGIN: Final = 1.25  # room in the buffer over the plan's guessed length while speech is being made
EARLY_END_S: Final = 3.0
"""A play that ends this much sooner than its length says was cut short by the device.  A paced
device ends a play as early as it buffers: a sound card a fraction of a second, the paced pipe sink
of the tests about 1.5 s (a 64 kB pipe)."""
UNPACED_ENV: Final = "VOICEGUIDE_PLAYER_UNPACED"



class SessionBuffer(threading.Thread):
    """Fills one int16 buffer for the whole session from the live plan's blocks, in the background.

    It fills from the start position to the end, then the part before the start (for "back").
    While the plan is still waiting for speech its final length is unknown: the buffer is then made
    ``CAPACITY_MARGIN`` longer than the plan's guess, grows if ever needed, and the mixer stays
    ``AHEAD_S`` in front of what is heard (``heard``), so each step's ranges are fixed as late as
    possible (``live.py``).
    """

    def __init__(self, live: LivePlan, levels: Levels, start: int, ahead_s: float, preroll_s: float):
        super().__init__(name="voiceguide-render", daemon=True)
        plan = live.plan
        guess = plan.length if live.settled else int(plan.length * CAPACITY_MARGIN) + plan.sample_rate
        self.samples = np.zeros(max(guess, start + 1), dtype=np.int16)  # pages are only touched as they are filled
        self.live, self.levels, self.origin = live, levels, start
        self.ahead = ahead_s * plan.sample_rate
        self.preroll = preroll_s * plan.sample_rate
        self.heard, self.playing = start, False
        self.hi = start  # [start, hi) is filled ...
        self.lo = 0  # ... and [0, lo) once the end is reached
        self.end: int | None = None  # the session's length, once the mixer has reached it
        self.finished = False
        self.error: BaseException | None = None
        self._cancel = False
        self._cond = threading.Condition()

    def run(self) -> None:
        try:
            for stretch, stop in ((self.origin, None), (0, self.origin)):
                blocks = self.live.blocks(self.levels, stretch, stop)
                while True:
                    self._wait_turn(self.hi if stop is None else self.lo)
                    position, block = next(blocks, (None, None))
                    if self._cancel or block is None or position is None:
                        break
                    self._write(position, block)
                if self._cancel:
                    return
                if stop is None:
                    with self._cond:
                        self.end = self.hi
                        self._cond.notify_all()
        except BaseException as exc:  # handed to the main thread, which reports it
            self.error = exc
        finally:
            with self._cond:
                self.finished = True
                self._cond.notify_all()

    def _wait_turn(self, position: int) -> None:
        """Mix on only so far in front of what is heard while speech is being made (class docstring);
        before sound starts, only the preroll, so the first play is not kept waiting."""
        with self._cond:
            while not self._cancel and not self.live.settled and position - self.heard > (
                    self.ahead if self.playing else self.preroll):
                self._cond.wait(TICK_S)

    def _write(self, position: int, block: np.ndarray) -> None:
        with self._cond:
            end = position + len(block)
            if end > len(self.samples):  # the guess was short: a new, longer array ...
                old = self.samples
                # ... while a play on the old one reads to its end
                old[position:] = block[: max(len(old) - position, 0)]
                grown = np.zeros(max(end, int(len(old) * CAPACITY_MARGIN)), dtype=np.int16)
                grown[: len(old)] = old
                self.samples = grown
        self.samples[position:end] = block
        with self._cond:
            if position >= self.origin:
                self.hi = end
            else:
                self.lo = end
            self._cond.notify_all()

    def hear(self, position: int, *, playing: bool = True) -> None:
        """Where playback is, or is about to start (``playing=False``): the mixer keeps ``ahead`` in
        front of it while speech is being made (only the preroll before the first play)."""
        with self._cond:
            self.heard = position
            self.playing |= playing
            self._cond.notify_all()

    def filled_until(self, position: int) -> int:
        """The end of the filled stretch ``position`` is in (``position`` itself when it is not filled)."""
        if self.origin <= position < self.hi:
            return self.hi
        if position < self.lo:
            return self.hi if self.lo >= self.origin else self.lo
        return position

    def ready(self, position: int, samples: int) -> bool:
        wanted = position + samples if self.end is None else min(position + samples, self.end)
        return self.finished or self.filled_until(position) >= wanted

    def wait_for(self, position: int, samples: int) -> None:
        """Block until ``samples`` from ``position`` are mixed (or all there is); re-raise a mixing error here."""
        with self._cond:
            self._cond.wait_for(lambda: self.ready(position, samples))
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        with self._cond:
            self._cancel = True
            self._cond.notify_all()


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null: alsa-lib prints its own lines there when a device is missing."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class DeviceLost(Exception):
    """The device stopped taking samples mid-session (module docstring); caught by ``Player.run``."""

    def __init__(self, position: int, detail: str):
        super().__init__(detail)
        self.position, self.detail = position, detail


_ALSA_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
_alsa_errors: list[int] = []  # errno values alsa-lib reported since the list was last cleared


@_ALSA_HANDLER
def _note_alsa_error(file: bytes | None, line: int, function: bytes | None, err: int, fmt: bytes | None) -> None:
    """alsa-lib's error handler (variadic in C; the format's arguments are not read)."""
    if len(_alsa_errors) < 100:
        _alsa_errors.append(abs(err))


def _silence_alsa() -> None:
    """alsa-lib's messages go to ``_note_alsa_error`` instead of fd 2 (a failed write would print one
    line per block); the errors are kept to tell a lost device."""
    name = ctypes.util.find_library("asound")
    if name is None:
        return
    try:
        ctypes.CDLL(name).snd_lib_error_set_handler(_note_alsa_error)
    except (OSError, AttributeError):
        pass


class Output:
    """One simpleaudio play at a time over a stretch of the session buffer, with its position."""

    def __init__(self, sample_rate: int):
        try:
            import simpleaudio
            from simpleaudio._simpleaudio import SimpleaudioError
        except ImportError as exc:
            raise NoSoundDeviceError(
                f"live playback needs simpleaudio ({exc}); install it with: pip install 'voiceguide[play]' "
                "(it builds with gcc and the ALSA headers, libasound2-dev), or write a file with `voiceguide export`"
            ) from None
        self._sa, self._error = simpleaudio, SimpleaudioError
        self.sample_rate = sample_rate
        self.paced = os.environ.get(UNPACED_ENV, "") not in ("1", "yes", "true")
        self._play = None
        self.start = self.end = 0
        self._t0 = 0.0
        self._heard_before = 0  # samples played by the plays before this one
        _silence_alsa()

    def play(self, samples: np.ndarray, start: int) -> None:
        """Play ``samples`` (a view of the session buffer) as session samples ``start`` onward."""
        self._heard_before += self.end - self.start
        self.start, self.end, self._play = start, start + len(samples), None
        if not len(samples):
            return
        _alsa_errors.clear()
        self._play = self._open(samples)
        self._t0 = time.monotonic()

    def wait(self) -> None:
        """Until the play has ended, on its own or because the device stopped (simpleaudio's wait_done)."""
        if self._play is not None:
            self._play.wait_done()

    def cut_short(self) -> DeviceLost | None:
        """After a play ended on its own: the device failing, where the clock says it was, or None.

        A paced device that finished ``EARLY_END_S`` before the play's length has stopped taking
        samples; an unpaced one always finishes early, and has stopped when alsa-lib reported an
        error (a failed write).  An error in a play that ran its length (an underrun recovered
        from) is not a lost device."""
        if self._play is None:
            return None
        clock_position = min(self.end, self.start + int((time.monotonic() - self._t0) * self.sample_rate))
        early = self.end - clock_position > EARLY_END_S * self.sample_rate
        why = os.strerror(_alsa_errors[0]).lower() if _alsa_errors else "it took no more sound"
        if (self.paced and early) or (not self.paced and _alsa_errors):
            return DeviceLost(clock_position, why)
        return None

    def check(self) -> None:
        """Open the device and close it, playing nothing: no device is found before any work is done."""
        _wait_closed(self._open(np.zeros(0, dtype=np.int16)))

    def _open(self, samples: np.ndarray):
        try:
            with quiet_stderr():
                return self._sa.play_buffer(samples, 1, 2, self.sample_rate)
        except self._error as exc:  # "Error opening PCM device. -- CODE: -2 -- MSG: No such file or directory"
            what, detail = str(exc).split(" -- ")[0].rstrip("."), str(exc).partition("MSG: ")[2]
            said = f"{what.lower()}{': ' + detail if detail else ''}"
            raise NoSoundDeviceError(
                f"no sound device to play on ({said}); write the session to a file instead with "
                "`voiceguide export ROUTINE`", detail=said) from None

    @property
    def playing(self) -> bool:
        return self._play is not None and self._play.is_playing()

    def position(self) -> int:
        """The session sample being heard: start plus audio time elapsed, the end once finished."""
        if not self.playing:
            return self.end
        return min(self.end, self.start + int((time.monotonic() - self._t0) * self.sample_rate))

    def heard(self, until: int | None = None) -> int:
        """How many samples have reached the listener over every play so far: a part played twice
        (back) counts twice, a part skipped (next) not at all, a pause not at all.  ``until``: the
        sample where a lost device stopped taking sound in this play."""
        return self._heard_before + max((self.position() if until is None else until) - self.start, 0)

    def stop(self) -> int:
        """Stop, wait until the device is closed (so the next play can open it), return where it was."""
        position = self.position()
        if self._play is not None:
            self._play.stop()
            _wait_closed(self._play)
            self._play = None
        self.end = position
        return position


def play_to_end(samples: np.ndarray, sample_rate: int) -> None:
    """Play int16 ``samples`` on the default device and return when they have been heard; DeviceLost
    (at the sample the clock says) when the device stopped taking them before the end."""
    output = Output(sample_rate)
    output.play(samples, 0)
    try:
        output.wait()
        lost = output.cut_short()
    finally:
        output.stop()
    if lost is not None:
        raise lost


def _wait_closed(play, timeout_s: float = 2.0) -> None:
    """Until simpleaudio's thread has closed the device (its own wait_done sleeps 50 ms at a time)."""
    deadline = time.monotonic() + timeout_s
    while play.is_playing() and time.monotonic() < deadline:
        time.sleep(0.001)


