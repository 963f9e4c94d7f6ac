"""The current programme: remembered by ``voiceguide programme start FILE`` for ``today`` and ``play today``.

One small JSON file, ``$XDG_STATE_HOME/voiceguide/programme.json`` (else
``~/.local/state/voiceguide/``), written whole or not at all (``files.py``).  It holds the
programme's absolute path and its first day.  A file that is damaged, or written by a newer
voiceguide, is the user's: it is reported in one line and never overwritten.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from ..errors import VoiceguideError
from ..files import write_text

STATE_ENV: Final = "XDG_STATE_HOME"
FOLDER: Final = "voiceguide"
FILE: Final = "programme.json"
FORMAT: Final = 1


class StateError(VoiceguideError, ValueError):
    """The current-programme file cannot be read (damaged, or from a newer voiceguide)."""


def state_file() -> Path:
    """Where the current programme is kept (the same folder as ``play --resume``'s places)."""
    base = os.environ.get(STATE_ENV) or Path.home() / ".local" / "state"
    return Path(base) / FOLDER / FILE


@dataclass(frozen=True)
class Current:
    path: Path
    start: date


def current_programme() -> Current | None:
    """The programme ``programme start`` remembered; None when there is none."""
    where = state_file()
    try:
        raw = where.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read {str(where)!r} ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
        found = data["format"] if isinstance(data, dict) else None
    except (ValueError, KeyError):
        found = None
    if isinstance(found, int) and found > FORMAT:
        raise StateError(f"{str(where)!r} was written by a newer voiceguide (format {found}); it is left as it is: "
                         "upgrade voiceguide, or give the programme file to the command")
    try:
        return Current(Path(data["path"]), date.fromisoformat(data["start"]))
    except (TypeError, KeyError, ValueError, UnboundLocalError):
        raise StateError(f"{str(where)!r} is damaged and is left as it is; move it away and run "
                         "`voiceguide programme start FILE` again") from None


def remember_programme(path: Path, start: date) -> Path:
    """Make ``path`` the current programme, from ``start``; a damaged or newer file is not overwritten."""
    current_programme()  # raises for a file that must not be overwritten
    where = state_file()
    where.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"format": FORMAT, "path": str(Path(path).resolve()), "start": start.isoformat()}, indent=2)
    return write_text(where, text + "\n")
