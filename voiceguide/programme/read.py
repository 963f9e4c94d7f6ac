"""Programme files (YAML) -> ``Programme``, or every problem at once, located and explained.

Read with the routine scripts' own reader (``script/yamlsafe.py``: nothing constructed, nothing
unbounded; ``script/fields.py``: located problems that say what to write instead).  Every routine a
programme names is read and checked as well: its problems are located in its own file.
"""

from __future__ import annotations

import os
import re
from datetime import date, time
from pathlib import Path
from typing import Final

from yaml.nodes import Node, ScalarNode, SequenceNode

from ..errors import Location, Problem, RoutineNotFoundError, ScriptError
from ..script.fields import Reader, describe, did_you_mean
from ..script.library import SUFFIXES, builtin_dir, routines_in
from ..script.parse import analyse, looks_like_a_file
from ..script.routine import BED_NAMES, Routine
from ..script.settings import Overrides
from ..script.yamlsafe import MAX_BYTES, TAG, StopReading, compose, decode_text
from .model import CAUTION_FULL, MAX_SESSIONS, MAX_WEEKS, WEEKDAYS, Entry, Phase, Programme
from .progress import has_ranges

TOP_KEYS: Final = ("title", "summary", "start", "reminder", "caution", "log", "phases")
PHASE_KEYS: Final = ("weeks", "sessions", "name")
SESSION_KEYS: Final = ("routine", "days", "progress", "duration", "voice", "rate", "bed", "bed_level", "cue_level")
TOP_SYNONYMS: Final = {"name": "title", "description": "summary", "begin": "start", "starts": "start",
                       "time": "reminder", "alarm": "reminder", "weeks": "phases", "stages": "phases"}
SESSION_SYNONYMS: Final = {"script": "routine", "name": "routine", "when": "days", "on": "days",
                           "progression": "progress", "length": "duration", "speed": "rate"}
BUILTIN_PROGRAMMES: Final = "programmes"
"""The folder of built-in programmes, beside the built-in routines."""
_PER_WEEK: Final = re.compile(r"(\d+)\s*(?:x\s*)?(?:per|a|/)\s*week", re.I)
_TIME: Final = re.compile(r"(\d{1,2}):(\d{2})")
_LIKE_DAYS: Final = "daily, weekdays, a list like [mon, wed, fri], or \"3 per week\""
WEEKDAY_SYNONYMS: Final = {"monday": "mon", "tuesday": "tue", "tues": "tue", "wednesday": "wed",
                           "thursday": "thu", "thur": "thu", "thurs": "thu", "friday": "fri",
                           "saturday": "sat", "sunday": "sun"}


def builtin_programmes_dir() -> Path:
    """``voiceguide/programmes`` in an installed wheel, else the repository's ``programmes/``."""
    scripts = builtin_dir()
    return scripts.parent / BUILTIN_PROGRAMMES


def programme_names() -> dict[str, Path]:
    """The built-in programmes by name."""
    return routines_in(builtin_programmes_dir())


def find_programme(name_or_path: str) -> Path:
    """A programme file as given, or a built-in programme by name."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        raise RoutineNotFoundError(f"{name_or_path!r} is a folder; give a programme file (a .yaml file) or its name")
    known = programme_names()
    if len(path.parts) == 1 and (path.stem if path.suffix in SUFFIXES else name_or_path) in known:
        return known[path.stem if path.suffix in SUFFIXES else name_or_path]
    best = did_you_mean(path.stem, sorted(known))
    hint = f" (did you mean {best!r}?)" if best else ""
    raise RoutineNotFoundError(f"no programme file {name_or_path!r}{hint}; give a path, or a built-in programme: "
                               f"{', '.join(sorted(known)) or 'none'}")


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as f:
            return decode_text(f.read(MAX_BYTES + 1), str(path))
    except OSError as exc:
        problem = Problem(Location(str(path), 1, 1), f"cannot read the file: {exc.strerror or exc}")
        raise ScriptError([problem]) from None
    except StopReading as stop:
        raise ScriptError([stop.problem]) from None


class _Routines:
    """Routines named by a programme, each read once; their problems are kept, located in their files."""

    def __init__(self, base_dir: Path):
        self.base_dir = base_dir
        self.read: dict[Path, Routine | None] = {}
        self.problems: list[Problem] = []

    def known(self) -> dict[str, Path]:
        return {**routines_in(builtin_dir()), **routines_in(self.base_dir)}

    def find(self, r: Reader, node: Node, written: str) -> Routine | None:
        as_path = self.base_dir / Path(written).expanduser()
        if as_path.suffix not in SUFFIXES and (looks_like_a_file(written) or as_path.is_file()):
            r.error(node, f"routine {written!r} is not a routine script; give a .yaml file, or a built-in "
                          "routine's name")
            return None
        if as_path.is_file():
            path = as_path.resolve()
        elif looks_like_a_file(written) or Path(written).suffix in SUFFIXES:
            r.error(node, f"routine {written!r}: no routine file there (looked for {str(as_path.absolute())!r}); "
                          "give a path relative to this programme, or a built-in routine's name")
            return None
        elif written in self.known():
            path = self.known()[written].resolve()
        else:
            best = did_you_mean(written, sorted(self.known()))
            hint = f" (did you mean {best!r}?)" if best else ""
            r.error(node, f"no routine named {written!r}{hint}; write a built-in's name "
                          f"({', '.join(sorted(routines_in(builtin_dir())))}) or a path relative to this programme")
            return None
        if path not in self.read:
            shown = os.path.relpath(path)
            shown = shown if not shown.startswith("..") else str(path)
            try:
                routine, problems = analyse(_read_text(path), shown, path.parent)
            except ScriptError as exc:
                routine, problems = None, exc.problems
            self.read[path] = routine
            self.problems += problems
        routine = self.read[path]
        if routine is None:
            r.errors += 1  # located in the routine's own file
        return routine


def _date(r: Reader, node: Node) -> date | None:
    if not r.check_tag(node):
        return None
    raw = node.value.strip() if isinstance(node, ScalarNode) else None
    try:
        if raw and node.tag != TAG + "null":
            return date.fromisoformat(raw)
    except ValueError:
        pass
    shown = repr(raw) if raw else describe(node)
    r.error(node, f"'start' is {shown}, not a date; write the first day as YYYY-MM-DD, like 2026-12-07, "
                  "or leave 'start' out to begin the day you run `voiceguide programme start`")
    return None


def _time(r: Reader, node: Node) -> time | None:
    if not r.check_tag(node):
        return None
    raw = node.value.strip() if isinstance(node, ScalarNode) else ""
    if (m := _TIME.fullmatch(raw)) and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        return time(int(m.group(1)), int(m.group(2)))
    shown = repr(raw) if raw else describe(node)
    r.error(node, f"'reminder' is {shown}, not a time of day; write it as \"HH:MM\" in quotes, like \"07:30\"")
    return None


def _whole(r: Reader, node: Node, label: str, least: int, most: int, like: str) -> int | None:
    if not r.check_tag(node):
        return None
    raw = node.value.strip() if isinstance(node, ScalarNode) and node.tag != TAG + "null" else None
    if raw is not None and raw.isdigit() and least <= int(raw) <= most:
        return int(raw)
    shown = repr(raw) if raw is not None else describe(node)
    r.error(node, f"{label} is {shown}; write a whole number from {least} to {most}, like {like}")
    return None


def _weekday_like(raw: str) -> str | None:
    best = did_you_mean(raw, [*WEEKDAYS, *WEEKDAY_SYNONYMS])
    return WEEKDAY_SYNONYMS.get(best, best) if best else None


def _days(r: Reader, node: Node) -> tuple[tuple[int, ...], str, bool] | None:
    """(days, as written, per week): weekday numbers, or offsets in the week for "N per week"."""
    if not r.check_tag(node) or (isinstance(node, SequenceNode) and not all(r.check_tag(i) for i in node.value)):
        return None
    if isinstance(node, SequenceNode):
        found: list[int] = []
        for item in node.value:
            raw = item.value.strip().lower() if isinstance(item, ScalarNode) and item.tag != TAG + "null" else None
            name = WEEKDAY_SYNONYMS.get(raw, raw) if raw else None
            if name not in WEEKDAYS:
                best = _weekday_like(raw) if raw else None
                hint = f" (did you mean {best!r}?)" if best else ""
                shown = repr(raw) if raw else describe(item)
                r.error(item, f"{shown} is not a weekday{hint}; write one of: "
                              f"{', '.join(WEEKDAYS)}")
                continue
            day = WEEKDAYS.index(name)
            if day in found:
                r.error(item, f"{name!r} is in the list twice; keep one")
                continue
            found.append(day)
        if not node.value:
            r.error(node, f"'days' is an empty list; write {_LIKE_DAYS}")
            return None
        if len(found) != len(node.value):
            return None
        return tuple(sorted(found)), "[" + ", ".join(WEEKDAYS[d] for d in sorted(found)) + "]", False
    raw = node.value.strip() if isinstance(node, ScalarNode) and node.tag != TAG + "null" else None
    if raw is not None:
        low = raw.lower()
        if low in ("daily", "every day", "everyday"):
            return tuple(range(7)), "daily", False
        if low == "weekdays":
            return tuple(range(5)), "weekdays", False
        name = WEEKDAY_SYNONYMS.get(low, low)
        if name in WEEKDAYS:
            return (WEEKDAYS.index(name),), name, False
        if m := _PER_WEEK.fullmatch(low):
            n = int(m.group(1))
            if 1 <= n <= 7:
                return tuple(i * 7 // n for i in range(n)), f"{n} per week", True
            r.error(node, f"'days' is {raw!r}; a week has 7 days: write 1 to 7 per week, or daily")
            return None
    shown = repr(raw) if raw is not None else describe(node)
    best = did_you_mean(raw, (*WEEKDAYS, "daily", "weekdays"), WEEKDAY_SYNONYMS) if raw else None
    hint = f" (did you mean {best!r}?)" if best else ""
    r.error(node, f"'days' is {shown}{hint}; write {_LIKE_DAYS}")
    return None


def _bed(r: Reader, node: Node, base_dir: Path) -> str | None:
    value = r.text(node, "'bed'", want=f"a generated bed ({', '.join(BED_NAMES)}) or an audio file's path",
                   too_long=None, spoken=False)
    if value is None or value in BED_NAMES:
        return value
    if looks_like_a_file(value):
        file = base_dir / Path(value).expanduser()
        if file.is_file():
            return str(file.resolve())
        r.error(node, f"bed file {value!r} not found (looked for {str(file.absolute())!r}); give a path relative "
                      "to the programme")
        return None
    best = did_you_mean(value, BED_NAMES)
    hint = f" (did you mean {best!r}?)" if best else ""
    r.error(node, f"'bed' is {value!r}, not a generated bed{hint}; write one of: {', '.join(BED_NAMES)}, "
                  "or an audio file's path")
    return None


def _entry(r: Reader, node: Node, routines: _Routines, where: str) -> Entry | None:
    keys = r.mapping(node, where, SESSION_KEYS, SESSION_SYNONYMS, like="'routine: standing-reset'")
    if keys is None:
        return None
    routine = days = None
    progress = False
    said: dict[str, object] = {}
    if "routine" in keys:
        written = r.text(keys["routine"][1], "'routine'", want="a built-in routine's name or a path", too_long=None,
                         remove=None, spoken=False)
        routine = routines.find(r, keys["routine"][1], written) if written else None
    elif "routine" not in r.suggested:
        r.error(node, f"a session {where} needs 'routine:', like 'routine: standing-reset'")
    if "days" in keys:
        days = _days(r, keys["days"][1])
    elif "days" not in r.suggested:
        r.error(node, f"a session {where} needs 'days:': {_LIKE_DAYS}")
    if "progress" in keys:
        progress = bool(r.boolean(keys["progress"][1], "'progress'"))
    for key in ("duration", "rate", "bed_level", "cue_level"):
        if key in keys:
            said[key] = r.number(keys[key][1], key, f"{key!r}")
    if "voice" in keys:
        said["voice"] = r.text(keys["voice"][1], "'voice'", want="a voice, like 'voice: piper'", too_long=None,
                               spoken=False)
    if "bed" in keys:
        said["bed"] = _bed(r, keys["bed"][1], routines.base_dir)
    if routine is None or days is None or any(v is None for v in said.values()):
        return None
    if progress and routine is not None:
        at = keys["progress"][0]
        if "duration" in said:
            r.warn(at, "'duration' chooses this session's values, so 'progress: true' does nothing here; "
                       "remove one of them")
        elif routine.duration is not None:
            r.warn(at, f"{routine.title!r} sets its own duration, which chooses its values, so 'progress: true' "
                       "does nothing here; remove it, or give the session a routine without a duration")
        elif not has_ranges(routine):
            r.warn(at, f"{routine.title!r} has no ranges (like 'reps: 8-12') to move, so 'progress: true' "
                       "does nothing here; remove it")
    options = Overrides(duration_s=said.get("duration"), voice=said.get("voice"),  # type: ignore[arg-type]
                      rate=said.get("rate"), bed=said.get("bed"),  # type: ignore[arg-type]
                      bed_level_lu=said.get("bed_level"), cue_level_lu=said.get("cue_level"))  # type: ignore[arg-type]
    return Entry(routine, str(keys["routine"][1].value).strip(), days[0], days[1], per_week=days[2],
                 progress=progress, options=options, location=r.at(node))


def _phase(r: Reader, node: Node, n: int, routines: _Routines, weeks_before: int) -> Phase | None:
    where = f"in phase {n}"
    keys = r.mapping(node, where, PHASE_KEYS, {"length": "weeks", "routines": "sessions"}, like="'weeks: 2'")
    if keys is None:
        return None
    weeks = None
    if "weeks" in keys:
        weeks = _whole(r, keys["weeks"][1], "'weeks'", 1, MAX_WEEKS, "2")
        if weeks is not None and weeks_before + weeks > MAX_WEEKS:
            r.error(keys["weeks"][1], f"the phases add up to {weeks_before + weeks} weeks; a programme is at most "
                                      f"{MAX_WEEKS} weeks: shorten a phase")
            weeks = None
    elif "weeks" not in r.suggested:
        r.error(node, f"phase {n} needs 'weeks:', how long it lasts, like 'weeks: 2'")
    name = r.text(keys["name"][1], "'name'", want="the phase's name", too_long=None) if "name" in keys else None
    entries: list[Entry | None] = []
    if "sessions" in keys:
        items = keys["sessions"][1]
        if not isinstance(items, SequenceNode) or not items.value:
            r.error(items, f"'sessions' {where} is {describe(items)}; write a list of sessions, each starting "
                           "with '- routine: ...'")
        elif len(items.value) > MAX_SESSIONS:
            r.error(items.value[MAX_SESSIONS], f"phase {n} has {len(items.value)} sessions; at most {MAX_SESSIONS} "
                                               "fit in one phase: split it")
        else:
            entries = [_entry(r, item, routines, f"in session {i} of phase {n}")
                       for i, item in enumerate(items.value, 1)]
    elif "sessions" not in r.suggested:
        r.error(node, f"phase {n} needs 'sessions:', a list of routines and their days")
    if weeks is None or not entries or any(e is None for e in entries):
        return None
    return Phase(weeks, tuple(e for e in entries if e is not None), name)


def read_programme(r: Reader, root: Node | None, base_dir: Path) -> tuple[Programme | None, list[Problem]]:
    """The programme (None when any error was found) and the problems of the routines it names."""
    routines = _Routines(base_dir)
    if root is None or (isinstance(root, ScalarNode) and root.tag == TAG + "null"):
        raise StopReading(Problem(Location(r.path, 1, 1),
                                  "the file is empty; a programme needs at least 'title:' and 'phases:'"))
    keys = r.mapping(root, "at the top level", TOP_KEYS, TOP_SYNONYMS, like="'title: Back and hips, four weeks'")
    if keys is None:
        return None, routines.problems
    suggested = set(r.suggested)
    values: dict[str, object] = {}
    for key, (_, node) in keys.items():
        if key in ("title", "summary"):
            values[key] = r.text(node, f"{key!r}", want=f"the programme's {key}", remove=None if key == "title" else
                                 "the key", too_long="shorten it")
        elif key == "start":
            values[key] = _date(r, node)
        elif key == "reminder":
            values[key] = _time(r, node)
        elif key == "log":
            values["log"] = bool(r.boolean(node, "'log'"))
        elif key == "caution" and r.check_tag(node):
            raw = node.value.strip() if isinstance(node, ScalarNode) else ""
            if raw in (CAUTION_FULL, "short"):
                values["caution_full"] = raw == CAUTION_FULL
            else:
                r.error(node, f"'caution' is {describe(node)}; write 'caution: full' to hear the whole safety note "
                              "every day, or leave it out (in full on the first day, one short sentence after)")
    if "title" not in keys and "title" not in suggested:
        r.error(root, "the programme has no 'title'; add a line like 'title: Back and hips, four weeks'")
    phases: list[Phase | None] = []
    if "phases" in keys:
        node = keys["phases"][1]
        if not isinstance(node, SequenceNode) or not node.value:
            r.error(node, f"'phases' is {describe(node)}; write a list of phases, each starting with '- weeks: N'")
        else:
            weeks = 0
            for n, item in enumerate(node.value, 1):
                phase = _phase(r, item, n, routines, weeks)
                weeks += phase.weeks if phase else 0
                phases.append(phase)
    elif "phases" not in suggested:
        r.error(root, "the programme has no 'phases'; add 'phases:' with at least one '- weeks: N' and its sessions")
    if r.errors or not phases or any(p is None for p in phases):
        return None, routines.problems
    return Programme(phases=tuple(p for p in phases if p is not None), path=r.path,
                     locations={k: r.at(kn) for k, (kn, _) in keys.items()},
                     **values), routines.problems  # type: ignore[arg-type]


def analyse_programme(text: str, path: str, base_dir: Path) -> tuple[Programme | None, list[Problem]]:
    """The programme (None if it or a routine it names has errors) and every problem: the programme's
    own first, in file order, then each routine's, located in its own file."""
    reader = Reader(path)
    programme: Programme | None = None
    routine_problems: list[Problem] = []
    try:
        programme, routine_problems = read_programme(reader, compose(text, path), base_dir)
    except StopReading as stop:
        reader.problems.append(stop.problem)
        reader.errors += 1
    own = sorted(reader.problems, key=lambda p: (p.location.line, p.location.col))
    failed = reader.errors or any(p.severity == "error" for p in routine_problems)
    return (None if failed else programme), own + routine_problems


def check_programme(path: Path | str) -> tuple[Programme | None, list[Problem]]:
    """A programme file read and checked, with every routine it names."""
    path = find_programme(str(path))
    return analyse_programme(_read_text(path), str(path), path.parent)


def load_programme(path: Path | str) -> Programme:
    """A programme ready to use, or ``ScriptError`` listing every problem."""
    programme, problems = check_programme(path)
    if programme is None:
        raise ScriptError(problems)
    return programme
