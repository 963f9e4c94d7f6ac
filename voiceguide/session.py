"""The pipeline in one place: script -> speech -> plan, ready to mix, play or export.

Every command goes through ``prepare`` (speech first, then the plan) or, to play at once,
``prepare_live`` (the plan while the speech is made, ``live.py``); this is the only module that
knows all the stages.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Final, Iterator

from .errors import AudioError, EngineError, Problem, ScriptError
from .timeline.fit import fit_plan
from .script.library import find_routine
from .outputs.live import LivePlan
from .script.parse import load_routine
from .timeline.plan import DEFAULT_LEAD_IN_S, SAMPLE_RATE, Plan, build_plan
from .progress import Progress
from .script.routine import Routine
from .audio.sounds import SoundBank
from .voice.speech import Speech


@dataclass(frozen=True)
class Options:
    """What the command line may override; None means "as the script says, else the default"."""

    voice: str | None = None
    rate: float | None = None
    duration_s: float | None = None
    lead_in_s: float = DEFAULT_LEAD_IN_S
    cache_dir: Path | None = None


@dataclass
class Session:
    """A routine with everything needed to hear it."""

    routine: Routine
    plan: Plan
    speech: Speech
    sounds: SoundBank


class _Lengths:
    def __init__(self, speech: Speech, sounds: SoundBank):
        self.speech = speech.length
        self.sound = sounds.length


class _Recorder:
    """Lengths that only note which texts a plan asks for (with a rough guess at their length)."""

    GUESS_S_PER_CHAR: Final = 0.06

    def __init__(self, sample_rate: int, sounds: SoundBank):
        self.texts: list[str] = []
        self.rate = sample_rate
        self.sound = sounds.length

    def speech(self, text: str) -> int:
        self.texts.append(text)
        return int(self.rate * self.GUESS_S_PER_CHAR * len(text))


def speak_ahead(routine: Routine, speech: Speech, sounds: SoundBank, lead_in_s: float) -> None:
    """Synthesise what the session will say before planning, with a progress line for a cold cache.

    A first run of a routine spends most of its time here (Piper makes speech about 25x faster
    than it is spoken); planning then finds every length ready.  Fitting a duration may still ask
    for a few more texts ("Hold for 24 seconds."), which are made as it asks.
    """
    recorder = _Recorder(SAMPLE_RATE, sounds)
    build_plan(routine, recorder, sample_rate=SAMPLE_RATE, lead_in_s=lead_in_s)
    texts = list(dict.fromkeys(recorder.texts))
    progress = Progress(len(texts), f"Speaking {routine.title} ({speech.label})")
    try:
        for done, text in enumerate(texts, 1):
            speech.audio(text)
            progress.advance_to(done)
    finally:
        progress.close()


def open_speech(routine: Routine | None, options: Options) -> Speech:
    voice = options.voice or (routine.voice if routine else None)
    rate = options.rate if options.rate is not None else (routine.rate if routine else 1.0)
    with _blamed_on(routine if not options.voice else None, "voice"):
        return Speech(voice, rate=rate, cache_dir=options.cache_dir, sample_rate=SAMPLE_RATE)


def open_sounds(routine: Routine) -> SoundBank:
    """The cue sounds, the script's own files read now: a bad one is found before any speech is made."""
    sounds = SoundBank(SAMPLE_RATE, routine.sounds)
    with _blamed_on(routine, "sounds"):
        for name in routine.sounds:
            sounds.audio(name)
    return sounds


@contextmanager
def _blamed_on(routine: Routine | None, key: str) -> Iterator[None]:
    """A voice or sound file the script named that cannot be used: reported at the script's line."""
    try:
        yield
    except (EngineError, AudioError) as exc:
        where = routine.locations.get(key) if routine is not None else None
        if where is None:
            raise
        raise ScriptError([Problem(where, str(exc))]) from None


def prepare(name_or_path: str, options: Options, speech: Speech | None = None) -> Session:
    """Load, synthesise and plan one routine.  ``speech`` may be shared across routines."""
    routine = load_routine(find_routine(name_or_path))
    speech = speech or open_speech(routine, options)
    sounds = open_sounds(routine)
    speak_ahead(routine, speech, sounds, options.lead_in_s)
    plan = fit_plan(
        routine,
        _Lengths(speech, sounds),
        target_s=options.duration_s,
        sample_rate=SAMPLE_RATE,
        lead_in_s=options.lead_in_s,
    )
    return Session(routine, plan, speech, sounds)


def prepare_live(name_or_path: str, options: Options, *, before_speech: Callable[[], None] | None = None) -> LivePlan:
    """Load one routine and start making its speech; the plan grows exact as the speech arrives.

    ``before_speech`` runs once the script, its voice and its sounds are checked and before the
    voice speaks: the player looks for its sound device there, so a machine without one hears so
    at once, not after the first sentence (or, with ``--from``, after every sentence before it).
    """
    routine = load_routine(find_routine(name_or_path))
    speech = open_speech(routine, options)
    sounds = open_sounds(routine)
    if before_speech is not None:
        try:
            before_speech()
        except BaseException:
            speech.close()
            raise
    live = LivePlan(routine, speech, sounds, target_s=options.duration_s if options.duration_s is not None
                    else routine.duration, lead_in_s=options.lead_in_s, sample_rate=SAMPLE_RATE)
    return live.start()
