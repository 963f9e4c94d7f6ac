"""One base exception for everything voiceguide reports to a user.

Each specific error also subclasses the builtin a caller would naturally catch, so library users
can write ``except ValueError`` and still get ours.  The CLI turns these into messages and exit
codes at its edge; nothing else in the package prints tracebacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Exit codes of the command line (README "Exit codes"); a VoiceguideError carries its own.
EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_USAGE: Final = 2
EXIT_NO_DEVICE: Final = 3
EXIT_DEVICE_LOST: Final = 4
"""The exit code of a ``play`` whose sound device stopped mid-session.  There no error is raised: the
player returns how it ended (``play.player.Ending``), and the place is kept for ``--resume``.  A
voice sample, with no place to keep, raises ``DeviceLostError``."""
EXIT_INTERRUPTED: Final = 130


class VoiceguideError(Exception):
    """Base of every error voiceguide raises on purpose."""

    exit_code: int = EXIT_ERROR


@dataclass(frozen=True, order=True)
class Location:
    """A place in a routine script: 1-based line and column, as editors count."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


EXCERPT_CHARS: Final = 80
"""A value quoted in a message shows at most this many characters (a whole file or a 990 KB line never)."""
MAX_MESSAGE_CHARS: Final = 1000
"""No message about a script is longer: its start and its advice at the end are kept."""


def excerpt(text: str, chars: int = EXCERPT_CHARS) -> str:
    """``text`` on one line, cut to its first ``chars`` characters with "..." and its length when longer."""
    one_line = " ".join(text.split())
    if len(one_line) <= chars:
        return one_line
    return f"{one_line[:chars]}... ({len(text):,} characters)"


def quoted(text: str) -> str:
    """A value the author wrote, quoted in a message: ``repr`` of its ``excerpt``."""
    return repr(excerpt(text))


def short_message(message: str) -> str:
    """At most ``MAX_MESSAGE_CHARS`` of a message: its start and its advice at the end."""
    if len(message) > MAX_MESSAGE_CHARS:
        keep = MAX_MESSAGE_CHARS // 2
        message = f"{message[:keep]} ... {message[-keep:]}"
    return message


@dataclass(frozen=True)
class Problem:
    """One located complaint about a script: an error or a warning.  What it quotes from the script
    is an excerpt (``quoted``), and the whole message is at most ``MAX_MESSAGE_CHARS`` long."""

    location: Location
    message: str
    severity: str = "error"  # "error" or "warning"

    def __post_init__(self) -> None:
        if len(self.message) > MAX_MESSAGE_CHARS:
            object.__setattr__(self, "message", short_message(self.message))

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.location}: {prefix}{self.message}"


class ScriptError(VoiceguideError, ValueError):
    """A routine script that cannot be played; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RoutineNotFoundError(VoiceguideError, FileNotFoundError):
    """A routine name or path that points at nothing."""


class PlanError(VoiceguideError, ValueError):
    """A script that parses but cannot be turned into a session (for example, over three hours)."""


class EngineError(VoiceguideError, RuntimeError):
    """A speech engine that cannot run or failed to speak."""


class UnknownEngineError(EngineError, KeyError):
    """A voice spec naming an engine nobody registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class AudioError(VoiceguideError, RuntimeError):
    """Decoding, mixing or encoding failed."""


class ExportError(VoiceguideError, OSError):
    """An export that could not be written; nothing is left at the destination."""


class NoSoundDeviceError(VoiceguideError, RuntimeError):
    """Live playback asked for with no sound device to play on."""

    exit_code = EXIT_NO_DEVICE

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail
        """What the sound system said, in a few words ("opening PCM device: No such file or directory")."""


class DeviceLostError(VoiceguideError, RuntimeError):
    """The sound device stopped mid-play where no place is kept to resume from (a voice sample)."""

    exit_code = EXIT_DEVICE_LOST


class ResumeError(VoiceguideError, LookupError):
    """``play --resume`` with a position that no longer points at a step of the changed script."""


class ServeError(VoiceguideError, OSError):
    """The server cannot listen where it was asked to (an address not on this computer, a port not allowed)."""
