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

How a play ended is returned as an ``Ending`` (where, and why); what to do with it (remember the
place for ``--resume``, say how to go on) is the caller's business.

Test hooks (environment variables; the ALSA file sink used in tests is not paced, so a test must
not depend on timing):
  ``VOICEGUIDE_PLAYER_PREROLL_S``  seconds mixed before sound starts (default 3; ``inf``: all).
  ``VOICEGUIDE_PLAYER_HOLD_AT``    comma-separated sample positions where playback stops and
                                   waits for a key, so scripted keys act at an exact sample.
  ``VOICEGUIDE_PLAYER_UNPACED``    (``device.py``) ``1``: the device takes samples as fast as they come, so a play
                                   that ends early is not a lost device (a write error still is).
"""

from __future__ import annotations

import math
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ..errors import EXIT_DEVICE_LOST, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, NoSoundDeviceError, VoiceguideError
from ..progress import Progress
from ..script.routine import Routine
from ..signals import ending_signals
from ..timeline.clock import clock
from ..timeline.events import EventKind
from ..timeline.guide import Guide, Stop, find_stops, step_label
from ..timeline.plan import INTRO_STEP, Plan
from .device import TICK_S, DeviceLost, Output, SessionBuffer
from .keys import Action, Keys
from .live import LivePlan, exact_through
from .screen import open_screen

PREROLL_S: Final = 3.0  # mixed before the first sound; the mixer runs far faster than real time
AHEAD_S: Final = 10.0  # while speech is still being made, mixed no further than this in front of playback
UNDERRUN_GUARD_S: Final = 1.0  # a play closer than this to the unmixed part is stopped, not fed noise
PREVIOUS_WITHIN_S: Final = 3.0  # "back" this soon after a step's start goes to the step before
PREROLL_ENV: Final = "VOICEGUIDE_PLAYER_PREROLL_S"
HOLD_ENV: Final = "VOICEGUIDE_PLAYER_HOLD_AT"


class UnknownStepError(VoiceguideError, LookupError):
    """``--from`` names no step of the routine."""

    exit_code = EXIT_USAGE


# --------------------------------------------------------------------------- where to start


def start_sample(plan: Plan, from_step: str | None) -> int:
    """The sample ``--from`` means in a finished plan (``step_index``)."""
    if from_step is None:
        return 0
    return step_start(plan, step_index(plan.routine, from_step))


def step_start(plan: Plan, index: int) -> int:
    """Where a step begins: every step speaks or sounds, so it has a first event."""
    start = plan.step_start(index)
    if start is None:
        raise AssertionError(f"step {index} has no events in the plan")
    return start


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
            raise UnknownStepError(f"--from {from_step!r} names no step; "
                                   f"give a number or the start of a name: {listing}")
        index = matches[0]
    return index


def back_target(stops: tuple[Stop, ...], index: int, position: int, sample_rate: int) -> int:
    """Where "back" goes: the start of this stop, or of the one before when just past this start."""
    if index > 0 and position - stops[index].start < PREVIOUS_WITHIN_S * sample_rate:
        index -= 1
    return stops[index].start


# --------------------------------------------------------------------------- the player


def _holds() -> list[int]:
    text = os.environ.get(HOLD_ENV, "").strip()
    return sorted(int(x) for x in text.split(",") if x.strip()) if text else []


def _preroll_s() -> float:
    return float(os.environ.get(PREROLL_ENV, PREROLL_S))


class How(StrEnum):
    """Why a live session ended."""

    END = "end"
    QUIT_KEY = "quit"
    INTERRUPTED = "interrupted"
    SIGNALLED = "signal"
    DEVICE = "device"


@dataclass(frozen=True)
class Ending:
    """How and where a live session ended: what the caller needs to say so and to resume there."""

    code: int
    """The exit code: 0 at the end or on q, 130 Ctrl-C, 128 + signal, 4 a lost device."""
    how: How
    """``END`` (played to the end), ``QUIT_KEY``, ``INTERRUPTED``, ``SIGNALLED`` or ``DEVICE``."""
    position: int
    """The sample being heard when it ended."""
    step: int
    """The step playing then: its index in the routine, ``INTRO_STEP`` or the number of steps (the finish)."""
    where: str
    """The same for a person: "0:45.2 in step 2 of 4 (Hip opener, left side)"."""
    detail: str = ""
    """For a lost device: what failed."""
    heard: int = 0
    """Samples played on the device, over every play of the session (repeats counted, skips not)."""

    @property
    def early(self) -> bool:
        return self.how != How.END


def ending_at(plan: Plan, code: int, how: How, position: int, detail: str = "", heard: int = 0) -> Ending:
    """The ``Ending`` for a session ending at ``position`` of ``plan``."""
    guide = Guide(plan)
    stop = guide.stops[guide.stop_index(position)]
    steps = len(plan.routine.steps)
    if stop.step == INTRO_STEP:
        place = "the introduction"
    elif stop.step >= steps:
        place = "the finish"
    else:
        place = f"step {stop.step + 1} of {steps} ({stop.title if stop.side else step_label(plan, stop.step)})"
    return Ending(code, how, position, stop.step, f"{clock(position / plan.sample_rate)} in {place}", detail, heard)


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
        self.guide = Guide(live.plan, live.sound)
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

    def run(self) -> Ending:
        self.buffer.start()
        try:
            self._play_from(self.position)  # a missing device is reported before the screen opens
            self._follow_plan()  # the screen opens on the newest plan
            suspend = {signal.SIGTSTP: self._suspend} if self.keys.enabled else {}
            try:
                with ending_signals(suspend), self.keys, self.screen:
                    self.screen_open = True
                    # the step it starts in first: on a device that takes samples faster than they
                    # play, the first look at the clock may already be steps further on
                    self.screen.update(self.position)
                    how = self._loop()
                    return self._ending(EXIT_OK, how, self.position)
            except DeviceLost as lost:  # the screen is closed and the terminal restored by now
                return self._ending(EXIT_DEVICE_LOST, How.DEVICE, lost.position, lost.detail)
            except SystemExit as exc:  # SIGTERM, SIGHUP (ending_signals)
                return self._ending(exc.code if isinstance(exc.code, int) else 1, How.SIGNALLED, self._heard())
        except KeyboardInterrupt:
            return self._ending(EXIT_INTERRUPTED, How.INTERRUPTED, self._heard())
        finally:
            self.output.stop()
            self.buffer.cancel()
            self.live.close()

    def _heard(self) -> int:
        return self.output.position() if self.output.playing else self.position

    def _ending(self, code: int, how: How, position: int, detail: str = "") -> Ending:
        heard = self.output.heard(position if how == How.DEVICE else None)
        return ending_at(self.live.plan, code, how, position, detail, heard)

    def _loop(self) -> How:
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
                    return How.END
                self._guard_underrun()
            elif not self.paused:  # the play ran to its end
                lost = self.output.cut_short()
                if lost is not None:
                    self.position = lost.position
                    raise lost
                self.position = self.output.end
                if length is not None and self.position >= length:
                    self.screen.update(length)
                    return How.END
                if self.holds and self.holds[0] == self.position:
                    self.holds.pop(0)
                    timeout, note = None, f"held at sample {self.position}: waiting for a key"
                else:
                    self._play_from(self.position)
                    continue
            self.screen.update(self.position, paused=self.paused, note=note)
            actions = self.keys.read(timeout)
            if actions:
                how = self._act(actions)
                if how is not None:
                    return how

    def _follow_plan(self) -> None:
        """Show the newest plan: later steps firm up as their speech is made."""
        if self.live.plan is not self.guide.plan:
            self.guide = Guide(self.live.plan, self.live.sound)
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

    def _act(self, actions: Sequence[Action]) -> How | None:
        """Apply a batch of keys at one position, then play on from where they lead."""
        if self.output.playing:
            self.position = self.output.stop()
        for action in actions:
            if action == Action.INTERRUPT:
                raise KeyboardInterrupt
            if action == Action.QUIT:
                return How.QUIT_KEY
            if action == Action.PAUSE:
                self.paused = not self.paused
                continue
            self._follow_plan()
            stops = self.guide.stops
            i = self.guide.stop_index(self.position)
            if action == Action.NEXT:
                self.position = self._next_start(stops[i + 1]) if i + 1 < len(stops) else self._end()
            else:
                self.position = back_target(stops, i, self.position, self.rate)
        if self.length is not None and self.position >= self.length:  # skipped past the last step
            self.screen.update(self.position)
            return How.END
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
        at = placed(self.live.when(ready))
        return at if at is not None else stop.start

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
        try:
            self.output.play(self.buffer.samples[position:end], position)
        except NoSoundDeviceError as exc:
            if not self.screen_open:  # before the first sound: no device at all, said as such
                raise
            raise DeviceLost(position, exc.detail) from None
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


def play(live: LivePlan, *, from_step: str | int | None = None, stdin=None, stdout=None) -> Ending:
    """Play a routine live as its plan firms up; returns how and where it ended (its ``code`` is the exit code)."""
    try:
        start = live_start(live, from_step)
        return Player(live, start=start, stdin=stdin, stdout=stdout).run()
    finally:
        live.close()


def live_start(live: LivePlan, from_step: str | int | None) -> int:
    """The sample ``--from`` (a step's number or name, as typed; or a step index) means, once the
    speech before it is made (exactly where it will be)."""
    if from_step is None:
        return 0
    index = from_step if isinstance(from_step, int) else step_index(live.routine, from_step)

    def placed(plan: Plan) -> bool:
        return exact_through(plan, step_start(plan, index) + 1)

    if placed(live.plan):
        return step_start(live.plan, index)
    before = step_start(live.plan, index)
    texts = {e.text for e in live.plan.events if e.kind == EventKind.SPEECH and e.text and e.start < before}
    progress = Progress(len(texts), f"Speaking {live.routine.title} to step {index + 1}")
    try:
        plan = live.when(placed, lambda p: progress.advance_to(sum(live.speech.made(t) is not None for t in texts)))
    finally:
        progress.close()
    return step_start(plan, index)
