"""``include:`` and groups: finding an included routine, refusing cycles and deep nesting, and
numbering the steps that groups and includes hold.

An include is resolved while the script is read: the included file is parsed with a reader of
its own, so its problems are located in that file, and its steps are spliced in under the include
step.  ``parse.py`` hands in its own reading function (``read_file``), so this module needs no
knowledge of the format beyond steps.

Limits, each checked as includes are resolved, before the work it limits:

- A script's includes stay inside its own folder (the folder of the script being read, the outermost
  one, and the folders below it) or among the built-ins: a routine shared by a stranger cannot make
  voiceguide read ``/etc/passwd`` or ``../../secret.yaml``.  Symbolic links are followed first.
- Each file is read once per run (``Includes``, keyed by its resolved path), however many times it
  is included, so ten small files that include each other thirty times are read ten times, not 30**10.
- What a routine comes to with includes spliced in and rounds counted out is at most
  ``MAX_EXPANDED_STEPS`` (``expanded_steps``, checked by ``parse.py`` at the line that crosses it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import Problem, RoutineNotFoundError, excerpt, quoted
from .fields import Reader, did_you_mean
from .library import SUFFIXES, builtin_dir, routines_in
from .routine import MAX_INCLUDE_DEPTH, Routine, Span, Step, StepKind

ReadFile = Callable[[Path, tuple[Path, ...], "Includes"], tuple["Routine | None", list[Problem], int]]
"""Reads one script given the chain of files including it and the run's ``Includes``: (routine or
None, its problems, how many levels of includes it holds)."""


@dataclass(frozen=True)
class Read:
    """One included file as read, kept for the rest of the run."""

    routine: Routine | None
    problems: list[Problem]
    height: int
    """Levels of includes inside it (0: it includes nothing)."""
    depth: int
    """How many files included it when it was read (its problems about depth depend on it)."""


@dataclass
class Includes:
    """What one run may include and has read: the folder includes stay in, each file read once."""

    root: Path
    """The folder of the outermost script: its includes (and theirs) stay inside it, or are built-ins."""
    read: dict[Path, Read] = field(default_factory=dict)

    def allowed(self, found: Path) -> bool:
        return found.is_relative_to(self.root) or found.is_relative_to(builtin_dir().resolve())


def expanded_steps(kind: StepKind, values: dict) -> int:
    """How many steps a step comes to: a group's rounds at their high end times what one round holds
    (and its rests between), an include what its routine holds, any other step one per side."""
    inner = sum(s.expanded for s in values.get("steps") or ())
    if kind == StepKind.INCLUDE:
        return inner
    if kind == StepKind.ROUNDS:
        rounds = values.get("rounds")
        high = int(rounds.hi) if isinstance(rounds, Span) else 1
        return high * inner + (high - 1 if values.get("rest_between") is not None else 0)
    return max(1, len(values.get("sides") or ()))


def expansion_advice(step: Step) -> str:
    """What to do about a routine that comes to too many steps, for the step that crossed the limit."""
    return {"include": "include fewer or shorter routines",
            "rounds": "use fewer rounds (or fewer steps inside them)"}.get(step.kind, "use fewer steps")


def step_label(path: tuple[int, ...]) -> str:
    """How messages name a step: "3" at the top, "3.2" for the second step inside step 3."""
    return ".".join(str(i + 1) for i in path)


def resolve(written: str, base_dir: Path) -> Path | str:
    """The file an ``include:`` names: a path relative to the script, else a routine beside the
    script, else a built-in.  A message saying what is there when nothing fits."""
    as_path = base_dir / Path(written).expanduser()
    looks_like_path = "/" in written or "\\" in written or Path(written).suffix in SUFFIXES
    try:
        if as_path.is_file():
            return as_path.resolve()
    except (OSError, ValueError):
        pass
    if looks_like_path:
        return (f"include {quoted(written)}: no routine file there (looked for {str(as_path.absolute())!r}); "
                "give a path relative to this script, or a built-in routine's name")
    known = {**routines_in(builtin_dir()), **routines_in(base_dir)}
    if written in known:
        return known[written].resolve()
    best = did_you_mean(written, sorted(known))
    hint = f" (did you mean {best!r}?)" if best else ""
    return (f"include {quoted(written)}: no routine of that name{hint}; write a built-in's name "
            f"({', '.join(sorted(routines_in(builtin_dir())))}) or a path relative to this script")


def read_include(r: Reader, node, written: str, base_dir: Path, chain: tuple[Path, ...],
                 read_file: ReadFile) -> Routine | None:
    """The included routine, or None after reporting why not at the ``include:`` line (``node``).

    ``chain``: the files including this one, outermost first, this one last.  The included file's
    own problems are reported too, located in that file (once a run, however often it is included)."""
    found = resolve(written, base_dir)
    shown = excerpt(written)
    if isinstance(found, str):
        r.error(node, found)
        return None
    includes: Includes = r.includes
    if not includes.allowed(found):
        r.error(node, f"include {shown!r} is outside the folder of the script being read ({str(includes.root)!r}): "
                      "includes stay in that folder (and the folders in it) or name a built-in, so that a routine "
                      "shared with you cannot read other files; copy the routine into that folder")
        return None
    if found in chain:
        loop = " -> ".join(p.name for p in (*chain[chain.index(found):], found))
        r.error(node, f"include {shown!r} includes itself ({loop}); remove the include that closes the loop")
        return None
    if len(chain) > MAX_INCLUDE_DEPTH:
        r.error(node, f"include {shown!r} nests includes more than {MAX_INCLUDE_DEPTH} deep "
                      f"({' -> '.join(p.name for p in (*chain, found))}); include fewer levels")
        return None
    done = includes.read.get(found)
    if done is None or (done.routine is None and done.depth > len(chain)):  # its depth may have been the fault
        try:
            routine, problems, height = read_file(found, chain, includes)
        except RoutineNotFoundError as exc:
            r.error(node, f"include {shown!r}: {exc}")
            return None
        done = includes.read[found] = Read(routine, problems, height, len(chain))
    elif len(chain) + done.height > MAX_INCLUDE_DEPTH:
        r.error(node, f"include {shown!r} nests includes more than {MAX_INCLUDE_DEPTH} deep (it holds "
                      f"{done.height} levels of its own, and this script is {len(chain)} deep); include fewer levels")
        return None
    anchor = r.at(node)
    for problem in done.problems:
        r.include_problem(anchor, problem)
    r.include_height = max(r.include_height, done.height + 1)
    if done.routine is not None:
        r.included_sources += done.routine.sources
    return done.routine


def numbered(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """The steps with every step inside a group or include given its ``path`` and a unique ``uid``
    (after the top-level indices, in the order they are written)."""
    counter = iter(range(len(steps), 1 << 30))

    def number(step: Step, path: tuple[int, ...]) -> Step:
        uid = None if len(path) == 1 else next(counter)
        inner = tuple(number(s, (*path, k)) for k, s in enumerate(step.steps))
        return replace(step, index=path[-1], path=path if uid is not None else (), uid=uid, steps=inner)

    return tuple(number(s, (i,)) for i, s in enumerate(steps))

