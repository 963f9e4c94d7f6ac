"""The pipeline in one place: script -> speech -> plan, ready to mix, play or export.

Every command goes through ``prepare``; it is the only module that knows all the stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .fit import fit_plan
from .library import find_routine
from .parse import load_routine
from .plan import DEFAULT_LEAD_IN_S, SAMPLE_RATE, Plan
from .routine import Routine
from .sounds import SoundBank
from .speech import Speech


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


def open_speech(routine: Routine | None, options: Options) -> Speech:
    voice = options.voice or (routine.voice if routine else None)
    rate = options.rate if options.rate is not None else (routine.rate if routine else 1.0)
    return Speech(voice, rate=rate, cache_dir=options.cache_dir, sample_rate=SAMPLE_RATE)


def prepare(name_or_path: str, options: Options, speech: Speech | None = None) -> Session:
    """Load, synthesise and plan one routine.  ``speech`` may be shared across routines."""
    routine = load_routine(find_routine(name_or_path))
    speech = speech or open_speech(routine, options)
    sounds = SoundBank(SAMPLE_RATE, routine.sounds)
    plan = fit_plan(
        routine,
        _Lengths(speech, sounds),
        target_s=options.duration_s,
        sample_rate=SAMPLE_RATE,
        lead_in_s=options.lead_in_s,
    )
    return Session(routine, plan, speech, sounds)
