"""Files written whole or not at all, and files identified by their SHA-256.

Every file voiceguide writes (exports, speech cache entries, measured speeds, where a play was left)
goes to a hidden temporary file beside its target first, ``.voiceguide-PID-RANDOM.part`` (short
whatever the target's name), is synced, and is renamed over the target at the end; an interrupt or
an error removes the temporary file.  What no program can clean up after (SIGKILL, a power cut, the
OOM killer) the next write into the same folder does: part files of this one naming whose process
is gone are removed, once a process and folder, with a line on stderr (``stale.py``).

Only a regular file (or a link to one) is ever replaced: a target that is a folder, a device node,
a FIFO or a socket is refused with ``NotARegularFileError`` before anything is written, and checked
again just before the rename, so ``-o /dev/full`` run as root can never replace a device.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Final

from .progress import Progress
from .signals import raise_if_received
from .stale import remove_stale

PART_PREFIX: Final = ".voiceguide-"
PART_SUFFIX: Final = ".part"
PART_NAME: Final = re.compile(r"\.voiceguide-(?P<pid>\d+)-[0-9a-f]+\.part")
LEFT_BY: Final = "a voiceguide that stopped while it wrote there"
_tidied: set[Path] = set()  # folders already rid of stale part files by this process


class NotARegularFileError(OSError):
    """A target that exists and is not a regular file: a folder, a device, a FIFO, a socket."""


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a file"))
    return next((what for test, what in kinds if test(mode)), "not a regular file")


def what_is(path: Path) -> str:
    """What is at ``path``, for messages: "a file", "a folder", "a character device", ... or "nothing"."""
    try:
        return _kind(os.stat(path).st_mode)
    except OSError:
        return "nothing"


def check_replaceable(target: Path) -> None:
    """Refuse a ``target`` that exists and is not a regular file (a link is followed): writing would
    replace it.  A missing target, a regular file or a link to one (or to nothing) is fine."""
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError:  # no permission to look: the write itself will say so
        return
    if not stat.S_ISREG(mode):
        raise NotARegularFileError(errno.EEXIST, f"it is {_kind(mode)}, not a regular file, and is left as it is; "
                                                 "give the name of a file to write")


def part_name() -> str:
    """A temporary file's name: ``.voiceguide-PID-RANDOM.part``, at most 36 characters."""
    return f"{PART_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{PART_SUFFIX}"


def tidy(folder: Path) -> None:
    """Remove the part files that writes which never finished left in ``folder`` (once a process)."""
    folder = Path(folder).absolute()
    if folder not in _tidied:
        _tidied.add(folder)
        remove_stale(folder, PART_NAME, LEFT_BY)


@contextmanager
def atomic_file(target: Path, progress: Progress | None = None, *, sync: bool = True,
                mode: int = 0o666) -> Iterator[BinaryIO]:
    """A binary file that appears at ``target`` only once complete; on any failure nothing is left.

    The exception that failed it goes on unchanged (``progress``, if given, is closed first).
    ``sync=False`` skips the fsync, for files a crash may lose (their readers check them).
    ``mode``: the permissions it is created with (less the umask), from the first byte: 0o600 for a secret.
    """
    target = Path(target)
    check_replaceable(target)
    temporary = target.with_name(part_name())
    tidy(target.parent)
    try:
        with open(temporary, "wb", opener=lambda name, flags: os.open(name, flags, mode)) as f:
            yield f
            f.flush()
            if sync:
                os.fsync(f.fileno())
        raise_if_received()  # a Ctrl-C or kill whose exception a finaliser swallowed: still no file
        check_replaceable(target)  # made while we wrote: still never renamed over
        os.replace(temporary, target)
    except BaseException:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:  # a read-only file system refuses even to say the file is not there
            pass
        if progress:
            progress.close()
        raise


def write_bytes(target: Path, data: bytes, *, sync: bool = True) -> Path:
    """Write ``data`` to ``target`` whole or not at all."""
    with atomic_file(target, sync=sync) as f:
        f.write(data)
    return target


def write_text(target: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` whole or not at all."""
    return write_bytes(target, text.encode("utf-8"))


def file_sha256(path: Path) -> str:
    """The file's SHA-256 as hex, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
