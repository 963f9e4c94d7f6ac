"""Temporary files that a killed process left behind, found by their name and removed.

Files written whole-or-nothing (exports, speech cache entries) go to a temporary file named with
the writing process's id first.  SIGKILL, a power cut or the OOM killer leave that file behind; the
next writer into the same folder removes it, but only when its process is gone (``os.kill(pid, 0)``)
or, should the id have been reused meanwhile, when it has not been written to for a day.  A
temporary file of a live process is never touched, so two writers can share a folder.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import Final

STALE_AFTER_S: Final = 24 * 3600
"""A temporary file not written to for this long is stale whatever its process id (a writer adds to
its file every few seconds; an id can be reused by an unrelated process)."""


def process_gone(pid: int) -> bool:
    """Whether no process has this id (one of another user's counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: no process can have it
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def stale_files(folder: Path, name: re.Pattern[str]) -> list[Path]:
    """The files in ``folder`` whose name matches ``name`` and that are stale.  The process id is the
    group ``pid`` of ``name``."""
    found = []
    try:
        candidates = list(Path(folder).iterdir())
    except OSError:  # no folder yet, or unreadable: nothing to tidy
        return []
    now = time.time()
    for path in candidates:
        match = name.fullmatch(path.name)
        if match is None:
            continue
        pid = int(match["pid"])
        if pid == os.getpid():
            continue
        try:
            info = path.lstat()
        except OSError:
            continue
        if process_gone(pid) or now - info.st_mtime > STALE_AFTER_S:
            found.append(path)
    return found


def remove_stale(folder: Path, name: re.Pattern[str], left_by: str) -> list[Path]:
    """Remove the stale files of this naming in ``folder``; say so in one line on stderr if any went.

    ``left_by`` names what made them, for that line ("an export that did not finish").
    """
    removed, size = [], 0
    for path in stale_files(folder, name):
        try:
            length = path.lstat().st_size
            path.unlink()
        except OSError:  # gone meanwhile, or not ours to remove: left alone
            continue
        removed.append(path)
        size += length
    if removed:
        what = f"{len(removed)} part files" if len(removed) > 1 else f"the part file {removed[0].name!r}"
        print(f"voiceguide: removed {what} ({size / 1e6:.1f} MB) left in {str(folder)!r} by {left_by}",
              file=sys.stderr)
    return removed
