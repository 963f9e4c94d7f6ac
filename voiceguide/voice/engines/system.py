"""The system voice through pyttsx3: espeak-ng on Linux, SAPI5 on Windows, NSSpeech on macOS.

pyttsx3 has traps (each reproduced with pyttsx3 2.99 and espeak-ng on Debian 12); each is closed here:

- espeak-ng can be initialised once per process, so the process has one pyttsx3 engine
  (``_Driver``), made on first use, kept for the life of the process, and used by one utterance at
  a time under ``_LOCK``.  ``SystemEngine.close`` therefore releases nothing.
- One ``save_to_file`` per ``runAndWait``, into a fresh file, so a queued file is never overwritten
  and an empty queue never re-writes an old one.
- On espeak ``runAndWait`` returns before the file is written (espeak writes it from its own
  thread), so we wait for the ``finished-utterance`` event, with a timeout that grows with the text.
  SAPI5 writes synchronously and sends no event; NSSpeech finishes inside ``runAndWait``.
- pyttsx3 now and then cancels an utterance itself (``_Driver._attempt``); it is spoken again.
- Errors arrive only as ``error`` events; they become ``EngineError``.
- The file is checked (exists, complete) and its format read from its own header: espeak always
  says 22050 Hz mono 16-bit, and macOS writes AIFF whatever the extension.
- pyttsx3 prints "Audio saved to ..." on stdout from espeak's thread; that one line is filtered out
  of ``sys.stdout`` while we wait, so voiceguide's stdout carries only what voiceguide means.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import shutil
import struct
import sys
import tempfile
import threading
import wave
from pathlib import Path
from typing import Final

import numpy as np

from ...errors import EngineError
from ...script.settings import SAMPLE_RATE
from .base import Audio, Engine, VoiceInfo, VoiceSettings, installed_version

_LOCK: Final = threading.RLock()
_driver: _Driver | None = None

TIMEOUT_BASE_S: Final = 20.0
TIMEOUT_PER_CHAR_S: Final = 0.02  # espeak runs ~200x real time; a two-minute paragraph is ~1800 characters
DEFAULT_RATE_WPM: Final = 200
"""pyttsx3's own starting rate on every driver.  Not read back: its espeak binding of GetParameter
drops an argument and returns 175 or 200 at random."""
MAX_ATTEMPTS: Final = 3
SYNCHRONOUS_DRIVERS: Final = {"sapi5"}  # save_to_file returns with the file written, and sends no event
_ESPEAK_LIBRARIES: Final = ("libespeak-ng.so.1", "/usr/local/lib/libespeak-ng.so.1", "libespeak.so.1")


class SystemEngine(Engine):
    name = "system"
    description = "the operating system's voice via pyttsx3 (espeak-ng, SAPI5, NSSpeech)"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if importlib.util.find_spec("pyttsx3") is None:
            return "pyttsx3 is not installed: pip install pyttsx3"
        if sys.platform == "win32":
            if importlib.util.find_spec("comtypes") is None:
                return "comtypes is not installed (SAPI5 needs it): pip install comtypes pywin32"
        elif sys.platform == "darwin":
            if importlib.util.find_spec("objc") is None:
                return "PyObjC is not installed (NSSpeech needs it): pip install pyobjc"
        elif not any(_loads(name) for name in _ESPEAK_LIBRARIES):
            return "espeak-ng is not installed: apt-get install espeak-ng (Fedora: dnf install espeak-ng)"
        return None

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        if not text.strip():
            return Audio(np.zeros(0, dtype=np.int16), SAMPLE_RATE)  # nothing to resample
        with _LOCK:
            driver = _get_driver()
            return driver.speak(text, driver.voice_id(settings.voice), round(DEFAULT_RATE_WPM * settings.rate))

    def version(self, settings: VoiceSettings) -> str:
        with _LOCK:
            driver = _get_driver()
            voice_id = driver.voice_id(settings.voice)
        return f"pyttsx3 {installed_version('pyttsx3')}; {driver.name} {driver.library_version}; voice {voice_id}"

    def voices(self) -> list[VoiceInfo]:
        with _LOCK:
            return _get_driver().voices()


def _language(languages: object) -> str | None:
    """pyttsx3's first language (a str, or bytes from SAPI5 and old espeak) as a tag, or None."""
    first = next(iter(languages), None) if isinstance(languages, (list, tuple)) else languages
    if isinstance(first, bytes):
        first = first.decode("ascii", "replace").lstrip("\x05")  # espeak prefixes a priority byte
    return str(first).replace("_", "-") if first else None


def _sex(gender: object) -> str | None:
    text = str(gender or "").strip().lower()
    return text if text in ("female", "male") else None


def _loads(library: str) -> bool:
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def _get_driver() -> _Driver:
    global _driver
    with _LOCK:
        if _driver is None:
            reason = SystemEngine.unavailable_reason()
            if reason:
                raise EngineError(f"the system voice cannot run: {reason}")
            _driver = _Driver()
        return _driver


class _Driver:
    """The process's one pyttsx3 engine, with its events turned into waits and errors."""

    def __init__(self) -> None:
        import pyttsx3

        try:
            self.tts = pyttsx3.init()
        except Exception as exc:  # drivers raise RuntimeError, OSError, ImportError...
            raise EngineError(f"the system voice could not start: {exc}") from exc
        self.name = self.tts.driver_name
        self.default_voice = str(self.tts.getProperty("voice"))
        self.library_version = self._library_version()
        self.finished = threading.Event()
        self.errors: list[BaseException] = []
        self.broken: str | None = None
        self.cancelled = False
        self.tts.connect("finished-utterance", self._on_finished)
        self.tts.connect("error", lambda exception=None, **_: self.errors.append(exception))
        # pyttsx3 starts "busy" and queues property changes until a run loop; one empty run (nothing
        # has been said, so nothing is re-said) makes it idle, so later changes apply at once.
        self.tts.runAndWait()

    def _settle(self) -> None:
        """On espeak, wait until espeak has done every queued command and left our callback.

        espeak applies a rate change asynchronously, and pyttsx3 cancels whatever espeak still has
        queued when its run loop ends: unsettled, a new rate was lost about one time in three.  And
        pyttsx3 marks itself idle only after the finished event, from espeak's thread.
        """
        if self.name == "espeak":
            from pyttsx3.drivers import _espeak

            _espeak.Synchronize()

    def _library_version(self) -> str:
        if self.name != "espeak":
            return ""
        from pyttsx3.drivers import _espeak

        return f"espeak-ng {_espeak.Info().decode()}"

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(str(v.id), str(v.name), default=str(v.id) == self.default_voice,
                          language=_language(v.languages), sex=_sex(v.gender))
                for v in self.tts.getProperty("voices")]

    def voice_id(self, wanted: str | None) -> str:
        """The id of the voice named ``wanted`` by id, name or the id's last part (``en-us``)."""
        if wanted is None:
            return self.default_voice
        voices = self.voices()
        key = wanted.casefold()
        for matches in (lambda v: v.id.casefold() == key, lambda v: v.name.casefold() == key,
                        lambda v: v.id.replace("\\", "/").rsplit("/", 1)[-1].casefold() == key):
            found = [v for v in voices if matches(v)]
            if found:
                return found[0].id
        examples = ", ".join(v.id for v in voices[:3])
        raise EngineError(f"no system voice {wanted!r}; `voiceguide voices` lists them (for example {examples})")

    def speak(self, text: str, voice_id: str, rate_wpm: int) -> Audio:
        if self.broken:
            raise EngineError(self.broken)
        folder = Path(tempfile.mkdtemp(prefix="voiceguide-system-"))
        try:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                path = folder / (f"utterance-{attempt}" + (".aiff" if self.name == "nsss" else ".wav"))
                if self._attempt(text, voice_id, rate_wpm, path):
                    return read_audio_file(path)
            raise EngineError(f"the system voice cancelled {text!r} {MAX_ATTEMPTS} times in a row; try again")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _attempt(self, text: str, voice_id: str, rate_wpm: int, path: Path) -> bool:
        """Speak ``text`` into ``path``; False when pyttsx3 cancelled it on its own.

        pyttsx3 ends each run loop with a stop that cancels espeak if espeak looks busy, and espeak
        looks busy for a moment ~150 ms after going idle (its queue thread closing the stream): the
        utterance is then cancelled (measured: 1 in 60 under load), reported by a finished event with
        completed=False.  Such an utterance is simply spoken again.
        """
        self.finished.clear()
        self.errors.clear()
        self.cancelled = False
        self.tts.setProperty("voice", voice_id)
        self.tts.setProperty("rate", rate_wpm)
        self._settle()
        timeout_s = TIMEOUT_BASE_S + TIMEOUT_PER_CHAR_S * len(text)
        with _without_notice(f"Audio saved to {path}"):
            self.tts.save_to_file(text, str(path))
            self.tts.runAndWait()
            done = self.name in SYNCHRONOUS_DRIVERS or self.finished.wait(timeout_s)
            if done:
                self._settle()  # a cancelled utterance's own callback may still come, and print
        if not done:
            self.tts.stop()
            self.broken = (f"the system voice stopped answering (no result within {timeout_s:.0f} s); "
                           "restart voiceguide")
            raise EngineError(self.broken)
        if self.errors:
            raise EngineError(f"the system voice failed on {text!r}: {self.errors[0]}")
        return not self.cancelled

    def _on_finished(self, completed: bool = True, **_) -> None:
        self.cancelled |= not completed
        self.finished.set()


@contextlib.contextmanager
def _without_notice(notice: str):
    """Drop exactly ``notice`` (and its newline) from sys.stdout; everything else passes."""
    if sys.stdout is None:
        yield
        return
    with contextlib.redirect_stdout(_Without(sys.stdout, notice)):
        yield


class _Without:
    def __init__(self, stream, notice: str):
        self._stream = stream
        self._notice = notice
        self._drop_newline = False

    def write(self, text: str) -> int:
        if text == self._notice or (self._drop_newline and text == "\n"):
            self._drop_newline = text == self._notice
            return len(text)
        self._drop_newline = False
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def read_audio_file(path: Path) -> Audio:
    """A WAV or AIFF(-C) file of 16-bit PCM as mono ``Audio``; EngineError if missing or incomplete."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise EngineError(f"the system voice wrote no audio file ({str(path)!r} is missing)") from None
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        samples, channels, sample_rate = _read_wav(path)
    elif data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        samples, channels, sample_rate = _read_aiff(data)
    else:
        raise EngineError(f"the system voice wrote {str(path)!r} in a format voiceguide cannot read "
                          f"(header {data[:12]!r})")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return Audio(samples, sample_rate)


def _read_wav(path: Path) -> tuple[np.ndarray, int, int]:
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, sample_rate, n_frames, *_ = w.getparams()
            frames = w.readframes(n_frames)
    except (wave.Error, EOFError) as exc:
        raise EngineError(f"the system voice wrote a broken WAV file: {exc}") from exc
    _check_pcm(width * 8, len(frames), n_frames * width * channels)
    return np.frombuffer(frames, dtype="<i2").astype(np.int16), channels, sample_rate


def _read_aiff(data: bytes) -> tuple[np.ndarray, int, int]:
    """AIFF and AIFF-C ('NONE' big-endian or 'sowt' little-endian) by their chunks; Python 3.13 has no aifc."""
    chunks, pos = {}, 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "big")
        chunks[chunk_id] = data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    comm, ssnd = chunks.get(b"COMM"), chunks.get(b"SSND")
    if comm is None or ssnd is None or len(comm) < 18 or len(ssnd) < 8:
        raise EngineError("the system voice wrote an incomplete AIFF file (no COMM or SSND chunk)")
    channels, n_frames, bits, exponent, mantissa = struct.unpack(">hIhHQ", comm[:18])
    exponent &= 0x7FFF  # an 80-bit float: sign and exponent, then a 64-bit mantissa
    sample_rate = round(mantissa * 2.0 ** (exponent - 16383 - 63))
    compression = comm[18:22] if data[8:12] == b"AIFC" else b"NONE"
    if compression not in (b"NONE", b"sowt"):
        raise EngineError(f"the system voice wrote AIFF-C with {compression!r} compression; voiceguide reads only PCM")
    offset = int.from_bytes(ssnd[0:4], "big")
    frames = ssnd[8 + offset :]
    _check_pcm(bits, len(frames), n_frames * channels * 2)
    dtype = "<i2" if compression == b"sowt" else ">i2"
    return np.frombuffer(frames[: n_frames * channels * 2], dtype=dtype).astype(np.int16), channels, sample_rate


def _check_pcm(bits: int, have_bytes: int, need_bytes: int) -> None:
    if bits != 16:
        raise EngineError(f"the system voice wrote {bits}-bit audio; voiceguide reads 16-bit")
    if have_bytes < need_bytes:
        raise EngineError(f"the system voice wrote an incomplete file ({have_bytes} of {need_bytes} audio bytes)")
