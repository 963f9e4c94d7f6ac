"""Where a play was left: one small file per routine, so ``play --resume`` can pick it up there.

A play that ends early (q, Ctrl-C, a closed terminal, a lost sound device) leaves the step that was
playing; one that reaches the end forgets it.  The files live in the user's state folder
(``$XDG_STATE_HOME/voiceguide``, else ``~/.local/state/voiceguide``), one per script, named by a
hash of the script's path, and are written whole or not at all (a temporary file renamed into
place).  Each keeps a hash of the script's text too: when the script has changed since, the play
resumes at the step of the same name (the one nearest the kept place when several share it), or
says that it cannot.

A place file is read only when it is a regular file of at most ``MAX_STATE_BYTES`` (its size is
checked before it is read) holding exactly the fields of a ``Place`` with their types; anything
else (a damaged, foreign or huge file) is ignored with one line that says so.  A state folder that
cannot be read is said to be so, with where it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from ..errors import ResumeError
from ..files import file_sha256, write_text
from ..script.fields import MAX_TEXT_CHARS
from ..script.routine import Routine
from ..timeline.plan import INTRO_STEP

STATE_ENV: Final = "XDG_STATE_HOME"
FOLDER: Final = "voiceguide"
MAX_STATE_BYTES: Final = 64 * 1024
"""A place file is a few hundred bytes; one larger than this is not ours and is not read."""
MAX_STEP: Final = 1_000_000
_FIELDS: Final = {"script": (str,), "script_sha256": (str,), "step": (int,), "name": (str, type(None)),
                  "why": (str,)}


def state_dir() -> Path:
    """``$XDG_STATE_HOME/voiceguide``, else ``~/.local/state/voiceguide``."""
    base = os.environ.get(STATE_ENV) or Path.home() / ".local" / "state"
    return Path(base) / FOLDER


@dataclass(frozen=True)
class Place:
    """The step a play of one script was left in."""

    script: str
    """The script's absolute path."""
    script_sha256: str
    """Of the script's text when it was played: tells a changed script."""
    step: int
    """The step's index, ``INTRO_STEP`` for the introduction, the number of steps for the finish."""
    name: str | None
    """The step's name, to find it again in a changed script."""
    why: str
    """How the play ended ("quit", "interrupted", "signal", "device")."""


@dataclass(frozen=True)
class Unreadable:
    """A place that could not be read: ``why`` says what was ignored, or which folder cannot be read."""

    why: str


def _place_from(data: object, script: str) -> Place | None:
    """``data`` as a Place if it is exactly one (the fields, their types, this script), else None."""
    if not isinstance(data, dict) or set(data) != set(_FIELDS):
        return None
    for key, types in _FIELDS.items():
        if not isinstance(data[key], types) or isinstance(data[key], bool):
            return None
    if data["script"] != script or not INTRO_STEP <= data["step"] <= MAX_STEP:
        return None
    if data["name"] is not None and len(data["name"]) > MAX_TEXT_CHARS:  # a step's name is a text
        return None
    return Place(**data)


def _script_path(routine: Routine) -> Path:
    return Path(routine.path).resolve()


def _script_sha256(routine: Routine) -> str:
    try:
        return file_sha256(_script_path(routine))
    except OSError:
        return ""


class Places:
    """The places plays were left at, one file per script in ``folder`` (default ``state_dir()``)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder or state_dir()

    def _file(self, routine: Routine) -> Path:
        key = hashlib.sha256(str(_script_path(routine)).encode("utf-8")).hexdigest()[:32]
        return self.folder / f"{key}.json"

    def remember(self, routine: Routine, step: int, why: str) -> None:
        """Keep the step a play of ``routine`` was left in; OSError if the state folder cannot be written."""
        steps = routine.steps
        name = steps[step].name if 0 <= step < len(steps) else None
        place = Place(str(_script_path(routine)), _script_sha256(routine), step, name, why)
        self.folder.mkdir(parents=True, exist_ok=True)
        write_text(self._file(routine), json.dumps(asdict(place), ensure_ascii=False, indent=1))

    def recall(self, routine: Routine) -> Place | Unreadable | None:
        """The place a play of ``routine`` was left at; None if none was kept; ``Unreadable`` if the
        place file is damaged, too big or not ours, or the state folder cannot be read."""
        path = self._file(routine)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None  # never stopped early (or the folder is not there yet)
        except OSError as exc:
            if self._folder_unreadable():
                return Unreadable(f"cannot read the state folder {str(self.folder)!r} ({exc.strerror or exc}), "
                                  "where the place of the last play is kept")
            return Unreadable(f"ignored the place file {str(path)!r}: it cannot be read ({exc.strerror or exc})")
        ignored = f"ignored the place file {str(path)!r}"
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return Unreadable(f"{ignored}: it is not a regular file")
            if info.st_size > MAX_STATE_BYTES:
                return Unreadable(f"{ignored}: it is {info.st_size:,} bytes, more than a place file's "
                                  f"{MAX_STATE_BYTES:,}")
            raw = os.read(fd, MAX_STATE_BYTES + 1)
        except OSError as exc:
            return Unreadable(f"{ignored}: it cannot be read ({exc.strerror or exc})")
        finally:
            os.close(fd)
        try:
            place = None if len(raw) > MAX_STATE_BYTES else _place_from(json.loads(raw.decode("utf-8")),
                                                                         str(_script_path(routine)))
        except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deep
            place = None
        return place if place is not None else Unreadable(f"{ignored}: it is damaged or not a place file")

    def _folder_unreadable(self) -> bool:
        try:
            os.listdir(self.folder)
        except FileNotFoundError:
            return False
        except OSError:
            return True
        return False

    def forget(self, routine: Routine) -> None:
        try:
            self._file(routine).unlink(missing_ok=True)
        except OSError:
            pass


def resume_step(routine: Routine, place: Place | Unreadable | None) -> tuple[int | None, str | None]:
    """(the step index to start at, None for the start; a note for the user, or None).

    The same script: the step it was left in.  A changed script: the step with the same name (of
    several, the one at the kept index, else the nearest), or a ``ResumeError`` that says why not.
    """
    if isinstance(place, Unreadable):
        return None, f"{place.why}; starting at the beginning"
    if place is None:
        return None, "nothing to resume: the last play of this routine was not stopped early; starting at the beginning"
    steps = routine.steps
    if place.script_sha256 == _script_sha256(routine):
        return (place.step if 0 <= place.step < len(steps) else None), None
    if place.step == INTRO_STEP:
        return None, None
    if place.name is None:
        raise ResumeError(f"cannot resume {routine.title!r}: the script changed since it was stopped, and the step "
                          f"it was stopped in (step {place.step + 1}) has no name to find it by; "
                          "choose where to start with --from")
    key = place.name.casefold()
    found = [s.index for s in steps if s.name and s.name.casefold() == key]
    if not found:
        names = ", ".join(f"{s.index + 1} {s.name}" for s in steps if s.name)
        raise ResumeError(f"cannot resume {routine.title!r}: the script changed since it was stopped, and has no step "
                          f"named {place.name!r} any more (its steps: {names}); choose where to start with --from")
    index = min(found, key=lambda i: abs(i - place.step))
    mirror = 2 * place.step - index
    if mirror != index and mirror in found:  # one as near before it as after it
        first, second = sorted((index, mirror))
        raise ResumeError(f"cannot resume {routine.title!r}: the script changed since it was stopped, and steps "
                          f"{first + 1} and {second + 1} are both named {place.name!r} and as near to where it was "
                          "stopped; choose where to start with --from")
    moved = f" (now step {index + 1})" if index != place.step else ""
    return index, f"the script changed since it was stopped; resuming at step {place.name!r}{moved}"
