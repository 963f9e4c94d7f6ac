"""Live playback: the rendered session through simpleaudio, with a screen and keys.

How it keeps time.  simpleaudio has no queue and no pause, and each ``play_buffer`` opens the
sound device afresh, so playing the session as many small buffers would leave a gap at every
joint.  Instead the whole session is one int16 buffer, and one ``play_buffer`` call plays from the
start position to the end: the device clock alone paces it, so nothing can drift and there are no
joints.  simpleaudio does not copy the buffer (it holds a view and reads it as it writes to the
device, a tenth of a second ahead), so a renderer thread fills the buffer block by block while
it plays: sound starts as soon as the first seconds are mixed.  Pause, skip and back stop the play
and start a new one from the new sample; the position of a play is its start plus the audio time
elapsed since it began.  Without key presses the device receives exactly the rendered session.
Costs of this design: the buffer holds the whole session (2 bytes a sample: 95 MB for an hour at
22050 Hz), and a stop lets the device play out what it holds (about 0.1 s), so a resume may
repeat up to a fifth of a second.

How it starts at once.  The blocks come from a ``live.LivePlan``, which plans while the speech is
being made; only what is final is mixed.  Until the plan settles its length is a guess, so the
first play covers a buffer a quarter longer than the guess and is stopped when the position
reaches the session's end (on a real device, in the tail's second of quiet).  Should speech ever
be made slower than it is heard, the underrun guard stops and waits rather than play silence.

Test hooks (environment variables; the ALSA file sink used in tests is not paced, so a test must
not depend on timing):
  ``VOICEGUIDE_PLAYER_PREROLL_S``  seconds mixed before sound starts (default 3; ``inf``: all).
  ``VOICEGUIDE_PLAYER_HOLD_AT``    comma-separated sample positions where playback stops and
                                   waits for a key, so scripted keys act at an exact sample.
"""

from __future__ import annotations

import math
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import numpy as np

from ..errors import NoSoundDeviceError, VoiceguideError
from .live import LivePlan, exact_through
from ..audio.loudness import Levels
from ..timeline.plan import Plan
from ..progress import Progress
from ..script.routine import Routine
from .screen import Guide, Restoring, Stop, find_stops, open_screen
from ..signals import ending_signals

EXIT_OK: Final = 0
EXIT_INTERRUPTED: Final = 130
PREROLL_S: Final = 3.0  # mixed before the first sound; the mixer runs far faster than real time
AHEAD_S: Final = 10.0  # while speech is still being made, mixed no further than this in front of playback
CAPACITY_MARGIN: Final = 1.25  # room in the buffer over the plan's guessed length while speech is being made
UNDERRUN_GUARD_S: Final = 1.0  # a play closer than this to the unmixed part is stopped, not fed noise
PREVIOUS_WITHIN_S: Final = 3.0  # "back" this soon after a step's start goes to the step before
TICK_S: Final = 0.1  # screen refresh and key polling; playback timing never depends on it
ESC_WAIT_S: Final = 0.03  # an Esc followed this quickly by more bytes is an arrow key
PREROLL_ENV: Final = "VOICEGUIDE_PLAYER_PREROLL_S"
HOLD_ENV: Final = "VOICEGUIDE_PLAYER_HOLD_AT"

PAUSE, NEXT, BACK, QUIT, INTERRUPT = "pause", "next", "back", "quit", "interrupt"


class UnknownStepError(VoiceguideError, LookupError):
    """``--from`` names no step of the routine."""

    exit_code = 2


# --------------------------------------------------------------------------- where to start


def start_sample(plan: Plan, from_step: str | None) -> int:
    """The sample ``--from`` means in a finished plan (``step_index``)."""
    if from_step is None:
        return 0
    return plan.step_start(step_index(plan.routine, from_step))


def step_index(routine: Routine, from_step: str) -> int:
    """The step ``--from`` names: a step number from 1, or a name in any case: whole, its start, or a part."""
    steps = routine.steps
    listing = ", ".join(f"{s.index + 1} {s.name or '(' + s.kind + ')'}" for s in steps)
    wanted = from_step.strip()
    if wanted.isdigit():
        index = int(wanted) - 1
        if not 0 <= index < len(steps):
            raise UnknownStepError(f"there is no step {wanted!r}: this routine has steps 1 to {len(steps)} "
                                   f"({listing})")
    else:
        key, named = wanted.casefold(), [(s.index, s.name.casefold()) for s in steps if s.name]
        matches = ([i for i, name in named if name == key] or [i for i, name in named if name.startswith(key)]
                   or [i for i, name in named if key in name])
        if len(matches) > 1:
            several = ", ".join(f"{i + 1} {steps[i].name}" for i in matches)
            raise UnknownStepError(f"--from {from_step!r} matches several steps ({several}); give more of the name, "
                                   "or the number")
        if not matches:
            raise UnknownStepError(f"--from {from_step!r} names no step; give a number or the start of a name: {listing}")
        index = matches[0]
    return index


def back_target(stops: tuple[Stop, ...], index: int, position: int, sample_rate: int) -> int:
    """Where "back" goes: the start of this stop, or of the one before when just past this start."""
    if index > 0 and position - stops[index].start < PREVIOUS_WITHIN_S * sample_rate:
        index -= 1
    return stops[index].start


# --------------------------------------------------------------------------- the audio


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
                    if self._cancel or block is None:
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
                old[position:] = block[: max(len(old) - position, 0)]  # ... while a play on the old one reads to its end
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
        self._play = None
        self.start = self.end = 0
        self._t0 = 0.0

    def play(self, samples: np.ndarray, start: int) -> None:
        """Play ``samples`` (a view of the session buffer) as session samples ``start`` onward."""
        self.start, self.end, self._play = start, start + len(samples), None
        if not len(samples):
            return
        self._play = self._open(samples)
        self._t0 = time.monotonic()

    def check(self) -> None:
        """Open the device and close it, playing nothing: no device is found before any work is done."""
        _wait_closed(self._open(np.zeros(0, dtype=np.int16)))

    def _open(self, samples: np.ndarray):
        try:
            with quiet_stderr():
                return self._sa.play_buffer(samples, 1, 2, self.sample_rate)
        except self._error as exc:  # "Error opening PCM device. -- CODE: -2 -- MSG: No such file or directory"
            what, detail = str(exc).split(" -- ")[0].rstrip("."), str(exc).partition("MSG: ")[2]
            raise NoSoundDeviceError(
                f"no sound device to play on ({what.lower()}{': ' + detail if detail else ''}); "
                "write the session to a file instead with `voiceguide export ROUTINE`"
            ) from None

    @property
    def playing(self) -> bool:
        return self._play is not None and self._play.is_playing()

    def position(self) -> int:
        """The session sample being heard: start plus audio time elapsed, the end once finished."""
        if not self.playing:
            return self.end
        return min(self.end, self.start + int((time.monotonic() - self._t0) * self.sample_rate))

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
    """Play int16 ``samples`` on the default device and return when they have been heard."""
    output = Output(sample_rate)
    output.play(samples, 0)
    try:
        while output.playing:
            time.sleep(0.02)
    finally:
        output.stop()


def _wait_closed(play, timeout_s: float = 2.0) -> None:
    """Until simpleaudio's thread has closed the device (its own wait_done sleeps 50 ms at a time)."""
    deadline = time.monotonic() + timeout_s
    while play.is_playing() and time.monotonic() < deadline:
        time.sleep(0.001)


# --------------------------------------------------------------------------- the keys


class Keys(Restoring):
    """Single keys from a terminal (cbreak: no echo, no line editing; Ctrl-C still interrupts).

    The terminal's settings are given back on every way out: the context manager, atexit, and
    SIGTERM/SIGHUP, which are turned into a normal exit.
    """

    def __init__(self, stream):
        self.fd = stream.fileno() if stream is not None and stream.isatty() else None
        self._saved = None

    @property
    def enabled(self) -> bool:
        return self.fd is not None

    def setup(self) -> None:
        if self.fd is not None:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)

    def restore(self) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSAFLUSH, self._saved)
            self._saved = None

    def read(self, timeout: float | None) -> list[str]:
        """The actions typed within ``timeout`` seconds (None: wait for one); unknown keys are dropped."""
        if self.fd is None:
            if timeout is not None:
                time.sleep(timeout)
            return []
        if not select.select([self.fd], [], [], timeout)[0]:
            return []
        data = os.read(self.fd, 64)
        if data.endswith(b"\x1b") and select.select([self.fd], [], [], ESC_WAIT_S)[0]:
            data += os.read(self.fd, 64)  # the rest of an arrow key's sequence
        return decode_keys(data)


_SEQUENCES: Final = {b"\x1b[C": NEXT, b"\x1bOC": NEXT, b"\x1b[D": BACK, b"\x1bOD": BACK}
_SINGLE: Final = {b" ": PAUSE, b"n": NEXT, b"N": NEXT, b"p": BACK, b"P": BACK, b"q": QUIT, b"Q": QUIT,
                  b"\x1b": QUIT, b"\x03": INTERRUPT}


def decode_keys(data: bytes) -> list[str]:
    """Bytes typed -> actions.  Arrow keys arrive as escape sequences; other sequences are ignored."""
    actions, i = [], 0
    while i < len(data):
        if data[i : i + 1] == b"\x1b" and data[i + 1 : i + 2] in (b"[", b"O"):
            end = i + 2  # a sequence runs to its final byte, '@' to '~'
            while end < len(data) and not 0x40 <= data[end] <= 0x7E:
                end += 1
            action = _SEQUENCES.get(data[i : end + 1])
            if action:
                actions.append(action)
            i = end + 1
            continue
        action = _SINGLE.get(data[i : i + 1])
        if action:
            actions.append(action)
        i += 1
    return actions


# --------------------------------------------------------------------------- the player


def _holds() -> list[int]:
    text = os.environ.get(HOLD_ENV, "").strip()
    return sorted(int(x) for x in text.split(",") if x.strip()) if text else []


def _preroll_s() -> float:
    return float(os.environ.get(PREROLL_ENV, PREROLL_S))


class Player:
    """The state of one live session: where it is, whether it is paused, and the loop that runs it."""

    def __init__(self, live: LivePlan, *, start: int = 0, stdin=None, stdout=None):
        self.live = live
        self.rate = live.sample_rate
        self.keys = Keys(sys.stdin if stdin is None else stdin)
        self.holds = _holds() if self.keys.enabled else []
        self.preroll = _preroll_s()
        ahead = math.inf if math.isinf(self.preroll) else max(AHEAD_S, self.preroll + UNDERRUN_GUARD_S)
        self.buffer = SessionBuffer(live, live.levels(start), start, ahead, self.preroll)
        self.output = Output(live.sample_rate)
        self.guide = Guide(live.plan)
        self.screen = open_screen(self.guide, stdout)
        self.position = start
        self.paused = False
        self.screen_open = False  # the first play starts before the screen opens

    @property
    def length(self) -> int | None:
        """The session's length once known (the plan settled, or mixed to its end), else None."""
        if self.buffer.end is not None:
            return self.buffer.end
        return self.live.plan.length if self.live.settled else None

    def run(self) -> int:
        self.buffer.start()
        try:
            self._play_from(self.position)  # a missing device is reported before the screen opens
            self._follow_plan()  # the screen opens on the newest plan
            suspend = {signal.SIGTSTP: self._suspend} if self.keys.enabled else {}
            with ending_signals(suspend), self.keys, self.screen:
                self.screen_open = True
                return self._loop()
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        finally:
            self.output.stop()
            self.buffer.cancel()
            self.live.close()

    def _loop(self) -> int:
        while True:
            timeout: float | None = TICK_S
            note = None
            self._follow_plan()
            length = self.length
            if self.output.playing:
                self.position = self.output.position()
                self.buffer.hear(self.position)
                if length is not None and self.position >= length:  # a play longer than the session: the end is here
                    self.output.stop()
                    self.screen.update(length)
                    return EXIT_OK
                self._guard_underrun()
            elif not self.paused:  # the play ran to its end
                self.position = self.output.end
                if length is not None and self.position >= length:
                    self.screen.update(length)
                    return EXIT_OK
                if self.holds and self.holds[0] == self.position:
                    self.holds.pop(0)
                    timeout, note = None, f"held at sample {self.position}: waiting for a key"
                else:
                    self._play_from(self.position)
                    continue
            self.screen.update(self.position, paused=self.paused, note=note)
            actions = self.keys.read(timeout)
            if actions and self._act(actions) is not None:
                return EXIT_OK

    def _follow_plan(self) -> None:
        """Show the newest plan: later steps firm up as their speech is made."""
        if self.live.plan is not self.guide.plan:
            self.guide = Guide(self.live.plan)
            self.screen.guide = self.guide

    def _suspend(self, signum, frame) -> None:
        """Ctrl-Z: pause, give the terminal back, stop; on ``fg`` take the terminal again, still paused."""
        if self.output.playing:
            self.position, self.paused = self.output.stop(), True
        self.screen.restore()
        self.keys.restore()
        os.kill(os.getpid(), signal.SIGSTOP)
        self.keys.setup()
        self.screen.setup()
        self.screen.update(self.position, paused=self.paused)

    def _act(self, actions: list[str]) -> int | None:
        """Apply a batch of keys at one position, then play on from where they lead."""
        if self.output.playing:
            self.position = self.output.stop()
        for action in actions:
            if action == INTERRUPT:
                raise KeyboardInterrupt
            if action == QUIT:
                return EXIT_OK
            if action == PAUSE:
                self.paused = not self.paused
                continue
            self._follow_plan()
            stops = self.guide.stops
            i = self.guide.stop_index(self.position)
            if action == NEXT:
                self.position = self._next_start(stops[i + 1]) if i + 1 < len(stops) else self._end()
            else:
                self.position = back_target(stops, i, self.position, self.rate)
        if self.length is not None and self.position >= self.length:  # skipped past the last step
            self.screen.update(self.position)
            return EXIT_OK
        if not self.paused:
            self._play_from(self.position)
        return None

    def _next_start(self, stop: Stop) -> int:
        """Where a later stop starts, waiting for the speech before it if the plan only guesses yet."""

        def placed(plan: Plan) -> int | None:
            return next((s.start for s in find_stops(plan) if (s.step, s.side) == (stop.step, stop.side)), None)

        def ready(plan: Plan) -> bool:
            at = placed(plan)
            return at is not None and exact_through(plan, at + 1)

        if not ready(self.live.plan):
            self.screen.update(self.position, paused=self.paused, note=f"making the speech up to {stop.title}...")
        plan = self.live.when(ready)
        return placed(plan) if placed(plan) is not None else stop.start

    def _end(self) -> int:
        """The session's length, waiting for the plan to settle if need be."""
        return self.length if self.length is not None else self.live.when(lambda p: False).length

    def _play_from(self, position: int) -> None:
        while self.holds and self.holds[0] <= position:
            self.holds.pop(0)
        ahead = math.inf if math.isinf(self.preroll) else self.preroll * self.rate
        self.buffer.hear(position, playing=False)  # a skip ahead: the mixer may go on from there
        wanted = int(min(ahead, len(self.buffer.samples)))
        if self.screen_open and not self.buffer.ready(position, wanted):
            self.screen.update(position, paused=self.paused, note="making the speech from here...")
        self.buffer.wait_for(position, wanted)
        end = self.length if self.length is not None else len(self.buffer.samples)
        if self.holds:
            end = min(end, self.holds[0])
        self.output.play(self.buffer.samples[position:end], position)
        self.buffer.hear(position)

    def _guard_underrun(self) -> None:
        """Should the mixer ever fall behind the device, stop and resume later rather than play silence."""
        if self.buffer.error is not None:
            raise self.buffer.error
        wanted = self.position + UNDERRUN_GUARD_S * self.rate
        if self.length is not None:
            wanted = min(wanted, self.length)
        if not self.buffer.finished and self.buffer.filled_until(self.position) < wanted:
            self.position = self.output.stop()
            why = "mixing fell behind" if self.live.settled else "the voice is slower than playback"
            self.screen.update(self.position, note=f"{why}: waiting for it")
            self._play_from(self.position)


def play(live: LivePlan, *, from_step: str | None = None, stdin=None, stdout=None) -> int:
    """Play a routine live as its plan firms up; returns the exit code (0 done or quit, 130 interrupted)."""
    try:
        start = live_start(live, from_step)
        return Player(live, start=start, stdin=stdin, stdout=stdout).run()
    finally:
        live.close()


def live_start(live: LivePlan, from_step: str | None) -> int:
    """The sample ``--from`` means, once the speech before it is made (exactly where it will be)."""
    if from_step is None:
        return 0
    index = step_index(live.routine, from_step)

    def placed(plan: Plan) -> bool:
        return exact_through(plan, plan.step_start(index) + 1)

    if placed(live.plan):
        return live.plan.step_start(index)
    before = live.plan.step_start(index)
    texts = {e.text for e in live.plan.events if e.kind == "speech" and e.start < before}
    progress = Progress(len(texts), f"Speaking {live.routine.title} to step {index + 1}")
    try:
        plan = live.when(placed, lambda p: progress.advance_to(sum(live.speech.made(t) is not None for t in texts)))
    finally:
        progress.close()
    return plan.step_start(index)
