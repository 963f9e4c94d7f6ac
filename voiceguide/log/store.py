"""The practice log's database: one SQLite file in the user's data folder, one row per play.

Where: ``$XDG_DATA_HOME/voiceguide/practice.sqlite3``, else ``~/.local/share/voiceguide/``; the
folder and the file are their owner's alone (0700, 0600).  Nothing in it leaves the machine.

The schema's version is the file's ``PRAGMA user_version``; ``MIGRATIONS`` takes a file from any
older version to this one (version 0 is an empty file), each step in the same transaction as the
write that needed it.  A file this code cannot vouch for is reported and never written to, let
alone migrated or replaced: one that SQLite cannot read or whose ``quick_check`` fails
(damaged), one from a newer voiceguide (a higher version), or one at version 0 that already holds
tables (not ours).  A write that was cut off (a hot journal beside the file) is rolled back by
SQLite first, as any program using the file would: that restores the file, it changes no row.

Two plays that end at once both get their row: every write is one ``BEGIN IMMEDIATE`` transaction
(checks, migration, insert), and a writer that finds the file locked waits up to
``BUSY_TIMEOUT_S`` for the other (SQLite's busy timeout) before giving up with a ``LogError``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Final

from ..errors import VoiceguideError

DATA_ENV: Final = "XDG_DATA_HOME"
FOLDER: Final = "voiceguide"
FILE_NAME: Final = "practice.sqlite3"
BUSY_TIMEOUT_S: Final = 10.0
SOURCES: Final = ("terminal", "phone")
MIN_RATING: Final = 0
MAX_RATING: Final = 10

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 0 -> 1: the plays
    ("""CREATE TABLE plays (
            id INTEGER PRIMARY KEY,
            played_at TEXT NOT NULL,   -- local date and time it began, ISO 8601 with the UTC offset
            routine TEXT NOT NULL,     -- the routine's name (its file's stem)
            title TEXT NOT NULL,
            week INTEGER CHECK (week IS NULL OR week >= 1),
            planned_s REAL CHECK (planned_s IS NULL OR planned_s >= 0),
            played_s REAL CHECK (played_s IS NULL OR played_s >= 0),
            finished INTEGER NOT NULL CHECK (finished IN (0, 1)),
            stopped_step INTEGER,      -- where a play stopped early: the step's number, 0 the introduction
            stopped_where TEXT,        -- the same for a person: "3:12.4 in step 4 of 9 (Cat-cow)"
            rating INTEGER CHECK (rating IS NULL OR rating BETWEEN 0 AND 10),
            source TEXT NOT NULL CHECK (source IN ('terminal', 'phone'))
        )""",
     "CREATE INDEX plays_by_time ON plays (played_at)"),
)
"""The statements that take the schema from version ``i`` to ``i + 1``; never edit one, add another."""
SCHEMA_VERSION: Final = len(MIGRATIONS)


class LogError(VoiceguideError, RuntimeError):
    """The practice log cannot be read or written: damaged, newer than this voiceguide, busy, or not
    writable.  Its message is one line and names the file."""


def default_path() -> Path:
    """``$XDG_DATA_HOME/voiceguide/practice.sqlite3``, else under ``~/.local/share``."""
    base = os.environ.get(DATA_ENV) or Path.home() / ".local" / "share"
    return Path(base) / FOLDER / FILE_NAME


def local_now() -> str:
    """Now, local time with its UTC offset, to the second: how ``played_at`` is written."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Entry:
    """One play, as a row of the log."""

    played_at: str
    """When it began: local date and time with the UTC offset, ISO 8601 (``local_now``)."""
    routine: str
    """The routine's name: a built-in's name or its script's file stem."""
    title: str
    finished: bool
    source: str
    """Where it was played: ``terminal`` or ``phone``."""
    week: int | None = None
    """The programme's week it belongs to, from 1; None outside a programme."""
    planned_s: float | None = None
    """The session's length."""
    played_s: float | None = None
    """How much of it was played: the audio that reached the device (None: not known, as on a phone)."""
    stopped_step: int | None = None
    """A play stopped early: the step's number from 1, 0 for the introduction."""
    stopped_where: str | None = None
    """The same as a person reads it: "3:12.4 in step 4 of 9 (Cat-cow)"."""
    rating: int | None = None
    """How the back felt afterwards, 0 (no pain) to 10; None: not asked or skipped."""
    id: int | None = None
    """The row's number in the file (None before it is written)."""

    @property
    def day(self) -> str:
        return self.played_at[:10]

    @property
    def time(self) -> str:
        return self.played_at[11:16]


_COLUMNS: Final = tuple(f.name for f in fields(Entry) if f.name != "id")


def _describe(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class PracticeLog:
    """The log in one file (default ``default_path()``); opening it reads nothing, each call opens
    the file anew (a play lasts minutes; another process may write in between)."""

    def __init__(self, path: Path | None = None):
        self.path = path or default_path()

    # ------------------------------------------------------------------ checks

    def _damaged(self, why: str) -> LogError:
        return LogError(f"the practice log {str(self.path)!r} is damaged ({why}); it is left as it is: "
                        "move it aside to start a new log")

    def _vet(self, db: sqlite3.Connection) -> int:
        """The file's schema version once it passes every check, else a ``LogError``; reads only."""
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise LogError(f"the practice log {str(self.path)!r} was written by a newer voiceguide (schema "
                               f"version {version}, this one knows up to {SCHEMA_VERSION}); it is left as it "
                               "is: upgrade voiceguide to write to it")
            verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
            if verdict != ["ok"]:
                said = [line for text in verdict for line in str(text).splitlines() if not line.startswith("***")]
                raise self._damaged(said[0] if said else "its check failed")
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise self._busy_or_damaged(exc) from None
        if version == 0 and tables:
            raise LogError(f"{str(self.path)!r} holds tables but is not a voiceguide practice log (schema "
                           "version 0); it is left as it is: move it aside to start a new log")
        if version > 0 and "plays" not in tables:
            raise self._damaged("its table of plays is missing")
        return version

    def check(self) -> None:
        """Raise the ``LogError`` a write would meet (damaged, newer, not ours), reading only; a
        missing file is fine (the first write makes it)."""
        if not self.path.exists():
            return
        with self._reading() as db:
            self._vet(db)

    def _roll_back_interrupted(self) -> None:
        """A write cut off halfway (SIGKILL, a power cut) leaves a hot journal beside the file, which
        a read-only connection cannot roll back; a read-write one does on its first read, as every
        SQLite program does, and the file is as it was before that write."""
        journal = self.path.with_name(self.path.name + "-journal")
        try:
            if not journal.stat().st_size:
                return
        except OSError:
            return
        try:
            with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)) as db:
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error:
            pass  # the read-only checks that follow say what is wrong

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        self._roll_back_interrupted()
        try:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise LogError(f"cannot read the practice log {str(self.path)!r} ({_describe(exc)})") from None
        with closing(db):
            try:
                yield db
            except sqlite3.OperationalError as exc:
                raise self._busy_or_damaged(exc) from None

    def _busy_or_damaged(self, exc: sqlite3.Error) -> LogError:
        if "locked" in str(exc) or "busy" in str(exc):
            return LogError(f"the practice log {str(self.path)!r} stayed locked by another program for "
                            f"{BUSY_TIMEOUT_S:g} s ({_describe(exc)})")
        if isinstance(exc, sqlite3.OperationalError) and "readonly" not in str(exc):
            return LogError(f"cannot use the practice log {str(self.path)!r} ({_describe(exc)})")
        return self._damaged(_describe(exc))

    # ------------------------------------------------------------------ writing

    def _create_file(self) -> None:
        """The folder (0700) and an empty file (0600) if there is none: a log is its owner's alone
        (SQLite gives its journal the file's mode)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise LogError(f"cannot make the practice log {str(self.path)!r} ({exc.strerror or exc})") from None

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on a file that passed the checks and is at this schema version
        (migrated inside the same transaction if it was ours and older); committed at the end,
        rolled back on any failure."""
        self._create_file()
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise LogError(f"cannot open the practice log {str(self.path)!r} ({_describe(exc)})") from None
        with closing(db):
            try:
                db.execute("BEGIN IMMEDIATE")  # the write lock first: the checks and the write see one file
            except sqlite3.DatabaseError as exc:
                raise self._busy_or_damaged(exc) from None
            try:
                version = self._vet(db)
                for statements in MIGRATIONS[version:]:
                    for statement in statements:
                        db.execute(statement)
                if version < SCHEMA_VERSION:
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
                yield db
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._busy_or_damaged(exc) from None
                raise

    def add(self, entry: Entry) -> int:
        """Write one row (migrating the file first if it is ours and older); its id.  Nothing is
        written to a file that fails the checks; ``LogError`` says why in one line."""
        if entry.source not in SOURCES:
            raise ValueError(f"source {entry.source!r} is not one of {SOURCES}")
        if entry.rating is not None and not MIN_RATING <= entry.rating <= MAX_RATING:
            raise ValueError(f"rating {entry.rating!r} is not from {MIN_RATING} to {MAX_RATING}")
        with self._writing() as db:
            values = [getattr(entry, name) for name in _COLUMNS]
            cursor = db.execute(f"INSERT INTO plays ({', '.join(_COLUMNS)}) "
                                f"VALUES ({', '.join('?' * len(_COLUMNS))})", values)
        return int(cursor.lastrowid or 0)

    # ------------------------------------------------------------------ reading

    def entries(self, since: date | None = None) -> list[Entry]:
        """The plays that began on ``since`` or later (all of them: None), oldest first."""
        if not self.path.exists():
            return []
        with self._reading() as db:
            version = self._vet(db)
        if version == 0:
            return []
        if version < SCHEMA_VERSION:  # ours, from an older voiceguide: brought up to date first
            with self._writing():
                pass
        with self._reading() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM plays WHERE substr(played_at, 1, 10) >= ? "
                              "ORDER BY played_at, id", (since.isoformat() if since else "",)).fetchall()
        return [Entry(**{**dict(row), "finished": bool(row["finished"])}) for row in rows]
