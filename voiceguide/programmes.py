"""Programmes over the pipeline: each day's sessions planned, shown, played, exported and served.

``voiceguide/programme/`` reads a programme and says which sessions fall on which day, with the
values its progression fixes; this module plans those sessions with the real planner (their
lengths, the values a duration chooses), through ``session`` like any routine.  A session's options
come in layers: the routine's, then the programme's for that session, then the command line's.

``today`` and ``programme plan`` should answer at once, so each session's length and values are
remembered once planned (``programme-lengths.json`` in the speech cache), keyed by everything they
depend on: voiceguide's version, the routine files' contents, the fixed values, the options and the
caution.  A session not yet planned is planned then (the first time, with a cold speech cache, this
makes its speech).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Final

from . import __version__
from .errors import VoiceguideError
from .files import file_sha256, write_text
from .programme import Day, Planned, Programme, current_programme, load_programme, programme_days
from .programme.read import find_programme
from .programme.state import StateError
from .script.routine import Routine, walk
from .script.settings import Overrides, Settings, combined, resolve

MEMO_FILE: Final = "programme-lengths.json"
MEMO_FORMAT: Final = 1
MAX_MEMO: Final = 2000
"""Sessions remembered; the oldest go first."""
CALENDAR: Final = "programme.ics"


class ProgrammeError(VoiceguideError, LookupError):
    """No programme to use (none given, none started)."""


@dataclass(frozen=True)
class Chosen:
    """A planned session at a glance: its length and the values inside its ranges."""

    length_s: float
    values: tuple[dict, ...]
    """``{"step": name, "key": "reps", "side": None, "value": 8}`` for every range."""

    def values_text(self) -> str:
        return ", ".join(value_text(v) for v in self.values)


def value_text(v: dict) -> str:
    unit = {"reps": " reps", "breaths": " breaths", "rounds": " rounds"}.get(v["key"], " s")
    what = v["step"] if v["key"] in ("reps", "hold", "breaths", "rounds") else f"{v['step']} {v['key']}"
    side = f" ({v['side']})" if v["side"] else ""
    return f"{what}{side} {v['value']:g}{unit}"


# --------------------------------------------------------------------------- which programme


@dataclass(frozen=True)
class Opened:
    programme: Programme
    start: date
    path: Path
    current: bool
    """The started one (no FILE given)."""


def open_programme(file: str | None, today: date | None = None) -> Opened:
    """The programme named, else the current one; its first day: ``start:``, else the day it was
    started, else (a file never started) today."""
    try:
        current = current_programme()
    except StateError:
        if file is None:
            raise
        current = None  # a file was named: the damaged state file is not needed (and is left as it is)
    if file is None:
        if current is None:
            raise ProgrammeError("no programme is started; give a programme file, or start one with "
                                 "`voiceguide programme start FILE`")
        path, is_current = current.path, True
    else:
        path = find_programme(file)
        is_current = current is not None and current.path == path.resolve()
    programme = load_programme(path)
    start = programme.start or (current.start if is_current and current else None) or today or date.today()
    return Opened(programme, start, path, is_current)


# --------------------------------------------------------------------------- options and identity


def session_overrides(planned: Planned, cli: Overrides) -> Overrides:
    """One session's layers over its script as one: the programme's options, the command line's over them."""
    return combined(planned.entry.options, cli)


def session_settings(planned: Planned, cli: Overrides) -> Settings:
    """How one session sounds and lasts: the routine's values, the programme's, the command line's."""
    return resolve(planned.routine, planned.entry.options, cli)


def session_routine(planned: Planned) -> Routine:
    """The routine as this day hears it: its caution in one short sentence after the first day."""
    routine = planned.routine
    return replace(routine, brief_caution=True) if planned.brief_caution and routine.caution else routine


@functools.cache
def _sha256(path: str) -> str:
    """A routine file's hash, once a command: a programme names one file on many days."""
    return file_sha256(Path(path))


def session_key(planned: Planned, settings: Settings) -> str:
    """What a session's audio depends on, hashed: equal keys, equal sessions."""
    routine = planned.routine
    parts: list[object] = [__version__, [_sha256(s) for s in routine.sources or (routine.path,)],
                           planned.identity(settings.duration_s)[1:], sorted(asdict(settings).items())]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def chosen_values(routine: Routine, choices: dict) -> tuple[dict, ...]:
    """The values inside the routine's ranges (not its fixed numbers), in the order of the steps."""
    found = []
    order = {s.ref: n for n, s in enumerate(walk(routine.steps))}
    for (ref, key, side), value in sorted(choices.items(), key=lambda kv: (order.get(kv[0][0], 0), kv[0][1],
                                                                            kv[0][2] or "")):
        step = routine.by_ref(ref)
        span = getattr(step, key, None) if step is not None else None
        if span is None or span.fixed:
            continue
        name = step.name if step is not None and step.name else key
        found.append({"step": name, "key": key, "side": side, "value": value})
    return tuple(found)


# --------------------------------------------------------------------------- lengths, remembered


def memo_dir(cache_dir: Path | None) -> Path:
    """The speech cache's folder (as ``voice.cache.default_cache_dir`` finds it, without importing numpy)."""
    if cache_dir is not None:
        return cache_dir
    if os.environ.get("VOICEGUIDE_CACHE"):
        return Path(os.environ["VOICEGUIDE_CACHE"])
    if (Path.cwd() / "audio_cache").is_dir():
        return Path.cwd() / "audio_cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "voiceguide"


class Lengths:
    """Each session's length and values, planned once and remembered (module docstring)."""

    def __init__(self, cli: Overrides, cache_dir: Path | None = None):
        self.cli, self.cache_dir = cli, cache_dir
        self.path = memo_dir(cache_dir) / MEMO_FILE
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.known: dict[str, dict] = dict(data["sessions"]) if data.get("format") == MEMO_FORMAT else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.known = {}  # none yet, or unreadable: planned again
        self.changed = False

    def of(self, planned: Planned) -> Chosen:
        key = session_key(planned, session_settings(planned, self.cli))
        kept = self.known.get(key)
        if not (isinstance(kept, dict) and isinstance(kept.get("length"), (int, float))
                and isinstance(kept.get("values"), list)):
            from .session import prepare

            session = prepare(session_routine(planned), session_overrides(planned, self.cli),
                              cache_dir=self.cache_dir, fixed=planned.fixed or None)
            kept = {"length": round(session.plan.duration_s, 3),
                    "values": list(chosen_values(planned.routine, session.plan.choices))}
            self.remember(key, kept)
        return Chosen(float(kept["length"]), tuple(kept["values"]))

    def remember(self, key: str, kept: dict) -> None:
        self.known.pop(key, None)
        self.known[key] = kept
        while len(self.known) > MAX_MEMO:
            self.known.pop(next(iter(self.known)))
        self.changed = True

    def save(self) -> None:
        if self.changed:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                write_text(self.path, json.dumps({"format": MEMO_FORMAT, "sessions": self.known}))
            except OSError:
                pass  # only a memo: planned again next time
            self.changed = False


# --------------------------------------------------------------------------- naming the sessions


def session_names(days: Sequence[Day], cli: Overrides) -> dict[tuple, str]:
    """A file name (without extension) for each distinct session: the routine's file name, numbered
    in the order they first come when the programme has several versions of one routine."""
    seen: dict[str, list[tuple]] = {}
    for day in days:
        for planned in day.sessions:
            settings = session_settings(planned, cli)
            ident = (planned.identity(settings.duration_s), settings)
            versions = seen.setdefault(Path(planned.routine.path).stem, [])
            if ident not in versions:
                versions.append(ident)
    return {ident: stem if len(versions) == 1 else f"{stem}-{n}"
            for stem, versions in seen.items() for n, ident in enumerate(versions, 1)}


def name_of(names: dict[tuple, str], planned: Planned, cli: Overrides) -> str:
    settings = session_settings(planned, cli)
    return names[(planned.identity(settings.duration_s), settings)]


# --------------------------------------------------------------------------- as text


def play_command(number: int, count: int, chosen: Opened, on: date, today: date, voice: str | None = None) -> str:
    """The command that plays session ``number`` of ``count`` on day ``on``."""
    words = ["voiceguide", "play", "today" if count == 1 else f"today:{number}"]
    if voice:
        words += ["--voice", voice]
    if not chosen.current:
        words += ["--programme", str(chosen.path)]
    if on != today:
        words += ["--date", on.isoformat()]
    return shlex.join(words)


def long_date(on: date) -> str:
    return f"{on:%A} {on.day} {on:%B %Y}"


# --------------------------------------------------------------------------- the day's sessions


def day_sessions(chosen: Opened, on: date) -> list[Planned]:
    day = _day(chosen, on)
    return list(day.sessions) if day else []


def _day(chosen: Opened, on: date) -> Day | None:
    number = (on - chosen.start).days
    if not 0 <= number < 7 * chosen.programme.weeks:
        return None
    return programme_days(chosen.programme, chosen.start)[number]


def pick_session(chosen: Opened, on: date, number: int | None, today: date) -> Planned:
    """The session ``play today[:N]`` means, or a message saying what there is and how to choose."""
    programme = chosen.programme
    day = _day(chosen, on)
    if day is None:
        when = "has not started yet" if on < chosen.start else "is over"
        raise ProgrammeError(f"{programme.title!r} {when} on {long_date(on)}; `voiceguide today` says when it runs")
    if not day.sessions:
        raise ProgrammeError(f"nothing is planned on {long_date(on)} in {programme.title!r}: a day off")
    if number is None and len(day.sessions) == 1:
        return day.sessions[0]
    listing = "; ".join(f"{n}: {s.routine.title}" for n, s in enumerate(day.sessions, 1))
    if number is None:
        commands = " or ".join(f"`{play_command(n, 2, chosen, on, today)}`" for n in range(1, len(day.sessions) + 1))
        raise ProgrammeError(f"{long_date(on)} has {len(day.sessions)} sessions ({listing}); say which: {commands}")
    if not 1 <= number <= len(day.sessions):
        raise ProgrammeError(f"{long_date(on)} has {len(day.sessions)} session{'s' if len(day.sessions) > 1 else ''} "
                             f"({listing}); write today:1" + (f" to today:{len(day.sessions)}"
                                                             if len(day.sessions) > 1 else ""))
    return day.sessions[number - 1]


# --------------------------------------------------------------------------- export


def calendar_events(chosen: Opened, lengths: Lengths, names: dict[tuple, str], cli: Overrides) -> list:
    from .export.calendar import CalendarEvent
    from .timeline.clock import clock

    programme = chosen.programme
    ident = hashlib.sha256(f"{Path(programme.path).resolve()}|{chosen.start}".encode()).hexdigest()[:16]
    events = []
    for day in programme_days(programme, chosen.start):
        for n, planned in enumerate(day.sessions, 1):
            got = lengths.of(planned)
            name = name_of(names, planned, cli)
            description = [f"Length: {clock(got.length_s)}."]
            if got.values:
                description.append(f"Values: {got.values_text()}.")
            description.append(f"File: {name}.mp3")
            description.append(f"Week {day.week} of {day.weeks}, day {day.number}. {programme.title}.")
            events.append(CalendarEvent(
                uid=f"{ident}-{day.date:%Y%m%d}-{n}@voiceguide", day=day.date, at=programme.reminder,
                duration_s=got.length_s, summary=planned.routine.title, description="\n".join(description)))
    return events


def export_programme(chosen: Opened, cli: Overrides, folder: Path, *, cache_dir: Path | None = None,
                     on_written: Callable[[Path], None] = lambda path: None) -> list[Path]:
    """One MP3 per distinct session and ``programme.ics``, into ``folder``.  Every session is planned
    before any file is written, so a problem in the last costs no half export."""
    from .export import writer
    from .export.calendar import write_calendar
    from .script.settings import DEFAULT_BITRATE_KBPS, SAMPLE_RATE
    from .session import Voices, prepare

    writer.check_bitrate(cli.bitrate_kbps or DEFAULT_BITRATE_KBPS, SAMPLE_RATE)
    days = programme_days(chosen.programme, chosen.start)
    names = session_names(days, cli)
    distinct: dict[str, Planned] = {}
    for day in days:
        for planned in day.sessions:
            distinct.setdefault(name_of(names, planned, cli), planned)
    lengths = Lengths(cli, cache_dir)
    written: list[Path] = []
    voices = Voices(cache_dir)
    try:
        sessions = []
        for name, planned in distinct.items():
            session = prepare(session_routine(planned), session_overrides(planned, cli), shared=voices,
                              fixed=planned.fixed or None)
            for warning in session.plan.warnings:
                print(warning, file=sys.stderr)
            lengths.remember(session_key(planned, session_settings(planned, cli)),
                             {"length": round(session.plan.duration_s, 3),
                              "values": list(chosen_values(planned.routine, session.plan.choices))})
            sessions.append((name, session))
        writer.make_folder(folder)
        for n, (name, session) in enumerate(sessions, 1):
            path = writer.write_session(session, folder / f"{name}.mp3", number=n, total=len(sessions),
                                        numbered=len(sessions) > 1)
            written.append(path)
            on_written(path)
        path = write_calendar(folder / CALENDAR, chosen.programme.title, calendar_events(chosen, lengths, names, cli))
        written.append(path)
        on_written(path)
    finally:
        voices.__exit__(None, None, None)
        lengths.save()
    return written


def start_programme(file: str, today: date) -> tuple[Opened, Path]:
    """``programme start``: check the programme, then remember it as the current one from its
    ``start:`` or today."""
    from .programme import remember_programme

    path = find_programme(file)
    programme = load_programme(path)
    start = programme.start or today
    where = remember_programme(path, start)
    return Opened(programme, start, path, True), where
