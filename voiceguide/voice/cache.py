"""The speech cache: every utterance is synthesised once, then read back on every later run.

Layout: ``<root>/<engine>/<key>.speech``, one file per utterance, where ``key`` is the SHA-256 of
the engine, voice, engine-and-voice version, rate and the text made for the ear.  A new Piper or a
new voice file changes the version and so misses the old entries instead of reusing them.

Entry format (little-endian), chosen so a damaged file can always be told from a good one::

    magic        8 bytes   b"VGSPEECH"
    format       u16       FORMAT_VERSION
    sample_rate  u32
    n_samples    u32
    meta_bytes   u32       length of the JSON that follows
    crc32        u32       of meta + samples
    meta         JSON      {"engine", "voice", "version", "rate", "text"}: readable, for humans
    samples      int16 * n_samples, mono, as the engine made them (before levelling)

A file whose magic or format differs, whose size is not exactly header + meta + samples, or whose
checksum fails is damaged: ``get`` reports it once (through ``notify``) and returns None, so the
caller synthesises again and ``put`` overwrites it.  Audio from a damaged entry is never returned.

Writes go to a temporary file in the same folder (``files.atomic_file``), then ``os.replace``
it into place: readers see the old entry or the new one, never half of one, so processes can share
a cache folder.  Two processes making the same entry both write complete files and the last rename
wins.  No fsync: a crash can at worst leave an entry the checksum rejects.  A temporary file whose
process is gone (killed mid-write) is removed by the next process that writes to that folder.
Anything else found where an entry should be (a folder, say) is not an entry: it is replaced when
the entry is made, and ``clear`` removes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Final

import numpy as np

from ..files import PART_NAME, write_bytes
from ..stale import stale_files
from .engines import Audio

MAGIC: Final = b"VGSPEECH"
FORMAT_VERSION: Final = 1
_HEADER: Final = struct.Struct("<8sHIIII")
SUFFIX: Final = ".speech"
FINISHED_SUFFIX: Final = ".finished"
"""Beside an entry, the same utterance finished for a session rate (``speech.finish``) with what the
loudness pass needs to know of it: made once, so a warm export neither levels nor measures again."""
LIMITED_SUFFIX: Final = ".limited"
"""Beside a finished utterance, what limiting it at a session's speech ceiling changed (a few short
stretches of samples), for the last ``LIMITED_KEPT`` ceilings asked for: a warm export of the same
session does not limit its utterances again.  Trusted only beside its finished file."""
LIMITED_KEPT: Final = 4
"""Ceilings kept per utterance: a cue shared by a few sessions keeps each one's.  On the built-ins with
hibari, one ceiling's stretches are about a quarter of the finished file (52 kB an utterance)."""
_LIMITED_MAGIC: Final = b"VGLIMIT1"
_LIMITED_HEADER: Final = struct.Struct("<8sII")  # magic, JSON length, CRC-32 of everything after the header


@dataclass(frozen=True)
class CacheKey:
    """Everything that decides what an utterance sounds like."""

    engine: str
    voice: str
    version: str
    rate: float
    text: str

    def digest(self) -> str:
        fields = [self.engine, self.voice, self.version, repr(float(self.rate)), self.text]
        return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()

    def meta(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Limited:
    """A finished utterance limited at one ceiling, as kept beside it (``LIMITED_SUFFIX``)."""

    ceiling: str
    """The ceiling in dBFS, as an exact text (``float.hex``)."""
    stretches: list[tuple[int, np.ndarray]]
    """What limiting changed: (first sample, float32 samples) stretches."""
    peak: float | None = None
    """At least the largest true peak of the result, linear (``loudness.peak_bound``); None: not kept."""


def default_cache_dir() -> Path:
    """``$VOICEGUIDE_CACHE``; else ``./audio_cache`` when the current folder has one (a checkout);
    else the user cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``) + ``/voiceguide``."""
    if os.environ.get("VOICEGUIDE_CACHE"):
        return Path(os.environ["VOICEGUIDE_CACHE"])
    local = Path.cwd() / "audio_cache"
    if local.is_dir():
        return local
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "voiceguide"


def stderr_note(message: str) -> None:
    """The default way to tell the user something in passing: one line on stderr."""
    print(f"voiceguide: {message}", file=sys.stderr)


class SpeechCache:
    """Engine audio by ``CacheKey``, in files under ``root`` (see the module docstring)."""

    def __init__(self, root: Path, *, notify: Callable[[str], None] | None = None):
        self.root = Path(root)
        self.notify = notify or stderr_note
        self._reported: set[Path] = set()

    def path(self, key: CacheKey) -> Path:
        return self.root / _safe_name(key.engine) / f"{key.digest()}{SUFFIX}"

    def get(self, key: CacheKey) -> Audio | None:
        """The cached audio, or None when missing or damaged (damage is reported once)."""
        data = self._read(key)
        return decode_entry(data)[0] if data is not None else None

    def intact(self, key: CacheKey) -> bool:
        """Whether the entry is there and whole, as ``get`` would find it (damage is reported once),
        without making its audio: for a caller that uses what was made from it (``get_finished``)."""
        return self._read(key) is not None

    def _read(self, key: CacheKey) -> bytes | None:
        """The entry's bytes, checked whole; None when missing or damaged (damage is reported once)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):  # a folder is no entry: ``put`` replaces it
            return None
        except NotADirectoryError as exc:  # the folder is the trouble, not this entry: say so once
            self._report(self.root, self._unusable(exc))
            return None
        except OSError as exc:
            self._report(path, f"cannot read speech cache entry {str(path)!r} ({exc.strerror}); making it again")
            return None
        problem = entry_problem(data)
        if problem:
            self._report(path, f"speech cache entry {str(path)!r} is damaged ({problem}); making it again")
            return None
        return data

    def put(self, key: CacheKey, audio: Audio) -> None:
        """Store ``audio`` atomically.  A cache that cannot be written is reported once, not fatal."""
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir() and not path.is_symlink():  # not an entry: in the way of one
                shutil.rmtree(path)
            write_bytes(path, encode(audio, key.meta()), sync=False)  # the checksum catches a lost write
            self._reported.discard(path)
        except OSError as exc:  # a folder that cannot be made or written, a full disk: the same for every entry
            self._report(self.root, self._unusable(exc))

    def finished_path(self, key: CacheKey, finish: str) -> Path:
        return self.path(replace(key, version=f"{key.version}; finished {finish}")).with_suffix(FINISHED_SUFFIX)

    def get_finished(self, key: CacheKey, finish: str) -> tuple[np.ndarray, dict] | None:
        """The utterance finished as ``finish`` says (little-endian int16 samples, read-only) and the notes
        kept with it; None when missing or damaged.  Trust it only when the entry itself is whole
        (``intact``): a finished file is only trusted beside its entry."""
        path = self.finished_path(key, finish)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if entry_problem(data):
            return None  # made again, and overwritten: nothing to report, the entry itself is fine
        meta_len = _HEADER.unpack_from(data)[4]
        samples = np.frombuffer(data, dtype="<i2", offset=_HEADER.size + meta_len)
        return samples, json.loads(data[_HEADER.size : _HEADER.size + meta_len])

    def put_finished(self, key: CacheKey, finish: str, samples: np.ndarray, sample_rate: int, notes: dict) -> None:
        """Store a finished utterance with ``notes`` (JSON), atomically; failures are reported as for ``put``."""
        path = self.finished_path(key, finish)
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            write_bytes(path, encode(Audio(samples, sample_rate), {**key.meta(), "finish": finish, **notes}),
                        sync=False)
        except OSError as exc:
            self._report(self.root, self._unusable(exc))

    def limited_path(self, key: CacheKey, finish: str) -> Path:
        return self.finished_path(key, finish).with_suffix(LIMITED_SUFFIX)

    def _read_limited(self, path: Path) -> list[Limited]:
        """Every ``Limited`` kept in ``path``, most recent first; none when missing or damaged."""
        try:
            data = path.read_bytes()
            magic, json_len, crc = _LIMITED_HEADER.unpack_from(data)
            body = data[_LIMITED_HEADER.size :]
            if magic != _LIMITED_MAGIC or zlib.crc32(body) != crc:
                return []
            found, pos = [], json_len
            for entry in json.loads(body[:json_len]):
                stretches = []
                for start, n in entry["stretches"]:
                    stretches.append((int(start), np.frombuffer(body, "<f4", n, pos).astype(np.float32)))
                    pos += 4 * n
                peak = entry.get("peak")  # written since the mixer bounds true peaks with it
                found.append(Limited(str(entry["ceiling"]), stretches, float(peak) if peak is not None else None))
            return found if pos == len(body) else []
        except (OSError, struct.error, ValueError, KeyError, TypeError, AttributeError):
            return []

    def get_limited(self, key: CacheKey, finish: str, ceiling: str) -> Limited | None:
        """What limiting the finished utterance at ``ceiling`` (an exact text of the ceiling) changed; None
        when not kept (or damaged)."""
        return next((kept for kept in self._read_limited(self.limited_path(key, finish)) if kept.ceiling == ceiling),
                    None)

    def put_limited(self, key: CacheKey, finish: str, limited: Limited) -> None:
        """Keep ``limited`` with the last few others; failures are reported as for ``put``."""
        path = self.limited_path(key, finish)
        entries = [limited] + [e for e in self._read_limited(path) if e.ceiling != limited.ceiling][: LIMITED_KEPT - 1]
        header = json.dumps([{"ceiling": e.ceiling, "stretches": [[a, len(v)] for a, v in e.stretches],
                              **({"peak": e.peak} if e.peak is not None else {})} for e in entries])
        body = header.encode() + b"".join(np.asarray(v, "<f4").tobytes() for e in entries for _, v in e.stretches)
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            write_bytes(path, _LIMITED_HEADER.pack(_LIMITED_MAGIC, len(header.encode()), zlib.crc32(body)) + body,
                        sync=False)
        except OSError as exc:
            self._report(self.root, self._unusable(exc))

    def _unusable(self, exc: OSError) -> str:
        return (f"cannot keep speech in the cache folder {str(self.root)!r} ({exc.strerror or exc}); going on "
                "without it, so speech is made again next time (choose a folder with --cache-dir or VOICEGUIDE_CACHE)")

    def entries(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.glob(f"*/*{SUFFIX}") if p.is_file())

    def info(self) -> str:
        """Entries and size, in total and per engine, for ``voiceguide cache info``."""
        if self.root.exists() and not self.root.is_dir():
            return f"speech cache: {self.root} is not a folder (choose one with --cache-dir or VOICEGUIDE_CACHE)"
        per_engine: dict[str, list[int]] = {}
        for path in self.entries():
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # removed by another process meanwhile
                continue
            counts = per_engine.setdefault(path.parent.name, [0, 0])
            counts[0] += 1
            counts[1] += size
        total_n = sum(n for n, _ in per_engine.values())
        total_bytes = sum(b for _, b in per_engine.values())
        lines = [f"speech cache: {self.root}", f"  {_count(total_n)}, {_size(total_bytes)}"]
        lines += [f"  {engine}: {_count(n)}, {_size(b)}" for engine, (n, b) in sorted(per_engine.items())]
        return "\n".join(lines)

    def clear(self) -> int:
        """Remove every entry (and leftovers of interrupted writes); returns how many entries went."""
        removed = 0
        for path in self.entries():
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
        if self.root.is_dir():
            for suffix in (FINISHED_SUFFIX, LIMITED_SUFFIX):
                for finished in self.root.glob(f"*/*{suffix}"):
                    if finished.is_file() or finished.is_symlink():
                        finished.unlink(missing_ok=True)
        if self.root.is_dir():
            for folder in (f for f in self.root.iterdir() if f.is_dir()):  # not the temporary files of a live writer
                for temp in stale_files(folder, PART_NAME):
                    temp.unlink(missing_ok=True)
            for stray in self.root.glob(f"*/*{SUFFIX}"):  # a folder where an entry should be
                if stray.is_dir() and not stray.is_symlink():
                    shutil.rmtree(stray, ignore_errors=True)
            for folder in self.root.iterdir():
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        return removed

    def _report(self, path: Path, message: str) -> None:
        if path not in self._reported:
            self._reported.add(path)
            self.notify(message)


def encode(audio: Audio, meta: dict) -> bytes:
    meta_bytes = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8")
    pcm = np.asarray(audio.samples, dtype="<i2").tobytes()
    crc = zlib.crc32(pcm, zlib.crc32(meta_bytes))
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, audio.sample_rate, len(audio.samples), len(meta_bytes), crc)
    return header + meta_bytes + pcm


def decode_entry(data: bytes) -> tuple[Audio | None, str | None]:
    """(audio, None) for a good entry, (None, what is wrong) for a damaged one."""
    problem = entry_problem(data)
    if problem:
        return None, problem
    _, _, sample_rate, _, meta_len, _ = _HEADER.unpack_from(data)
    pcm = np.frombuffer(data, dtype="<i2", offset=_HEADER.size + meta_len).astype(np.int16)
    return Audio(pcm, sample_rate), None


def entry_problem(data: bytes) -> str | None:
    """What is wrong with an entry's bytes, None when nothing is."""
    if len(data) < _HEADER.size:
        return f"truncated ({len(data)} bytes, shorter than the header)"
    magic, version, sample_rate, n_samples, meta_len, crc = _HEADER.unpack_from(data)
    if magic != MAGIC or version != FORMAT_VERSION:
        return "wrong header"
    expected = _HEADER.size + meta_len + 2 * n_samples
    if len(data) != expected:
        return f"wrong size ({len(data)} bytes, header says {expected})"
    body = memoryview(data)[_HEADER.size :]
    if zlib.crc32(body) != crc:
        return "checksum mismatch"
    if sample_rate <= 0:
        return f"bad sample rate {sample_rate}"
    return None


def _safe_name(engine: str) -> str:
    """Engine names come from plug-ins: keep them to one harmless path component."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", engine).strip(".") or "_"


def _count(n: int) -> str:
    return "1 entry" if n == 1 else f"{n} entries"


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.1f} kB"
