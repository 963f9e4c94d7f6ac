"""The plan while its speech is still being made: what lets the player speak within a second or two.

Export plans once every utterance is synthesised (``session.prepare``); on a first run that takes
a while (Piper makes speech about 12-25x faster than it is spoken).  The player cannot wait, so:

- A speaker thread makes the speech in the order the session needs it.
- The plan is rebuilt as lengths arrive.  A length not yet known is guessed, and the plan says how
  far it is exact (``Plan.exact_until``, see ``plan.py``); only the exact part is ever mixed.
- Duration fitting (``fit.py``) chooses ranges with the lengths there are.  The ranges of a step
  are fixed once mixing reaches it (``plan_through``); later steps are fitted again as speech
  arrives, so the session still lasts its target.  The player mixes only ``player.AHEAD_S`` in
  front of what is heard while speech is being made, so a step is normally fixed long after all
  the speech is made, and the plan is export's.
- Levels are predicted instead of measured over the whole session, which would need all of it
  first (``loudness.predicted_levels``): the speech layer's loudness from the lengths of a plan with
  every length guessed (``loudness.session_speech_lufs``), and what limiting costs from the first
  utterance heard.  Both depend only on the script, the voice's audio and where play starts, not
  on what the cache held when play began, so a run plays the same samples as the next.
  Measured: the five built-in routines play at -15.8 to -16.3 LUFS with Piper and espeak-ng
  (export: -16.0); a routine that opens with "Stand up." and is mostly short cues, whose peaks
  cost more to limit, 1.7 LU under.

``LivePlan`` is shared by the speaker, the mixer (``blocks``) and the player's screen and keys; its
condition variable guards the plan, the fixed choices and the count of texts made.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Final

import numpy as np

from ..audio import duck, loudness, mix
from ..audio.bed import Bed
from ..audio.dsp import to_pcm16
from ..audio.loudness import Levels
from ..audio.sounds import SoundBank
from ..script.routine import Routine
from ..script.settings import DEFAULT_CUE_LEVEL_LU, Settings
from ..timeline.events import EventKind
from ..timeline.fit import fit_plan
from ..timeline.plan import ChoiceKey, Plan, build_plan
from ..timeline.report import sound_line
from ..voice.speech import SPEECH_LOUDNESS_LUFS, Speech, guess_per_char

BLOCK_S: Final = 10.0
MIN_BLOCK_S: Final = 0.5
"""While speech is being made, blocks shorter than this are not mixed unless the session ends there."""
JOIN_S: Final = 2.0
"""How long closing waits for the speaker to finish the utterance it is making."""


def exact_through(plan: Plan, sample: int) -> bool:
    """Whether every event of ``plan`` starting before ``sample`` is final."""
    return plan.exact_until is None or plan.exact_until >= sample


class _Known:
    """Lengths for building while speech is made: what is made, and a guess for the rest."""

    def __init__(self, speech: Speech, sounds: SoundBank, sample_rate: int, *, guess_all: bool = False,
                 made: tuple[int, int] = (0, 0)):
        """``made``: (samples, characters) of the speech made so far, to guess from."""
        self._speech, self.sound = speech, sounds.length
        samples, chars = made
        self._per_char = samples / chars if chars and not guess_all else \
            guess_per_char(speech.settings.rate, sample_rate)
        self._guess_all = guess_all
        self.guessed: list[str] = []

    def speech(self, text: str) -> int:
        audio = None if self._guess_all else self._speech.made(text)
        if audio is not None:
            return len(audio)
        self.guessed.append(text)
        return int(self._per_char * len(text))

    def exact(self, text: str) -> bool:
        return not self._guess_all and self._speech.made(text) is not None


class LivePlan:
    """A routine's plan, exact up to a frontier that moves as a speaker thread makes its speech."""

    def __init__(self, routine: Routine, speech: Speech, sounds: SoundBank, settings: Settings, *,
                 bed: Bed | None = None, fixed: dict[ChoiceKey, float] | None = None) -> None:
        """``settings``: the session's (``script.settings.resolve``): its duration is fitted to, its
        lead-in and levels kept.  ``bed``: the settings' bed, opened.  ``fixed``: values chosen
        before playing (a programme's progression), kept as they are."""
        self.routine, self.speech, self.sounds = routine, speech, sounds
        self.settings, self.bed = settings, bed
        self.sample_rate = settings.sample_rate
        self._cond = threading.Condition()
        self._given: dict[ChoiceKey, float] = dict(fixed or {})
        self._fixed: dict[ChoiceKey, float] = dict(self._given)
        self._fixed_steps: set[int] = set()
        self._made = 0  # texts made so far, counted by the speaker ...
        self._made_size = (0, 0)  # ... and their samples and characters
        self._built_for = -1
        self._to_make: list[str] = []
        self._closed = False
        self.error: BaseException | None = None
        self.plan = self._current()
        self._speaker = threading.Thread(target=self._speak, name="voiceguide-speaker", daemon=True)

    @property
    def sound(self) -> str | None:
        """Which bed and cue level, for the screen; None when there is no bed and the cues are as usual."""
        if self.bed is None and self.settings.cue_level_lu == DEFAULT_CUE_LEVEL_LU:
            return None
        return sound_line(self.bed, self.settings.cue_level_lu)

    # -- the speaker

    def start(self) -> LivePlan:
        self._speaker.start()
        return self

    def close(self) -> None:
        """Stop making speech (after the utterance being made, if any)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._speaker.is_alive():
            self._speaker.join(JOIN_S)

    def _speak(self) -> None:
        try:
            while True:
                with self._cond:
                    texts = [t for t in self._current_texts() if self.speech.made(t) is None]
                    if not texts or self._closed:
                        return
                for text in texts:
                    if self._closed:
                        return
                    audio = self.speech.audio(text)
                    with self._cond:
                        self._made += 1
                        samples, chars = self._made_size
                        self._made_size = (samples + len(audio), chars + len(text))
                        self._cond.notify_all()
        except BaseException as exc:  # handed to whoever waits for the plan
            with self._cond:
                self.error = exc
                self._cond.notify_all()

    def _current_texts(self) -> list[str]:
        self._current()
        return self._to_make

    # -- the plan

    def _current(self) -> Plan:
        """The plan with every length made so far (rebuilt only when more are made).  Lock held."""
        if self._built_for != self._made:
            self._built_for = self._made
            known = _Known(self.speech, self.sounds, self.sample_rate, made=self._made_size)
            plan = fit_plan(self.routine, known, fixed=self._fixed, target_s=self.settings.duration_s,
                            sample_rate=self.sample_rate, lead_in_s=self.settings.lead_in_s)
            asking = _Known(self.speech, self.sounds, self.sample_rate, made=self._made_size)
            if not plan.final:  # the texts this very plan guesses, in the order it asks for them
                build_plan(self.routine, asking, choices=plan.choices, sample_rate=self.sample_rate,
                           lead_in_s=self.settings.lead_in_s)
            # ... then those fitting compared it with ("Hold for 19 seconds."), as export's fitting makes them
            self._to_make = list(dict.fromkeys(asking.guessed + known.guessed))
            self.plan = plan
        return self.plan

    @property
    def settled(self) -> bool:
        """Every length the plan and its fitting asked for was known: the plan is export's, and final.

        Read off the latest plan built, without building (the speaker and the mixer rebuild as they go)."""
        with self._cond:
            return self.plan.final and not self._to_make

    def when(self, ready: Callable[[Plan], bool], on_wait: Callable[[Plan], None] | None = None) -> Plan:
        """The first plan for which ``ready`` holds, or the settled plan; waits for speech as needed.

        ``on_wait(plan)`` is called each time it is about to wait again (for a progress line)."""
        with self._cond:
            while True:
                if self.error is not None:
                    raise self.error
                if ready(self.plan):  # rebuilding costs a fit: only when the plan there is falls short
                    return self.plan
                plan = self._current()
                if ready(plan) or (plan.final and not self._to_make):
                    return plan
                if self._closed:
                    raise RuntimeError("the live plan was closed while waited for")
                if on_wait is not None:
                    on_wait(plan)
                self._cond.wait()

    def plan_through(self, sample: int) -> Plan:
        """A plan exact over ``[0, sample)``; the ranges of every step starting there are fixed from now on."""
        plan = self.when(lambda p: exact_through(p, sample))
        with self._cond:
            for step in self.routine.steps:
                start = plan.step_start(step.index)
                if step.index in self._fixed_steps or start is None or start >= sample:
                    continue
                self._fixed_steps.add(step.index)
                self._fixed.update({key: value for key, value in plan.choices.items()
                                    if self.routine.top_of(key[0]) == step.index})
        return plan

    # -- sound

    def levels(self, start: int) -> Levels:
        """The mix levels for playing from ``start``, predicted (module docstring)."""

        def first_speech(plan: Plan):
            return next((e for e in plan.events if e.kind == EventKind.SPEECH and e.start >= start), None)

        def known(plan: Plan) -> bool:
            event = first_speech(plan)
            return event is not None and exact_through(plan, event.start + 1)

        event = first_speech(self.when(known))
        profiles = [loudness.PeakProfile.of(self.speech.audio(event.text), self.sample_rate)] if event else []
        guessing = _Known(self.speech, self.sounds, self.sample_rate, guess_all=True)
        guessed = fit_plan(self.routine, guessing, fixed=self._given,
                           target_s=self.settings.duration_s, sample_rate=self.sample_rate,
                           lead_in_s=self.settings.lead_in_s)
        durations = [(e.end - e.start) / self.sample_rate for e in guessed.events if e.kind == EventKind.SPEECH]
        return loudness.predicted_levels(profiles, loudness.session_speech_lufs(durations, SPEECH_LOUDNESS_LUFS),
                                         balance=mix.balance_of(self))

    def blocks(self, levels: Levels, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(position, int16 samples)`` from ``start`` to ``stop`` (default: the end), as speech allows.

        Each block is mixed from a plan exact over it and the limiter's context after it, so it is
        what the finished plan gives there; the limiter makes it the same wherever blocks fall.
        """
        rate = self.sample_rate
        margin = loudness.limiter_margin(rate)
        if self.bed is not None:  # the bed falls before an utterance: that utterance must be where it will be
            margin += int(duck.LEAD_S * rate) + 1
        layer = mix.speech_layer(self.speech, rate)
        renderer: mix.Renderer | None = None
        a = start
        while True:
            def ready(p: Plan, needed: int = a + int(MIN_BLOCK_S * rate) + margin) -> bool:
                return exact_through(p, needed)

            plan = self.when(ready)
            end = plan.length if plan.exact_until is None else plan.exact_until - margin
            end = end if stop is None else min(end, stop)
            if a >= end:  # the end of the session, or of the part asked for
                return
            b = min(a + int(BLOCK_S * rate), end)
            plan = self.plan_through(b + margin)
            if renderer is None or renderer.plan is not plan:
                renderer = mix.Renderer(mix.Mix(plan, layer, self.sounds, self.bed, self.settings), levels)
            (block,) = loudness.limited_blocks(renderer.render, [(a, b)], plan.length, rate, levels.ceiling_dbtp)
            yield a, to_pcm16(block)
            a = b
