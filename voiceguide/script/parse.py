"""Routine scripts (YAML) -> ``Routine`` values, or every problem at once, located and explained.

The pipeline is ``yamlsafe`` (bytes -> inert YAML nodes), ``fields`` (nodes -> checked values)
and this module, which knows the format of routine-format.md: the top-level keys, the step
kinds and what goes with each, cycles and sounds.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Final

from yaml.nodes import Node, ScalarNode, SequenceNode

from ..errors import Location, Problem, RoutineNotFoundError, ScriptError, excerpt, quoted
from ..files import what_is
from .checks import check_session_length, warn_unused
from .fields import Reader, all_or_none, describe, did_you_mean
from .include import Includes, expanded_steps, expansion_advice, numbered, read_include, step_label
from .routine import (
    BED_NAMES,
    KINDS,
    MAX_DEPTH,
    MAX_EXPANDED_STEPS,
    RANGED_KEYS,
    SOUND_NAMES,
    Breathing,
    Phase,
    Routine,
    Step,
    StepKind,
)
from .yamlsafe import MAX_BYTES, TAG, StopReading, compose, decode_text

TOP_KEYS: Final = ("title", "summary", "duration", "voice", "rate", "caution", "intro", "outro", "sounds",
                   "cue_level", "bed", "bed_level", "steps")
COMMON_KEYS: Final = ("name", "setup", "goal", "feel", "sides", "sound")
KIND_KEYS: Final = {
    "say": ("say", "pause"),
    "reps": ("reps", "count", "cycle"),
    "hold": ("hold", "breathe", "reminders", "countdown"),
    "breaths": ("breaths", "inhale", "exhale", "say"),
    "rest": ("rest",),
    "rounds": ("rounds", "steps", "announce", "rest_between"),
    "include": ("include",),
}
GROUP_COMMON_KEYS: Final = ("name",)
"""Of the common keys, what a group or an include may have: the rest belong to the steps inside."""
STEP_KEYS: Final = tuple(dict.fromkeys(COMMON_KEYS + sum(KIND_KEYS.values(), ())))
PHASE_KEYS: Final = ("say", "seconds", "short", "sound")
BREATHE_KEYS: Final = ("inhale", "exhale")

# Words people write for a key that difflib would not match.
TOP_SYNONYMS: Final = {"name": "title", "description": "summary", "length": "duration", "speed": "rate",
                       "exercises": "steps", "background": "bed", "music": "bed", "ambience": "bed",
                       "sound_level": "cue_level", "cue_volume": "cue_level", "bed_volume": "bed_level"}
STEP_SYNONYMS: Final = {"title": "name", "text": "say", "repetitions": "reps", "phases": "cycle",
                        "instructions": "setup", "duration": "hold", "seconds": "hold"}
PHASE_SYNONYMS: Final = {"text": "say", "cue": "say", "duration": "seconds", "time": "seconds"}

_TOP_NO_SIDE: Final = "but only a step with 'sides' can use it"
# what belongs in each top-level text, for the message when it is empty
_TOP_TEXTS: Final[dict[str, dict[str, Any]]] = {
    "title": {"want": "the routine's name, shown while it plays, like 'title: Morning stretch'; "
                      "every script needs one", "remove": None, "too_long": "shorten it"},
    "summary": {"want": "a sentence saying what the routine is for", "too_long": "shorten it"},
    "voice": {"want": "a voice, like 'voice: piper' ('voiceguide voices' lists them)", "too_long": "shorten it",
              "spoken": False},
}


def _misplaced_at_top(key: str) -> str | None:
    if key in STEP_KEYS and key not in ("name", "sound"):  # those two more likely mean 'title', 'sounds'
        return (f"{key!r} belongs to a step, but it is at the top level; put it inside a step under "
                "'steps:' (indented, under a line starting with '- ')")
    return None


def read_routine(r: Reader, root: Node | None, base_dir: Path, chain: tuple[Path, ...] = ()) -> Routine | None:
    """The whole script; None when any error was found (all of them are in ``r.problems``).

    ``chain``: the files including this one and this one itself (outermost first), for includes."""
    r.base_dir, r.chain, r.caution_asked, r.groups_open = base_dir, chain, False, []
    if root is None or (isinstance(root, ScalarNode) and root.tag == TAG + "null"):
        raise StopReading(Problem(Location(r.path, 1, 1),
                                  "the file is empty; a routine needs at least 'title:' and 'steps:'"))
    keys = r.mapping(root, "at the top level", TOP_KEYS, TOP_SYNONYMS, like="'title: Morning stretch'",
                     misplaced=_misplaced_at_top)
    if keys is None:
        return None
    suggested = set(r.suggested)
    values: dict[str, Any] = {}
    for key, (_, node) in keys.items():
        label = f"{key!r}"
        if key in ("title", "summary", "voice"):
            values[key] = r.text(node, label, _TOP_NO_SIDE, **_TOP_TEXTS[key])
        elif key in ("intro", "outro"):
            values[key] = r.lines(node, label, _TOP_NO_SIDE)
        elif key in ("duration", "rate", "cue_level", "bed_level"):
            values[key] = r.number(node, key, label)
        elif key == "caution":
            values[key] = r.boolean(node, label)
        elif key == "sounds":
            values[key] = _sounds(r, node, base_dir)
        elif key == "bed":
            values[key] = _bed(r, node, base_dir)
    if "title" not in keys and "title" not in suggested:
        r.error(root, "the script has no 'title'; add a line like 'title: Morning stretch'")
    steps = _steps(r, keys["steps"][1], ()) if "steps" in keys else None
    if "steps" not in keys and "steps" not in suggested:
        r.error(root, "the script has no 'steps'; add 'steps:' with at least one step under it")
    elif steps and not r.too_many_steps:  # too many to add up: that error says enough
        check_session_length(r, steps)
    read = all_or_none(steps) if steps is not None else None
    if r.errors or read is None:
        return None
    values["caution"] = values.get("caution", True) or r.caution_asked  # said once if any part asks
    own = [str(chain[-1])] if chain and not r.path.startswith("<") else []  # analyse adds the file to the chain
    return Routine(steps=numbered(read), path=r.path, locations={k: r.at(kn) for k, (kn, _) in keys.items()},
                   sources=tuple(dict.fromkeys([*own, *r.included_sources])), **values)


def _steps(r: Reader, node: Node, parent: tuple[int, ...]) -> list[Step | None] | None:
    if not r.check_tag(node):
        return None
    if not isinstance(node, SequenceNode) or not node.value:
        shape = "empty" if isinstance(node, SequenceNode) else f"{describe(node)}, not a list"
        within = f" in step {step_label(parent)}" if parent else ""
        r.error(node, f"'steps'{within} is {shape}; write a list of steps, each starting with '- ', "
                      "like '- say: Relax your shoulders.'")
        return None
    steps, total = [], 0
    for i, item in enumerate(node.value):
        step = _step(r, item, (*parent, i))
        steps.append(step)
        if step is not None and total <= MAX_EXPANDED_STEPS:
            total += step.expanded
            if total > MAX_EXPANDED_STEPS:  # reported once, at the step that crosses it
                r.too_many_steps = True
                what = f"step {step_label(step.where)}"
                if step.kind == StepKind.INCLUDE:
                    what = f"include {quoted(step.include or '')}"
                r.error(step.locations.get(step.kind, step.location), (
                    f"with {what} the steps come to more than {MAX_EXPANDED_STEPS:,} ({total:,} so far, with includes "
                    f"spliced in and rounds counted out); a routine is limited to {MAX_EXPANDED_STEPS:,}, about three "
                    f"hours of the shortest steps: {expansion_advice(step)}"))
    return steps


def _step(r: Reader, node: Node, path: tuple[int, ...]) -> Step | None:
    index, n, before = path[-1], step_label(path), r.errors
    where = f"in step {n}"
    if isinstance(node, ScalarNode) and node.tag != TAG + "null" and r.check_tag(node):
        if (glued := re.fullmatch(r"(\w+):(\w.*)", node.value)) and glued[1] in STEP_KEYS:
            r.error(node, f"step {n} is the text {quoted(node.value)}: with no space after the colon, "
                          f"{quoted(glued[1])} is not a key; put a space after the colon, "
                          f"like '- {glued[1]}: {excerpt(glued[2])}'")
        else:
            r.error(node, f"step {n} is plain text; write it as '- say: {excerpt(node.value)}'")
        return None
    keys = r.mapping(node, where, STEP_KEYS, STEP_SYNONYMS, like="'name: Pelvic tilts' and 'reps: 8'")
    if keys is None:
        return None
    kinds = [k for k in KINDS if k in keys and not (k == StepKind.SAY and "breaths" in keys)]
    if not kinds:
        typo = r.suggested & set(KINDS)
        if "cycle" in keys:
            r.error(keys["cycle"][0], f"step {n} has a 'cycle' but no 'reps'; add 'reps: 8' (or a range like 8-12)")
        elif "steps" in keys:
            r.error(keys["steps"][0], f"step {n} has 'steps' but no 'rounds'; add 'rounds: 2' (or a range like "
                                      "2-3) to repeat them, or move the steps up into the list they are in")
        elif not typo:  # the unknown key's did-you-mean already says it
            r.error(node, f"step {n} has nothing to do; give it one of the keys: {', '.join(KINDS)}")
    elif len(kinds) > 1:
        r.error(keys[kinds[1]][0], f"step {n} has two kinds, {kinds[0].value!r} and {kinds[1].value!r}; a step "
                                   f"does one thing: move {kinds[1].value!r} to a step of its own")
    kind = kinds[0] if kinds else None  # without a kind, the values are still read for their own problems
    if kind == StepKind.REPS and "cycle" not in keys:
        r.error(keys["reps"][0], f"step {n} has 'reps' but no 'cycle'; add the phases of one rep, like "
                                 "'cycle: [{say: Lift., seconds: 3}, {say: Lower., seconds: 3}]'")
    if kind == StepKind.ROUNDS and "steps" not in keys:
        r.error(keys["rounds"][0], f"step {n} has 'rounds' but no 'steps'; add the steps of one round under "
                                   "'steps:', like 'steps: [{say: Lift., pause: 2}]'")
    group = kind in (StepKind.ROUNDS, StepKind.INCLUDE)
    applies = set(GROUP_COMMON_KEYS if group else COMMON_KEYS).union(*(KIND_KEYS[k] for k in kinds or KINDS))
    no_side = None if "sides" in keys else (
        f"but step {n} has no 'sides': add 'sides: [right, left]', or write the side out")
    values: dict = {}
    for key, (key_node, value) in keys.items():
        label = f"{key!r} {where}"
        if key not in applies and group and key in COMMON_KEYS:
            r.error(key_node, f"{key!r} does not go with {'a group' if kind == StepKind.ROUNDS else 'an include'} "
                              f"(step {n}); put it on the steps inside")
        elif key not in applies:
            owners = " or ".join(repr(k) for k, ks in KIND_KEYS.items() if key in ks)
            r.error(key_node, f"{key!r} does not go with a {str(kind)!r} step (step {n}); it belongs to {owners} steps")
        elif key == "name":
            values[key] = r.text(value, label, "but a name is said once for all sides: leave {side} out of it",
                                 want="the step's name, spoken as it starts, like 'name: Pelvic tilts'")
        elif key in ("goal", "feel", "say"):
            values[key] = r.text(value, label, no_side)
        elif key in ("setup", "reminders"):
            values[key] = r.lines(value, label, no_side)
        elif key in RANGED_KEYS:
            values[key] = r.number(value, key, label, span=True)
        elif key in ("pause", "countdown", "inhale", "exhale"):
            values[key] = r.number(value, key, label)
        elif key in ("count", "announce"):
            values[key] = r.boolean(value, label)
        elif key == "steps":
            values[key] = _group_steps(r, value, key_node, path)
        elif key == "include":
            values.update(_include(r, value, label))
        elif key == "sound":
            values[key] = r.sound(value, label)
        elif key == "sides":
            values[key] = _sides(r, value, label)
        elif key == "cycle":
            values[key] = _cycle(r, value, n, no_side)
        elif key == "breathe":
            values[key] = _breathe(r, value, n)
    if r.errors > before or kind is None:
        return None
    expanded = expanded_steps(kind, values)
    if kind == StepKind.ROUNDS and expanded > MAX_EXPANDED_STEPS:
        rounds, inner = values["rounds"], sum(s.expanded for s in values["steps"])
        r.too_many_steps = True
        r.error(keys["rounds"][0], (
            f"step {n} comes to {expanded:,} steps: {rounds.hi:g} rounds of {inner:,} (groups inside groups "
            f"multiply); a routine is limited to {MAX_EXPANDED_STEPS:,} steps, about three hours of the shortest "
            "steps: use fewer rounds, or fewer steps inside them"))
        return None
    step = Step(kind=kind, index=index, location=r.at(node), locations={k: r.at(kn) for k, (kn, _) in keys.items()},
                path=path if len(path) > 1 else (), expanded=expanded, **values)
    warn_unused(r, step)
    return step


def _group_steps(r: Reader, node: Node, key_node: Node, path: tuple[int, ...]) -> tuple[Step, ...] | None:
    depth = 1 + sum(1 for _ in r.groups_open)
    if depth > MAX_DEPTH:
        r.error(key_node, f"step {step_label(path)} puts a group inside {depth - 1} others; groups go at most "
                          f"{MAX_DEPTH} levels deep: write the inner steps out, or include another routine")
        return None
    r.groups_open.append(path)
    try:
        steps = _steps(r, node, path)
    finally:
        r.groups_open.pop()
    return None if steps is None else all_or_none(steps)


def _include(r: Reader, node: Node, label: str) -> dict:
    """The include's fields: what was written, where the steps come from, and the steps."""
    written = r.text(node, label, "but an include is not done per side", too_long=None, spoken=False,
                     want="a built-in routine's name, like 'include: standing-reset', or a path to a script")
    if written is None:
        return {}
    routine = read_include(r, node, written, r.base_dir, r.chain, _read_included)
    if routine is None:
        return {"include": written}
    r.caution_asked = r.caution_asked or routine.caution
    return {"include": written, "source": Path(routine.path).stem, "steps": routine.steps}


def _sides(r: Reader, node: Node, label: str) -> tuple[str, ...] | None:
    if not isinstance(node, SequenceNode) or not node.value:
        if r.check_tag(node):
            r.error(node, f"{label} is {describe(node)}; write the sides the step is done on, like "
                          "'sides: [right, left]'")
        return None
    names = r.lines(node, label, "but a side's own name cannot contain {side}", want="a side's name, like 'left'")
    if names is None:
        return None
    seen: set[str] = set()
    for item, name in zip(node.value, names):
        if name in seen:
            r.error(item, f"{label} lists {quoted(name)} twice; name each side once")
            return None
        seen.add(name)
    return names


def _cycle(r: Reader, node: Node, n: str, no_side: str | None) -> tuple[Phase, ...] | None:
    if not r.check_tag(node):
        return None
    if not isinstance(node, SequenceNode) or not node.value:
        shape = "empty" if isinstance(node, SequenceNode) else describe(node)
        r.error(node, f"'cycle' in step {n} is {shape}; write the phases of one rep as a list, like "
                      "'- {say: Exhale., seconds: 4}'")
        return None
    phases = [_phase(r, item, p, n, no_side) for p, item in enumerate(node.value, 1)]
    return all_or_none(phases)


def _phase(r: Reader, node: Node, p: int, n: str, no_side: str | None) -> Phase | None:
    where, before = f"in phase {p} of step {n}", r.errors
    keys = r.mapping(node, where, PHASE_KEYS, PHASE_SYNONYMS, like="'{say: Exhale., seconds: 4}'")
    if keys is None:
        return None
    suggested = set(r.suggested)
    values: dict = {}
    for key, (_, value) in keys.items():
        label = f"{key!r} {where}"
        if key in ("say", "short"):
            values[key] = r.text(value, label, no_side)
        elif key == "seconds":
            values[key] = r.number(value, key, label)
        else:
            values[key] = r.sound(value, label)
    for key, example in (("say", "'say: Exhale.'"), ("seconds", "'seconds: 4'")):
        if key not in keys and key not in suggested:
            r.error(node, f"phase {p} of step {n} has no {key!r}; add it, like {example}")
    return None if r.errors > before else Phase(location=r.at(node), **values)


def _breathe(r: Reader, node: Node, n: str) -> Breathing | None:
    where = f"in 'breathe' of step {n}"
    keys = r.mapping(node, where, BREATHE_KEYS, like="'breathe: {inhale: 4, exhale: 6}'")
    if keys is None:
        return None
    suggested = set(r.suggested)
    values = {key: r.number(value, key, f"{key!r} {where}") for key, (_, value) in keys.items()}
    missing = [k for k in BREATHE_KEYS if k not in keys]
    if missing and missing[0] not in suggested:
        r.error(node, f"'breathe' in step {n} has no {missing[0]!r}; write 'breathe: {{inhale: 4, exhale: 6}}'")
    return None if missing or None in values.values() else Breathing(**values)


def _existing_file(r: Reader, node: Node, base_dir: Path, what: str, owner: str = "") -> str | None:
    """The absolute path of the file ``node`` names relative to the script; an error if there is none."""
    written = node.value.strip()
    file = base_dir / Path(written).expanduser()
    try:
        exists = file.is_file()
    except (OSError, ValueError):
        exists = False
    if exists:
        return str(file.resolve())
    kind = what_is(file)
    found, wanted = (("not found", "a path") if kind == "nothing"
                     else (f"is {kind}, not a file", "the path of an audio file,"))
    r.error(node, f"{what} {quoted(written)}{owner} {found} (looked for {str(file.absolute())!r}); give {wanted} "
                  "relative to the script")
    return None


def looks_like_a_file(value: str) -> bool:
    """Whether a bed is written as a file (a folder or an extension in it) rather than a generated bed's name."""
    return any(c in value for c in "/\\") or bool(Path(value).suffix)


def _bed(r: Reader, node: Node, base_dir: Path) -> str | None:
    """A generated bed's name, or a file's absolute path (checked to exist)."""
    names = ", ".join(BED_NAMES)
    value = r.text(node, "'bed'", "but a bed has no sides", want=f"a generated bed ({names}) or an audio file's path",
                   too_long=None, spoken=False)
    if value is None or value in BED_NAMES:
        return value
    if looks_like_a_file(value):
        return _existing_file(r, node, base_dir, "bed file")
    best = did_you_mean(value, BED_NAMES)
    hint = f" (did you mean {best!r}?)" if best else ""
    r.error(node, f"'bed' is {quoted(value)}, not a generated bed{hint}; write one of: {names}, "
                  "or an audio file's path like 'bed: sounds/rain.ogg'")
    return None


def _sounds(r: Reader, node: Node, base_dir: Path) -> dict[str, str] | None:
    """Replacement sound files: name -> absolute path, each checked to exist."""
    keys = r.mapping(node, "in 'sounds'", SOUND_NAMES, noun="sound", like="'chime: sounds/bowl.wav'")
    if keys is None:
        return None
    found = {}
    for name, (_, value) in keys.items():
        if r.text(value, f"the file for sound {name!r}", "but a file name cannot use it",
                  want=f"an audio file's path relative to the script, like '{name}: sounds/bowl.wav'",
                  too_long=None, spoken=False) is None:
            continue
        path = _existing_file(r, value, base_dir, "sound file", f" for {name!r}")
        if path is not None:
            found[name] = path
    return found if len(found) == len(keys) else None


# --------------------------------------------------------------------------- the public functions


def analyse(text: str, path: str = "<routine>", base_dir: Path | None = None,
            chain: tuple[Path, ...] = ()) -> tuple[Routine | None, list[Problem]]:
    """The routine (None if it has errors) and every problem found, in file order; an included
    file's problems come right after those before its ``include:`` line.

    ``chain``: the files that include this one, outermost first."""
    routine, problems, _ = _analyse(text, path, base_dir, chain, None)
    return routine, problems


def _analyse(text: str, path: str, base_dir: Path | None, chain: tuple[Path, ...],
             includes: Includes | None) -> tuple[Routine | None, list[Problem], int]:
    """``analyse``, with the run's includes (None: this is the outermost script) and the levels of
    includes inside it."""
    if base_dir is None:
        base_dir = Path.cwd() if path.startswith("<") else Path(path).parent
    if not path.startswith("<"):
        chain = (*chain, Path(path).resolve())
    if includes is None:  # the outermost script: its folder is where includes may come from
        includes = Includes(chain[0].parent if chain else base_dir.resolve())
    reader = Reader(path)
    reader.includes = includes
    routine = None
    try:
        routine = read_routine(reader, compose(text, path), base_dir, chain)
    except StopReading as stop:
        reader.problems.append(stop.problem)
        reader.errors += 1
    ordered = [((p.location.line, p.location.col, 0), p) for p in reader.problems]
    ordered += [((at.line, at.col, 1 + k), p) for k, (at, p) in enumerate(reader.included)]
    problems = [p for _, p in sorted(ordered, key=lambda item: item[0])]
    return (routine if reader.errors == 0 else None), problems, reader.include_height


def _read_included(path: Path, chain: tuple[Path, ...],
                   includes: Includes) -> tuple[Routine | None, list[Problem], int]:
    """An included script, read as its own file (its problems located in it)."""
    shown = os.path.relpath(path)
    shown = shown if not shown.startswith("..") else str(path)
    try:
        return _analyse(_read(path), shown, path.parent, chain, includes)
    except ScriptError as exc:
        return None, exc.problems, 0


def parse_text(text: str, path: str = "<routine>", base_dir: Path | None = None) -> Routine:
    """YAML text -> Routine, or ``ScriptError`` listing every problem (warnings included)."""
    routine, problems = analyse(text, path, base_dir)
    if routine is None:
        raise ScriptError(problems)
    return routine


def _read(path: Path) -> str:
    if not path.exists():
        raise RoutineNotFoundError(f"no routine script at {str(path)!r}; check the path")
    if path.is_dir():
        raise RoutineNotFoundError(f"{str(path)!r} is a folder; give a routine script (a .yaml file) or its name")
    if path.suffix.lower() not in (".yaml", ".yml") and _is_page(path):
        return _page_text(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
        return decode_text(data, str(path))
    except OSError as exc:
        problem = Problem(Location(str(path), 1, 1), f"cannot read the file: {exc.strerror or exc}")
    except StopReading as stop:
        problem = stop.problem
    raise ScriptError([problem])


_noted: set[Path] = set()


def _is_page(path: Path) -> bool:
    from ..page import is_page  # here, not at the top: its rules take a tenth of a second to load, for pages only

    return is_page(path)


def _page_text(path: Path) -> str:
    """A page (text, Markdown, HTML, PDF) read as the routine it describes, imported in memory; a note on
    stderr says so, once a page and process (``voiceguide import`` shows what was assumed)."""
    from ..page import import_page

    imported = import_page(path)
    if imported.page is not None and path.resolve() not in _noted:
        _noted.add(path.resolve())
        count = len(imported.page.exercises)
        print(f"voiceguide: read {path} as a page: {count} exercise{'s' * (count != 1)}; "
              f"`voiceguide import {path}` shows the routine and what was assumed", file=sys.stderr)
    return imported.text


def load_routine(path: Path | str) -> Routine:
    """Read and parse a routine script; ``ScriptError`` or ``RoutineNotFoundError`` if it cannot be played."""
    path = Path(path)
    return parse_text(_read(path), str(path), path.parent)


def read_file(path: Path | str) -> tuple[Routine | None, list[Problem]]:
    """A script's routine (None if it has errors) and every error and warning in it, in file order."""
    path = Path(path)
    try:
        text = _read(path)
    except ScriptError as exc:
        return None, exc.problems
    return analyse(text, str(path), path.parent)


def check_file(path: Path | str) -> list[Problem]:
    """Every error and warning in a script, in file order (an empty list: the script is clean)."""
    return read_file(path)[1]
