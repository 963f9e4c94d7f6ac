"""The pipeline in one place: script -> speech -> plan, ready to mix, play or export.

Every command goes through ``prepare`` (speech first, then the plan) or, to play at once,
``prepare_live`` (the plan while the speech is made, ``play/live.py``).  Deciding which
routines to prepare, with which voice, and in what order (``export_routines``, ``routine_listing``)
is done here too: this and ``cli`` are the only modules that know all the stages.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Final

import numpy as np

from .audio.bed import Bed, open_bed
from .audio.mix import Mix
from .audio.sounds import SoundBank
from .errors import (
    AudioError,
    DeviceLostError,
    EngineError,
    Problem,
    RoutineNotFoundError,
    ScriptError,
    VoiceguideError,
)
from .export import writer as export
from .play.device import DeviceLost, play_to_end
from .play.live import LivePlan
from .play.player import Ending
from .play.resume import Places, resume_step
from .progress import Progress
from .script.library import SUFFIXES, find_routine
from .script.parse import load_routine
from .script.routine import Routine
from .script.settings import NO_OVERRIDES, Overrides, Settings, resolve
from .script.words import SAMPLE_DESCRIPTION, SAMPLE_LINE, phrase
from .timeline.clock import clock
from .timeline.events import EventKind, Role
from .timeline.fit import fit_plan
from .timeline.plan import Chapter, ChoiceKey, Event, Plan, build_plan
from .timeline.report import sound_line
from .voice import engines
from .voice.sayable import check_sayable
from .voice.speech import Speech, guess_per_char

SAMPLE_ROUTINE: Final = "standing-reset"
SAMPLE_FILE: Final = "voices-sample.mp3"
SAMPLE_GAP_S: Final = 1.0


@dataclass
class Session:
    """A routine with everything needed to hear it."""

    routine: Routine
    plan: Plan
    speech: Speech
    sounds: SoundBank
    settings: Settings
    """What it was made with: the script's values with the command line's over them."""
    bed: Bed | None = None

    @property
    def sound(self) -> str:
        """Which bed and cue level, said the way ``plan``, the cue sheet and the screen say it."""
        return sound_line(self.bed, self.settings.cue_level_lu)

    def plan_json(self) -> str:
        """``plan --json``: the plan, and under ``sound`` the bed (None: none) and the levels in LU."""
        data = self.plan.to_dict()
        data["sound"] = {"bed": self.bed.label if self.bed else None,
                         "bed_level": self.bed.level_lu if self.bed else None,
                         "cue_level": self.settings.cue_level_lu}
        return json.dumps(data, indent=2)  # \u escapes: ASCII survives any stdout's encoding


class _Lengths:
    def __init__(self, speech: Speech, sounds: SoundBank):
        self.speech = speech.length
        self.sound = sounds.length


class _Recorder:
    """Lengths that only note which texts a plan asks for (with a rough guess at their length)."""

    def __init__(self, speech: Speech, sounds: SoundBank):
        self.texts: list[str] = []
        self.per_char = guess_per_char(speech.settings.rate, speech.sample_rate)
        self.sound = sounds.length

    def speech(self, text: str) -> int:
        self.texts.append(text)
        return int(self.per_char * len(text))


def planned_texts(routine: Routine, speech: Speech, sounds: SoundBank, settings: Settings,
                  fixed: dict[ChoiceKey, float] | None = None) -> list[str]:
    """What the session will say, in order, from the plan fitted with guessed lengths (no speech made);
    ``fixed``: values chosen already, kept."""
    guessed = fit_plan(routine, _Recorder(speech, sounds), target_s=settings.duration_s, fixed=fixed,
                       sample_rate=settings.sample_rate, lead_in_s=settings.lead_in_s)
    recorder = _Recorder(speech, sounds)
    build_plan(routine, recorder, choices=guessed.choices, sample_rate=settings.sample_rate,
               lead_in_s=settings.lead_in_s)
    return list(dict.fromkeys(recorder.texts))


def speak_ahead(routine: Routine, speech: Speech, sounds: SoundBank, settings: Settings,
                fixed: dict[ChoiceKey, float] | None = None) -> None:
    """Synthesise what the session will say before planning, with a progress line for a cold cache.

    A first run of a routine spends most of its time here (Piper makes speech about 25x faster
    than it is spoken); planning then finds every length ready.  The texts are those of the plan
    fitted with guessed lengths (fitted to the settings' duration, as ``prepare`` fits), so a target
    the middles of the ranges would overshoot costs nothing; fitting with the real lengths may still
    ask for a few more texts ("Hold for 24 seconds."), made as it asks.
    """
    texts = planned_texts(routine, speech, sounds, settings, fixed)
    check_sayable(routine, speech, texts)  # Hebrew for an English voice: the script's line, before any speech
    progress = Progress(len(texts), f"Speaking {routine.title} ({speech.label})")
    workers = min(speech.engine.workers, len(texts))
    try:
        if workers <= 1:
            for done, text in enumerate(texts, 1):
                speech.audio(text)
                progress.advance_to(done)
            return
        # Several at once (``Engine.workers``): the cache writes each entry whole, so even two
        # processes making one sentence leave one good entry.  The longest first, so the last ones
        # to be made are short and neither worker idles long while the other finishes.
        pool = ThreadPoolExecutor(workers, thread_name_prefix="speech")
        longest_first = sorted(texts, key=len, reverse=True)
        try:
            for done, made in enumerate(as_completed([pool.submit(speech.audio, t) for t in longest_first]), 1):
                made.result()  # an engine's error, as when made one at a time
                progress.advance_to(done)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # an error or Ctrl-C: what was started ends
    finally:
        progress.close()


def open_speech(routine: Routine, settings: Settings, cache_dir: Path | None) -> Speech:
    """The voice the settings name: one the script named that cannot run is reported at its line."""
    with _blamed_on(routine if settings.voice == routine.voice else None, "voice"):
        return Speech(settings.voice, rate=settings.rate, cache_dir=cache_dir, sample_rate=settings.sample_rate)


def open_sounds(routine: Routine, sample_rate: int) -> SoundBank:
    """The cue sounds, the script's own files read now: a bad one is found before any speech is made."""
    sounds = SoundBank(sample_rate, routine.sounds)
    with _blamed_on(routine, "sounds"):
        for name in routine.sounds:
            sounds.audio(name)
    return sounds


def choose_bed(routine: Routine, settings: Settings) -> Bed | None:
    """The bed the settings name, made or decoded now: a bad file is found before any speech is made,
    located at the script's ``bed:`` line if it named it."""
    if settings.bed is None:
        return None
    with _blamed_on(routine if settings.bed == routine.bed else None, "bed"):
        return open_bed(settings.bed, settings.bed_level_lu, settings.sample_rate)


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


def prepare(name_or_path: str | Routine, overrides: Overrides = NO_OVERRIDES, *, cache_dir: Path | None = None,
            shared: Voices | None = None, fixed: dict[ChoiceKey, float] | None = None) -> Session:
    """Load (unless given a Routine), synthesise and plan one routine, with ``overrides`` over its
    script.  ``shared`` lends the voice and the bed of routines that agree on them (a batch makes
    each once; its speech cache is then ``shared``'s).  ``fixed``: values chosen already (a
    programme's progression), kept as they are."""
    routine = name_or_path if isinstance(name_or_path, Routine) else load_routine(find_routine(name_or_path))
    settings = resolve(routine, overrides)
    speech = shared.speech_for(routine, settings) if shared else open_speech(routine, settings, cache_dir)
    sounds = open_sounds(routine, settings.sample_rate)
    bed = shared.bed_for(routine, settings) if shared else choose_bed(routine, settings)
    speak_ahead(routine, speech, sounds, settings, fixed)
    plan = fit_plan(routine, _Lengths(speech, sounds), target_s=settings.duration_s, fixed=fixed,
                    sample_rate=settings.sample_rate, lead_in_s=settings.lead_in_s)
    return Session(routine, plan, speech, sounds, settings, bed)


def prepare_live(name_or_path: str | Routine, overrides: Overrides = NO_OVERRIDES, *, cache_dir: Path | None = None,
                 before_speech: Callable[[], None] | None = None,
                 fixed: dict[ChoiceKey, float] | None = None) -> LivePlan:
    """Load one routine and start making its speech; the plan grows exact as the speech arrives.

    ``before_speech`` runs once the script, its voice and its sounds are checked and before the
    voice speaks: the player looks for its sound device there, so a machine without one hears so
    at once, not after the first sentence (or, with ``--from``, after every sentence before it).
    """
    routine = name_or_path if isinstance(name_or_path, Routine) else load_routine(find_routine(name_or_path))
    settings = resolve(routine, overrides)
    speech = open_speech(routine, settings, cache_dir)
    sounds = open_sounds(routine, settings.sample_rate)
    bed = choose_bed(routine, settings)
    try:
        check_sayable(routine, speech, planned_texts(routine, speech, sounds, settings, fixed))
        if before_speech is not None:
            before_speech()
    except BaseException:
        speech.close()
        raise
    return LivePlan(routine, speech, sounds, settings, bed=bed, fixed=fixed).start()


@dataclass(frozen=True)
class Played:
    """How a live play ended, and what became of its place for ``--resume``."""

    ending: Ending
    finished: bool
    """It reached the end (or stopped in the closing words): there is nothing to resume."""
    not_kept: OSError | None = None
    """Why the place could not be kept, when it could not."""
    kept_in: Path | None = None
    """The folder places are kept in."""
    routine: Routine | None = None
    planned_s: float | None = None
    """The session's length, as planned when it ended."""
    played_s: float = 0.0
    """How much audio was played (``Ending.heard``): what the practice log keeps."""
    week: int | None = None
    """The programme's week the session belongs to (from 1), for the practice log; None outside one."""
    logged: bool = True
    """The play may be kept in the practice log (False: its programme says ``log: false``)."""


def play_live(name_or_path: str | Routine, overrides: Overrides = NO_OVERRIDES, *, cache_dir: Path | None = None,
              from_step: str | None = None, resume: bool = False, fixed: dict[ChoiceKey, float] | None = None,
              check_device: Callable[[], None] | None = None,
              notify: Callable[[str], None] = lambda note: None) -> Played:
    """Play a routine live: from the start, a ``--from`` step, or where its last play was left
    (``resume``, settled before any speech is made); the place is kept when it ends early and
    forgotten when it reaches the end."""
    from .play.player import play

    routine = name_or_path if isinstance(name_or_path, Routine) else load_routine(find_routine(name_or_path))
    places = Places()
    start: str | int | None = from_step
    if resume:
        index, note = resume_step(routine, places.recall(routine))
        if note:
            notify(note)
        start = index
    live = prepare_live(routine, overrides, cache_dir=cache_dir, before_speech=check_device, fixed=fixed)
    ending = play(live, from_step=start)
    played = partial(Played, ending, routine=routine, planned_s=live.plan.duration_s,
                     played_s=ending.heard / live.sample_rate)
    if not ending.early or ending.step >= len(routine.steps):  # the finish: nothing left to resume
        places.forget(routine)
        return played(finished=True)
    try:
        places.remember(routine, ending.step, ending.how)
    except OSError as exc:
        return played(finished=False, not_kept=exc, kept_in=places.folder)
    return played(finished=False, kept_in=places.folder)


class Voices:
    """One ``Speech`` per (voice, rate) that the routines' settings ask for, and one bed per (bed,
    level): scripts that agree share them, so a bed file is decoded and measured once for a batch.

    A context manager: every voice opened is closed at the end.
    """

    def __init__(self, cache_dir: Path | None = None):
        self.cache_dir = cache_dir
        self._open: dict[tuple[str | None, float], Speech] = {}
        self._beds: dict[tuple[str | None, float], Bed | None] = {}

    def bed_for(self, routine: Routine, settings: Settings) -> Bed | None:
        key = (settings.bed, settings.bed_level_lu)
        if key not in self._beds:
            self._beds[key] = choose_bed(routine, settings)
        return self._beds[key]

    def speech_for(self, routine: Routine, settings: Settings) -> Speech:
        key = (settings.voice, settings.rate)
        if key not in self._open:
            self._open[key] = open_speech(routine, settings, self.cache_dir)
        return self._open[key]

    def __enter__(self) -> Voices:
        return self

    def __exit__(self, *exc: object) -> None:
        for speech in self._open.values():
            speech.close()


def routine_listing(paths: list[Path], overrides: Overrides = NO_OVERRIDES, *, cache_dir: Path | None = None) -> str:
    """Name, title and length of each routine, planned as ``plan`` plans it (its own voice and
    rate); one that cannot be planned says why instead."""
    rows = []
    with Voices(cache_dir) as voices:
        for path in paths:
            try:
                routine = load_routine(path)
                session = prepare(routine, overrides, shared=voices)
                rows.append((path.stem, session.routine.title, clock(session.plan.duration_s)))
            except VoiceguideError as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                rows.append((path.stem, f"(cannot be planned: {first})", "-"))
    if not rows:
        return "no routines found"
    name_w = max(len(r[0]) for r in rows)
    title_w = max((len(t) for _, t, d in rows if d != "-"), default=0)  # a long reason does not widen the table
    return "\n".join(f"{n:<{name_w}}  {t:<{title_w}}  {d:>7}" if d != "-" else f"{n:<{name_w}}  {t}"
                     for n, t, d in rows)


def expand_routines(names: list[str]) -> tuple[list[str], list[Path]]:
    """Routine names and paths as given, with each folder replaced by its scripts (sorted)."""
    routines, folders = [], []
    for name in names:
        path = Path(name)
        if path.is_dir():
            scripts = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
            if not scripts:
                raise RoutineNotFoundError(f"folder {name!r} holds no routine scripts (*.yaml)")
            routines += [str(p) for p in scripts]
            folders.append(path)
        else:
            routines.append(name)
    return routines, folders


def export_routines(names: list[str], overrides: Overrides = NO_OVERRIDES, *, cache_dir: Path | None = None,
                    output: Path | None, fmt: str | None, cue_sheet: bool,
                    on_written: Callable[[Path], None] | None = None) -> list[Path]:
    """Export routines (names, paths or folders) and return every path written, in order.

    ``on_written`` hears of each file as it is finished: should a later one fail or be interrupted,
    the caller has already told the user which files are whole.  Every script is loaded and planned
    before any file is written, so a mistake in the fifth script costs no half-finished export.
    """
    routines, folders = expand_routines(names)
    single = len(routines) == 1 and not folders
    fmt = export.output_format(output, fmt, single)
    if fmt == "mp3":  # a script sets no bit rate: the defaults' with the overrides' says it for every routine
        defaults = resolve(None, overrides)
        export.check_bitrate(defaults.bitrate_kbps, defaults.sample_rate)
    with Voices(cache_dir) as voices:
        sessions = []
        for name in routines:
            routine = load_routine(find_routine(name))
            sessions.append(prepare(routine, overrides, shared=voices))
        for session in sessions:
            for warning in session.plan.warnings:  # a duration that cannot be met, say
                print(warning, file=sys.stderr)
        return export.write_all(sessions, names, folders, output, fmt, cue_sheet, on_written or (lambda path: None))


# --------------------------------------------------------------------------- hearing the voices


class _Clips:
    """Finished audio by key: the speech of a voice sample, as the mixer asks for it."""

    def __init__(self) -> None:
        self.clips: dict[str, np.ndarray] = {}

    def length(self, key: str) -> int:
        return len(self.clips[key])

    def audio(self, key: str) -> np.ndarray:
        return self.clips[key]


def sample_sentence() -> str:
    """What a voice sample says: the first setup line of a built-in routine."""
    routine = load_routine(find_routine(SAMPLE_ROUTINE))
    return next(line for step in routine.steps for line in step.setup)


def sample_voices(voice: str | None) -> list[str]:
    """The voices to sample: the one named, else every engine that speaks and can run here."""
    if voice:
        return [voice]
    return [name for name, cls in engines.default_first(engines.engine_classes())
            if cls.speaks_words and cls.unavailable_reason() is None]


def voice_sample(voice: str | None, overrides: Overrides = NO_OVERRIDES, *, cache_dir: Path | None = None,
                 notify: Callable[[str], None]) -> tuple[Plan, _Clips]:
    """One sentence in each voice (or the one named), one after another, one chapter each, with the
    rate and lead-in of ``overrides``.

    A voice that cannot speak is told through ``notify`` and left out, unless it was named.
    """
    settings = resolve(None, overrides)
    rate = settings.sample_rate
    sentence = sample_sentence()
    clips, events, chapters = _Clips(), list[Event](), list[Chapter]()
    at = int(settings.lead_in_s * rate)
    gap = int(SAMPLE_GAP_S * rate)
    for spec in sample_voices(voice):
        try:
            with Speech(spec, rate=settings.rate, cache_dir=cache_dir, sample_rate=rate) as speech:
                key = phrase(SAMPLE_LINE, voice=speech.label, sentence=sentence)
                clips.clips[key] = speech.audio(sentence)
                label = speech.label
        except EngineError as exc:
            if voice:
                raise
            notify(f"{spec}: {exc}")
            continue
        index, end = len(events), at + len(clips.clips[key])
        events.append(Event(at, end, EventKind.SPEECH, index, text=key, role=Role.SAMPLE))
        chapters.append(Chapter(label, at, end + gap, index))
        at = end + gap
    if not events:
        raise EngineError("no voice can speak here; `voiceguide voices` says why")
    routine = Routine(title="voiceguide voices", steps=(), summary=sentence, caution=False)
    return Plan(routine, rate, at, tuple(events), tuple(chapters)), clips


def play_voice_sample(plan: Plan, clips: _Clips) -> None:
    """Play a voice sample to its end on the sound device; DeviceLostError if the device stops."""
    try:
        play_to_end(np.concatenate(list(export.pcm_blocks(Mix(plan, clips, _Clips())))), plan.sample_rate)
    except DeviceLost as lost:
        raise DeviceLostError(f"the sound device stopped ({lost.detail}) {lost.position / plan.sample_rate:.1f} s "
                              f"into the voice sample; write it to a file instead with `voiceguide voices --sample "
                              f"-o {SAMPLE_FILE}`") from None


def sample_target(written: str) -> Path:
    """Where ``voices --sample -o`` writes, as for ``export``: a folder (an existing one, a name ending
    in a slash, or a name with no extension) gets ``voices-sample.mp3``; a file must end in .mp3 or
    .wav.  Checked before any speech is made (``export.output_format`` refuses a device or a FIFO)."""
    target = Path(written)
    if written.endswith(("/", "\\")) or target.is_dir() or not target.suffix:
        target = target / SAMPLE_FILE
    export.check_folder(target.parent)
    export.output_format(target, None, True)
    return target


def write_voice_sample(plan: Plan, clips: _Clips, target: Path) -> Path:
    """A voice sample as an MP3 (or a WAV, by the extension) with a chapter per voice."""
    export.make_folder(target.parent)
    if target.suffix.lower() == ".wav":
        return export.write_wav(Mix(plan, clips, _Clips()), target)
    tags = export.Tags("voiceguide voices", phrase(SAMPLE_DESCRIPTION, sentence=plan.routine.summary))
    return export.write_mp3(Mix(plan, clips, _Clips()), target, tags=tags)
