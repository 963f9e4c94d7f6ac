"""Audio files a script names (a bed, replacement cue sounds), read with ffmpeg, their length first.

A file is never decoded whole before its limit is checked: ``ffprobe`` says how long it is (a
fraction of a second even for hours of MP3), and one over the limit is refused at once; then
``ffmpeg`` decodes at most the limit plus ``MARGIN_S`` (``-t``), so a file whose length the probe
cannot tell, or tells wrong, still costs at most that much time and memory (a 10-minute bed at
24 kHz: 30 MB of 16-bit samples).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Final

import numpy as np

from ..errors import AudioError, excerpt

MARGIN_S: Final = 30.0
"""Decoded beyond a limit: quiet ends, which are trimmed before the limit applies, may take this much."""
PROBE_TIMEOUT_S: Final = 30.0
DECODE_TIMEOUT_S: Final = 120.0


def _tool(name: str, what: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise AudioError(f"{name} is needed to read the {what} and is not installed; install ffmpeg "
                         "(Debian: apt-get install ffmpeg)")
    return found


def probe_s(path: str | Path, what: str = "sound file") -> float | None:
    """How long the file lasts by ffprobe, in seconds; None when it cannot tell (decoding will)."""
    try:
        done = subprocess.run([_tool("ffprobe", what), "-v", "error", "-show_entries", "format=duration",
                               "-of", "csv=p=0", "--", str(path)], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        return float(done.stdout.strip().splitlines()[0])
    except (ValueError, IndexError):
        return None


def lasts(seconds: float) -> str:
    """A length for a message: "45 s", "12.5 minutes", "2.0 hours"."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}".removesuffix(".0") + " minutes"
    return f"{seconds / 3600:.1f} hours"


def decode_file(path: str | Path, sample_rate: int, key: str = "sounds", *, max_s: float | None = None,
                too_long: str = "") -> np.ndarray:
    """Any file ffmpeg can read, as mono float64 at ``sample_rate``; AudioError saying what to do if not.

    ``key`` is the script's key that named the file, for the message.  ``max_s``: a file longer than
    this plus ``MARGIN_S`` is refused before it is decoded (``too_long`` says what to do), and no
    more than that is ever decoded; the caller checks ``max_s`` itself after trimming quiet ends.
    """
    what = "sound file" if key == "sounds" else f"{key} file"
    shown = repr(str(path))
    if not Path(path).exists():
        raise AudioError(f"{what} {shown} does not exist; fix the path under '{key}:'")
    cap_s = None if max_s is None else max_s + MARGIN_S
    if cap_s is not None:
        known_s = probe_s(path, what)
        if known_s is not None and known_s > cap_s:
            raise AudioError(f"{what} {shown} lasts {lasts(known_s)}; {too_long}")
    command = [_tool("ffmpeg", what), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-vn",
               *(["-t", f"{cap_s:g}"] if cap_s is not None else []),
               "-ac", "1", "-ar", str(sample_rate), "-f", "s16le", "-acodec", "pcm_s16le", "-"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=DECODE_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AudioError(f"{what} {shown} took over {DECODE_TIMEOUT_S:g} s to decode; use a WAV, FLAC, OGG or "
                         f"MP3 file, or remove it from '{key}:'") from None
    except OSError as exc:
        raise AudioError(f"cannot run ffmpeg to read {what} {shown} ({exc.strerror or exc})") from None
    if done.returncode != 0 or not done.stdout:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = excerpt(said[-1]) if said else "no audio in it"
        raise AudioError(f"cannot decode {what} {shown} ({reason}); use a WAV, FLAC, OGG or MP3 file that "
                         f"ffmpeg can play, or remove it from '{key}:'")
    samples = np.frombuffer(done.stdout[: len(done.stdout) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0
    if cap_s is not None and max_s is not None and len(samples) > (cap_s - 1) * sample_rate:
        # decoding stopped at the cap (within a decoder's frame or two): the probe could not tell, decoding did
        raise AudioError(f"{what} {shown} lasts more than {lasts(max_s)}; {too_long}")
    return samples
