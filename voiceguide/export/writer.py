"""Plans -> files: MP3 with ID3 chapters for phones and podcast apps, WAV, playlists, cue sheets.

Every file is streamed: the mixer renders ten seconds at a time, the loudness gain and limiter
apply to that block, and the block is encoded and written before the next is made.  Two passes
(``mix.measure``, then the encode) keep memory flat however long the session is.

MP3 timing.  lameenc writes no Xing/LAME header, so every decoder keeps the encoder's delay:
576 samples of LAME's own plus the 529 of the MP3 synthesis filter, 1105 samples (50 ms at
22050 Hz), measured with ffmpeg.  We do not write a LAME header (decoders that ignore it, and
frames it adds, would then be off by 76 ms); instead the first 1105 samples of the render, which
are the quiet lead-in, are not given to the encoder.  The delay then puts every sound back exactly
where the plan has it, in any decoder.  With a lead-in shorter than the delay, only the quiet that
is there is dropped and the chapters are shifted by the rest, so they still match the sound.  The
decoded file ends up to one MP3 frame (576 samples, 26 ms) after the plan: quiet.

Files appear whole or not at all: each is written to a hidden temporary file beside its target
(``.voiceguide-PID-RANDOM.part``: short whatever the target's name), synced, and renamed over it
at the end; an interrupt or an error removes the temporary file.  What no program can clean up
after (SIGKILL, a power cut, the OOM killer) the next export into the folder does: part files of
this naming whose process is gone are removed, once, with a line on stderr (``stale.py``).
"""

from __future__ import annotations

import io
import os
import sys
import wave
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Protocol

import numpy as np

from ..audio import loudness, mix
from ..audio.dsp import to_pcm16
from ..errors import ExportError, VoiceguideError
from ..files import NotARegularFileError, atomic_file, check_replaceable, what_is
from ..progress import Progress
from ..script.routine import Routine
from ..timeline.plan import Plan
from ..timeline.report import cue_sheet_text, sound_line
from .behind import encode_behind

FORMATS: Final = ("mp3", "wav")
MP3_DELAY_SAMPLES: Final = 576 + 529
"""LAME's encoder delay plus the decoder's filter delay: where a decoder puts sample 0."""
MP3_QUALITY: Final = 7
"""LAME's speed/quality trade-off (0 best, 9 fastest).  Measured 2026-11-28 on the 11.6-minute
``lower-back-and-hips`` session (hibari and Piper, 32/64/128 kbps, with and without the brown bed)
against quality 2: LAME 3-5x faster on a bed (every frame has sound in it), 2.5-3.3x without; at 64
kbps the decoded speech is closer to the WAV (speech-band SNR 32-34 dB against 24-25, log-spectral
distance 2.5-3.9 dB against 3.5-4.5) with quieter gaps; pocketsphinx hears the same words within a
few in 900; loudness, true peak and the encoder delay unchanged.  At 32 kbps quality 7 leaves more
spectral holes (see the README's Benchmarks)."""
MP3_DECODED_GAIN: Final = 0.95
"""LAME (as lameenc drives it) scales its input by 0.95: measured with ffmpeg at every bit rate and
quality, a steady -0.45 dB.  The encoder is given the samples divided by this, so the decoded MP3
has the WAV's loudness and peaks."""
MP3_BITRATES_KBPS: Final = {  # what MPEG audio allows at each sample rate (LAME silently picks the nearest)
    "mpeg1": (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    "mpeg2": (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
MP3_PEAK_MARGIN_DB: Final = ((48, 4.0), (96, 1.5), (10_000, 0.5))
"""Extra room under the ceiling for the encoder's own peaks: (below this many kbps, dB)."""
ALBUM: Final = "voiceguide"


@dataclass(frozen=True)
class Tags:
    """What a player shows for one exported file."""

    title: str
    comment: str | None = None
    track: int = 1
    total: int = 1
    picture: bytes | None = None
    """A JPEG for the ID3 ``APIC`` frame (front cover), or none."""


class Playable(mix.Rendition, Protocol):
    """A plan with its sound (``session.Session``, a voice sample's ``mix.Mix``): what a file needs."""

    @property
    def plan(self) -> Plan: ...


# --------------------------------------------------------------------------- PCM


def pcm_blocks(rendition: mix.Rendition, *, progress: Progress | None = None, scale: float = 1.0,
               ceiling_dbtp: float = loudness.CEILING_DBTP) -> Iterator[np.ndarray]:
    """The session as int16 blocks at export loudness: measured in a first pass, then rendered again.

    ``scale`` multiplies the finished (limited) samples, for an encoder that changes the level;
    ``ceiling_dbtp`` is where the limiter holds the true peak.
    """
    mixed = mix.Mix.of(rendition)  # each utterance profiled and limited once over both passes
    levels = mix.measure(mixed, on_block=progress.advance_to if progress else None, ceiling_dbtp=ceiling_dbtp)
    done = mixed.plan.length
    for block in mix.mastered_blocks(mixed, levels):
        done += len(block)
        if progress:
            progress.advance_to(done)
        yield to_pcm16(block * np.float32(scale) if scale != 1.0 else block)


# --------------------------------------------------------------------------- writing whole-or-nothing


@contextmanager
def export_file(target: Path, progress: Progress | None = None, mode: int = 0o666) -> Iterator[BinaryIO]:
    """``files.atomic_file`` for an export: a failure to write is one ExportError naming the file,
    and an interrupt or error says on stderr that the file was not written."""
    try:
        with atomic_file(target, progress, mode=mode) as f:
            yield f
    except BaseException as exc:
        if isinstance(exc, NotARegularFileError):
            raise ExportError(f"cannot write {str(target)!r}: {exc.strerror}") from None
        if isinstance(exc, OSError) and not isinstance(exc, VoiceguideError):  # one message says it all
            raise ExportError(f"cannot write {str(target)!r}: {exc.strerror or exc}; nothing was written there "
                              "(check the folder exists, is writable and has space)") from None
        why = "interrupted" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "failed"
        print(f"voiceguide: export {why}: {target} was not written", file=sys.stderr)
        raise


# --------------------------------------------------------------------------- MP3


def check_bitrate(bitrate: int, sample_rate: int) -> None:
    allowed = MP3_BITRATES_KBPS["mpeg1" if sample_rate >= 32000 else "mpeg2"]
    if bitrate not in allowed:
        raise ExportError(f"bit rate {bitrate!r} kbps is not an MP3 bit rate at {sample_rate} Hz; "
                          f"use one of {', '.join(map(str, allowed))}")


def mp3_ceiling_dbtp(bitrate: int) -> float:
    """The limiter ceiling before the encoder: MP3 adds peaks of its own, more at low bit rates.

    Measured with ffmpeg on whole sessions (Piper and espeak-ng), limited at -1.5 dBTP before
    encoding: decoded peaks up to -0.3 dBTP at 64 kbps and -1.4 at 128; limited at -3 dBTP, up to
    +0.1 at 32 kbps and 0.0 at 16.  Each bit rate gets the margin that keeps the decoded file under -1.
    """
    margin = next(db for below_kbps, db in MP3_PEAK_MARGIN_DB if bitrate < below_kbps)
    return loudness.CEILING_DBTP - margin


def mp3_offset(plan: Plan) -> tuple[int, int]:
    """(samples dropped before the encoder, samples the decoded sound still lags the plan)."""
    first_sound = plan.events[0].start if plan.events else plan.length
    dropped = min(MP3_DELAY_SAMPLES, first_sound)
    return dropped, MP3_DELAY_SAMPLES - dropped


def mp3_chapters_ms(plan: Plan, lag: int = 0) -> list[tuple[str, int, int]]:
    """(title, start ms, end ms) of each chapter in time order, where the decoded MP3 has it.

    The one source of the ID3 chapters and of the site's chapters JSON, so the two always agree.
    """
    def ms(samples: int) -> int:
        return int(round((samples + lag) * 1000 / plan.sample_rate))

    return [(c.title, 0 if c.start == 0 else ms(c.start), ms(c.end))  # the Introduction starts at 0:00 whatever the lag
            for c in sorted(plan.chapters, key=lambda c: c.start)]


def id3_tag(plan: Plan, tags: Tags, lag: int = 0) -> bytes:
    """ID3v2.3 tag bytes: title, album, artist, track n/N, comment and a chapter per plan chapter.

    Chapters are written in time order under one ordered top-level table of contents (some podcast
    apps stop at the first chapter out of order).  ``lag`` shifts chapter times to the decoded sound.
    """
    from mutagen.id3 import (
        APIC,
        CHAP,
        COMM,
        CTOC,
        ID3,
        TALB,
        TIT2,
        TLEN,
        TPE1,
        TRCK,
        CTOCFlags,
    )

    def ms(samples: int) -> int:
        return int(round((samples + lag) * 1000 / plan.sample_rate))

    utf16 = 1  # ID3v2.3 has no UTF-8
    tag = ID3()
    tag.add(TIT2(encoding=utf16, text=[tags.title]))
    tag.add(TALB(encoding=utf16, text=[ALBUM]))
    tag.add(TPE1(encoding=utf16, text=[ALBUM]))
    tag.add(TRCK(encoding=utf16, text=[f"{tags.track}/{tags.total}"]))
    tag.add(TLEN(encoding=utf16, text=[str(ms(plan.length - lag))]))
    if tags.comment:
        tag.add(COMM(encoding=utf16, lang="eng", desc="", text=[tags.comment]))
    if tags.picture:
        tag.add(APIC(encoding=0, mime="image/jpeg", type=3, desc="", data=tags.picture))  # 3: front cover
    chapters = mp3_chapters_ms(plan, lag)
    ids = [f"chp{i}" for i in range(len(chapters))]
    for element_id, (title, start_ms, end_ms) in zip(ids, chapters):
        tag.add(CHAP(element_id=element_id, start_time=start_ms, end_time=end_ms,
                     sub_frames=[TIT2(encoding=utf16, text=[title])]))
    if chapters:
        tag.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                     sub_frames=[TIT2(encoding=utf16, text=[tags.title])]))
    out = io.BytesIO()
    tag.save(out, v2_version=3, padding=lambda info: 0)
    return _chapters_in_time_order(out.getvalue())


def _chapters_in_time_order(tag: bytes) -> bytes:
    """Reorder the frames of an ID3v2.3 tag so the CHAP frames come in time order.

    mutagen sorts frames by size when it saves, so chapters with shorter titles would come first.
    In v2.3 (no unsynchronisation, no extended header, as mutagen writes it) a frame is a 10-byte
    header with a big-endian size, then its data; a CHAP frame's data is its element id, a zero
    byte, then the start time in ms.  Moving whole frames keeps the tag valid byte for byte.
    """
    header, body, pos = tag[:10], tag[10:], 0
    frames: list[bytes] = []
    while pos + 10 <= len(body) and body[pos : pos + 4] != b"\0\0\0\0":
        end = pos + 10 + int.from_bytes(body[pos + 4 : pos + 8], "big")
        frames.append(body[pos:end])
        pos = end

    def start_ms(frame: bytes) -> int:
        if frame[:4] != b"CHAP":
            return -1  # everything else first, in mutagen's order (the sort is stable)
        data = frame[10:]
        at = data.index(b"\0") + 1
        return int.from_bytes(data[at : at + 4], "big")

    ordered: list[bytes] = sorted(frames, key=start_ms)
    return header + b"".join(ordered) + body[pos:]


def write_mp3(rendition: Playable, target: Path, *, tags: Tags, progress: Progress | None = None) -> Path:
    """Mono CBR MP3 at the settings' bit rate, encoded block by block, with the ID3 tag written first
    (no rewrite at the end)."""
    import lameenc

    plan, bitrate = rendition.plan, rendition.settings.bitrate_kbps
    check_bitrate(bitrate, plan.sample_rate)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(plan.sample_rate)
    encoder.set_out_sample_rate(plan.sample_rate)  # else LAME may resample at low bit rates
    encoder.set_channels(1)
    encoder.set_quality(MP3_QUALITY)
    to_drop, lag = mp3_offset(plan)

    def pcm() -> Iterator[bytes]:
        nonlocal to_drop
        for block in pcm_blocks(rendition, progress=progress, scale=1 / MP3_DECODED_GAIN,
                                ceiling_dbtp=mp3_ceiling_dbtp(bitrate)):
            if to_drop:
                cut = min(to_drop, len(block))
                block, to_drop = block[cut:], to_drop - cut
            yield block.tobytes()

    with export_file(target, progress) as f:
        f.write(id3_tag(plan, tags, lag))
        encode_behind(pcm(), encoder.encode, f.write)  # LAME on one core while the next blocks are mixed
        f.write(encoder.flush())
    return target


# --------------------------------------------------------------------------- WAV


def write_wav(rendition: Playable, target: Path, *, progress: Progress | None = None) -> Path:
    """16-bit PCM mono, sample-exact to the render at export loudness."""
    plan = rendition.plan
    with export_file(target, progress) as f:
        with wave.open(f, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(plan.sample_rate)
            w.setnframes(plan.length)
            for block in pcm_blocks(rendition, progress=progress):
                w.writeframesraw(block.astype("<i2").tobytes())
    return target


# --------------------------------------------------------------------------- text beside the audio


def playlist_text(entries: list[tuple[Path, float, str]], folder: Path) -> str:
    """Extended M3U: real durations in whole seconds, titles, paths relative to the playlist."""
    lines = ["#EXTM3U"]
    for path, duration_s, title in entries:
        lines += [f"#EXTINF:{int(round(duration_s))},{title}", os.path.relpath(path, folder)]
    return "\n".join(lines) + "\n"


def write_text(target: Path, text: str, mode: int = 0o666) -> Path:
    """Write ``text`` (UTF-8) to ``target`` whole or not at all, as an export."""
    with export_file(target, mode=mode) as f:
        f.write(text.encode("utf-8"))
    return target


def audio_duration_s(path: Path, plan: Plan) -> float:
    """How long a written file plays: the MP3 as its frames say (mutagen), the WAV exactly."""
    if path.suffix.lower() == ".mp3":
        from mutagen.mp3 import MP3

        info = MP3(path).info
        if info is None:  # mutagen read no MPEG frame: the file is not what we wrote
            raise ExportError(f"{str(path)!r} holds no MP3 audio")
        return float(info.length)
    return plan.duration_s


# --------------------------------------------------------------------------- several files


class Rendition(Playable, Protocol):
    """A routine ready to be heard (``session.Session``): what the writers of whole sessions need of it."""

    @property
    def routine(self) -> Routine: ...


def output_format(output: Path | None, fmt: str | None, single: bool) -> str:
    """The file format from ``-o``'s extension and ``--format``, which must agree."""
    suffix = output.suffix.lower().lstrip(".") if output is not None and not output.is_dir() else ""
    if suffix and suffix not in FORMATS:
        raise ExportError(f"-o {str(output)!r}: voiceguide writes .mp3 or .wav files; end the name in one of those")
    if suffix and not single:
        raise ExportError(f"-o {str(output)!r} names a file, but several routines are exported: give a folder")
    if fmt and suffix and fmt != suffix:
        raise ExportError(f"-o {str(output)!r} ends in .{suffix} but --format is {fmt}; make them agree")
    if suffix and output is not None:
        try:  # before any work: a device or a FIFO there is never replaced
            check_replaceable(output)
        except NotARegularFileError as exc:
            raise ExportError(f"cannot write {str(output)!r}: {exc.strerror}") from None
    elif output is not None:  # a folder: one that a file (or a device) is in the way of is refused now
        check_folder(output)
    return fmt or suffix or "mp3"


def write_session(rendition: Rendition, target: Path, fmt: str = "mp3", *, number: int = 1, total: int = 1,
                  numbered: bool = False, picture: bytes | None = None,
                  on_fraction: Callable[[float], None] | None = None) -> Path:
    """One session's file, with a progress line (``[n/N] title`` when ``numbered``) and its tags;
    ``on_fraction`` hears how far it is (``Progress``)."""
    plan, routine = rendition.plan, rendition.routine
    progress = Progress(2 * plan.length, f"[{number}/{total}] {routine.title}" if numbered else routine.title,
                        on_fraction=on_fraction)
    try:
        if fmt == "mp3":
            write_mp3(rendition, target, tags=Tags(routine.title, routine.summary, number, total, picture),
                      progress=progress)
        else:
            write_wav(rendition, target, progress=progress)
    finally:
        progress.close()
    return target


def write_all(sessions: Sequence[Rendition], names: list[str], folders: list[Path], output: Path | None, fmt: str,
              cue_sheet: bool, on_written: Callable[[Path], None]) -> list[Path]:
    """Write each prepared session to its file (and cue sheet), then the playlist for several.

    One session goes to ``output`` (a file, or a folder to put it in), else to the current folder;
    several, or a folder, go one file each into ``output`` (default: the current folder) with an
    extended M3U playlist.  ``on_written`` hears of each file as it is finished.
    """
    single = len(sessions) == 1 and not folders
    if single and output is not None and output.suffix and not output.is_dir():
        targets, folder = [Path(output)], Path(output).parent
    else:
        folder = Path(output) if output is not None else Path.cwd()
        targets = [folder / f"{Path(s.routine.path).stem}.{fmt}" for s in sessions]
    make_folder(folder)
    clashes = sorted({t.name for t in targets if targets.count(t) > 1})
    if clashes:
        raise ExportError(f"several routines would be written to {', '.join(map(repr, clashes))}; "
                          "export them in separate commands or rename one of the scripts")

    written, entries = [], []

    def finished(path: Path) -> None:
        written.append(path)
        on_written(path)

    for n, (session, target) in enumerate(zip(sessions, targets), start=1):
        plan = session.plan
        write_session(session, target, fmt, number=n, total=len(sessions), numbered=not single)
        finished(target)
        entries.append((target, audio_duration_s(target, plan), session.routine.title))
        if cue_sheet:
            sheet = cue_sheet_text(plan, sound_line(session.bed, session.settings.cue_level_lu))
            finished(write_text(target.with_suffix(".txt"), sheet))
    if not single:
        playlist_name = f"{folders[0].resolve().name}.m3u" if len(names) == 1 and folders else "voiceguide.m3u"
        finished(write_text(folder / playlist_name, playlist_text(entries, folder)))
    return written


def check_folder(folder: Path) -> None:
    """Refuse, before any work, an output folder that cannot be made because a file is in the way."""
    blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise ExportError(f"cannot make the folder {str(folder)!r}: {str(blocking)!r} is {what_is(blocking)}, "
                          "not a folder; nothing was written (give -o a folder that exists or can be made)")


def make_folder(folder: Path, mode: int = 0o777, option: str = "-o") -> None:
    """The output folder, with any folders above it; a clear error when one of them cannot be.

    ``mode``: the permissions of the folder itself when it is made (less the umask).  ``option``:
    the command-line option that named it, for the advice."""
    try:
        folder.mkdir(mode=mode, parents=True, exist_ok=True)
    except OSError as exc:
        blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        why = f"{str(blocking)!r} is {what_is(blocking)}, not a folder" if blocking else (exc.strerror or str(exc))
        raise ExportError(f"cannot make the folder {str(folder)!r}: {why}; nothing was written "
                          f"(give {option} a folder that exists or can be made)") from None
