"""Export benchmark (``make bench``): ratios measured in one run on this machine, not a test.

1. The built-in ``lower-back-and-hips`` session with the default voice, speech cache warm:
   export time against LAME alone encoding the same PCM at the same settings (target: at most
   1.3x), a cold export (empty speech cache) against the warm one (target: at most 2x), each the
   median of alternating pairs; against a straightforward pydub pipeline appending segments then
   exporting (target: at least 10x faster); and the file's loudness and true peak by ffmpeg.
2. A 60-minute against a 6-minute session, each exported in a fresh process: export time (target:
   under 11x) and peak memory, as the process's max RSS (target: under 1.3x) and as the Python
   heap's peak by tracemalloc.  These use the deterministic test voice: what is measured is the
   render, loudness and encode, which do not depend on the voice.  ``--long-pydub`` also times
   the pydub pipeline on the 60-minute session (several minutes: its appends are quadratic).
3. ``voiceguide --help`` (target: under 0.3 s) against Python starting alone, and how soon
   ``voiceguide serve`` gives its address with an empty cache and site (target: under 2 s).

The load average is printed at the start and the end: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
import wave
from pathlib import Path

import numpy as np

from voiceguide.script.settings import DEFAULT_BITRATE_KBPS

ROUTINE = "lower-back-and-hips"
BITRATE = DEFAULT_BITRATE_KBPS  # what export writes unless told otherwise


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()} ({platform.system()})"


REPEATS = 3
"""Timings are the best of this many runs: other work on a shared machine only ever adds time."""
PAIRS = 5
"""A ratio is the median of this many pairs, each measured one right after the other, so the load of
the moment weighs on both sides alike (other work on a shared machine comes and goes)."""


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def best_of(fn, *args, **kwargs):
    runs = [timed(fn, *args, **kwargs) for _ in range(REPEATS)]
    return min(t for t, _ in runs), runs[-1][1]


def peak_rss_kb() -> int:
    """This process's peak resident memory.  ``ru_maxrss`` would do, but Linux carries it over from
    the parent across exec, so read the kernel's own high-water mark where there is one."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --------------------------------------------------------------------------- 1. one real session


def export_once(name: str, overrides, target: Path, cache_dir: Path | None = None) -> Path:
    from dataclasses import replace

    from voiceguide.session import export_routines

    [path] = export_routines([name], replace(overrides, bitrate_kbps=BITRATE), cache_dir=cache_dir, output=target,
                             fmt=None, cue_sheet=False)
    return path


def lame_alone(pcm: np.ndarray, sample_rate: int) -> None:
    """The same PCM through the same encoder settings, in the same ten-second blocks."""
    import lameenc

    from voiceguide.export.writer import MP3_QUALITY

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BITRATE)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_out_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(MP3_QUALITY)
    step = 10 * sample_rate
    for i in range(0, len(pcm), step):
        encoder.encode(pcm[i : i + step].tobytes())
    encoder.flush()


def pydub_pipeline(session, target: Path) -> None:
    """What a first version would write: one AudioSegment per event, appended in time order
    (overlaid where events overlap), then exported through ffmpeg."""
    pydub_assemble(session).export(str(target), format="mp3", bitrate=f"{BITRATE}k")


def pydub_assemble(session):
    """The pydub pipeline's timeline: every event appended or overlaid, no encoding."""
    from pydub import AudioSegment

    plan, rate = session.plan, session.plan.sample_rate

    def segment(samples: np.ndarray) -> AudioSegment:
        pcm = np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2")
        return AudioSegment(pcm.tobytes(), sample_width=2, frame_rate=rate, channels=1)

    audio = AudioSegment.silent(duration=0, frame_rate=rate)
    for e in plan.events:
        piece = segment(session.speech.audio(e.text) if e.kind == "speech" else session.sounds.audio(e.sound))
        at_ms = e.start * 1000 / rate
        if at_ms >= len(audio):
            audio += AudioSegment.silent(duration=at_ms - len(audio), frame_rate=rate) + piece
        else:
            if at_ms + len(piece) > len(audio):
                audio += AudioSegment.silent(duration=at_ms + len(piece) - len(audio), frame_rate=rate)
            audio = audio.overlay(piece, position=at_ms)
    audio += AudioSegment.silent(duration=max(0.0, plan.duration_s * 1000 - len(audio)), frame_rate=rate)
    return audio


def our_assemble(session) -> None:
    """voiceguide's timeline for the same session: measured, mastered and mixed to int16, no encoding."""
    from voiceguide.export import writer as export

    for _ in export.pcm_blocks(session):
        pass


def pairs(first, second, count: int = PAIRS) -> tuple[list[float], list[float]]:
    """``count`` alternating timings of two callables (each called with the pair's index)."""
    a, b = [], []
    for k in range(count):
        a.append(timed(first, k)[0])
        b.append(timed(second, k)[0])
    return a, b


def median_ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b))


def loudness_of(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) as ffmpeg's ebur128 filter measures the file."""
    import re

    out = subprocess.run(["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    summary = out[out.rindex("Summary:"):]
    found = re.search(r"I:\s+(-?[\d.]+) LUFS", summary), re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary)
    return float(found[0].group(1)), float(found[1].group(1))  # type: ignore[union-attr]


def real_session(workdir: Path) -> None:
    from voiceguide.export import writer as export
    from voiceguide.script.settings import Overrides
    from voiceguide.session import prepare

    options = Overrides()
    first, _ = timed(export_once, ROUTINE, options, workdir / "cold.mp3", workdir / "cache")  # fills the cache
    session = prepare(ROUTINE, options, cache_dir=workdir / "cache")
    wav = export.write_wav(session, workdir / "same.wav")
    with wave.open(str(wav)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    exports, lames = pairs(lambda k: export_once(ROUTINE, options, workdir / "warm.mp3", workdir / "cache"),
                           lambda k: lame_alone(pcm, session.plan.sample_rate))
    colds, warms = pairs(lambda k: export_once(ROUTINE, options, workdir / "cold.mp3", workdir / f"cold-{k}"),
                         lambda k: export_once(ROUTINE, options, workdir / "warm.mp3", workdir / "cache"), 3)
    warm, lame, cold = statistics.median(exports), statistics.median(lames), statistics.median(colds)
    pydub, _ = best_of(pydub_pipeline, session, workdir / "pydub.mp3")
    pydub_mix, _ = best_of(pydub_assemble, session)
    our_mix, _ = best_of(our_assemble, session)
    lufs, dbtp = loudness_of(workdir / "warm.mp3")
    minutes = session.plan.duration_s / 60
    print(f"session: {ROUTINE} ({minutes:.1f} min, {len(session.plan.events)} events, voice {session.speech.label})")
    print(f"  first export (speech synthesised as needed, imports included): {first:6.2f} s")
    print(f"  medians of alternating pairs ({PAIRS} export/LAME, 3 cold/warm):")
    print(f"  warm-cache export:                   {warm:6.2f} s   (runs {', '.join(f'{t:.2f}' for t in exports)})")
    print(f"  LAME alone, same PCM, quality {export.MP3_QUALITY}:   {lame:6.2f} s   "
          f"(runs {', '.join(f'{t:.2f}' for t in lames)})")
    print(f"  cold export (empty speech cache):    {cold:6.2f} s   (runs {', '.join(f'{t:.2f}' for t in colds)})")
    print(f"  pydub appending segments + export:   {pydub:6.2f} s   (best of {REPEATS})")
    ratio, cold_ratio = median_ratio(exports, lames), median_ratio(colds, warms)
    print(f"  export / LAME alone   = {ratio:5.2f}x   (target at most 1.3x)  {verdict(ratio <= 1.3)}")
    print(f"  cold / warm export    = {cold_ratio:5.2f}x   (target at most 2x)    {verdict(cold_ratio <= 2)}")
    print(f"  pydub / export        = {pydub / warm:5.2f}x   (target 10x or more) {verdict(pydub / warm >= 10)}")
    print(f"  the export as ffmpeg's ebur128 measures it: {lufs:.1f} LUFS, true peak {dbtp:.1f} dBTP "
          f"(target -16, under -1) {verdict(abs(lufs + 16) <= 0.5 and dbtp < -1)}")
    print("    (at this length pydub's time is mostly ffmpeg's own MP3 encoder in a second process; its")
    print("     appends copy the whole session each time, which tells on long sessions: --long-pydub)")
    print(f"  the timeline alone, no encoding: pydub {pydub_mix:6.2f} s, voiceguide {our_mix:6.2f} s "
          f"(with loudness and limiting) = {pydub_mix / our_mix:5.2f}x")


# --------------------------------------------------------------------------- 2. 6 against 60 minutes


def long_script(minutes: float, folder: Path) -> Path:
    """About ``minutes`` of tilts, in steps of at most 50 reps (a script allows 200 a step)."""
    reps_left, steps = int(minutes * 60 / 8), []
    while reps_left > 0:
        reps = min(50, reps_left)
        reps_left -= reps
        steps.append(textwrap.indent(textwrap.dedent(f"""\
            - name: Pelvic tilts, set {len(steps) + 1}
              setup: Lie on your back with your knees bent.
              reps: {reps}
              cycle:
                - say: Exhale, and gently flatten your low back into the floor.
                  short: Exhale.
                  seconds: 4
                  sound: exhale
                - say: Inhale, and let the pelvis tip slightly forward.
                  short: Inhale.
                  seconds: 4
                  sound: inhale
            """), "  "))
    path = folder / f"session-{minutes:g}min.yaml"
    path.write_text(f"title: {minutes:g} minutes of tilts\ncaution: false\nsteps:\n{''.join(steps)}outro: Well done.\n")
    return path


def child(script: str, target: str, cache: str) -> None:
    """In a fresh process: one warm-up export, then the measured one; prints JSON."""
    from voiceguide.script.settings import Overrides

    options = Overrides(voice="test")
    export_once(script, options, Path(target), Path(cache))  # warms the cache and the imports
    tracemalloc.start()
    seconds, path = best_of(export_once, script, options, Path(target), Path(cache))
    heap_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    from mutagen.mp3 import MP3

    print(json.dumps({"seconds": seconds, "heap_peak": heap_peak, "duration_s": MP3(path).info.length,
                      "max_rss_kb": peak_rss_kb()}))


def long_sessions(workdir: Path, with_pydub: bool) -> None:
    results = {}
    for minutes in (6, 60):
        script = long_script(minutes, workdir)
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(script), str(workdir / f"{minutes}.mp3"), str(workdir / "cache")],
            capture_output=True, text=True, check=True).stdout
        results[minutes] = json.loads(out.splitlines()[-1])
    short, long = results[6], results[60]
    print(f"6 against 60 minutes (test voice, each in a fresh process after one warm-up export, best of {REPEATS}):")
    for minutes, r in results.items():
        print(f"  {minutes:2d} min ({r['duration_s'] / 60:5.1f} min exported): {r['seconds']:6.2f} s, "
              f"max RSS {r['max_rss_kb'] / 1024:6.1f} MB, Python heap peak {r['heap_peak'] / 2**20:6.1f} MB")
    time_ratio = long["seconds"] / short["seconds"]
    rss_ratio = long["max_rss_kb"] / short["max_rss_kb"]
    heap_ratio = long["heap_peak"] / short["heap_peak"]
    print(f"  time   60/6 = {time_ratio:5.2f}x   (target under 11x)  {verdict(time_ratio < 11)}")
    print(f"  memory 60/6 = {rss_ratio:5.2f}x max RSS (target under 1.3x) {verdict(rss_ratio < 1.3)}; "
          f"Python heap {heap_ratio:.2f}x")
    if with_pydub:
        from voiceguide.script.settings import Overrides
        from voiceguide.session import prepare

        session = prepare(str(long_script(60, workdir)), Overrides(voice="test"), cache_dir=workdir / "cache")
        pydub, _ = timed(pydub_pipeline, session, workdir / "pydub-60.mp3")
        print(f"  pydub appending segments, 60 min: {pydub:6.1f} s, {pydub / long['seconds']:5.1f}x the export")


# --------------------------------------------------------------------------- 3. start-up and serve


def command_s(*args: str, env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "voiceguide", *args], check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def python_s(_: int = 0) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def serve_address_s(workdir: Path, k: int) -> float:
    """Seconds from starting ``voiceguide serve`` (the six built-ins, an empty cache and site) to its address."""
    import signal

    env = {**os.environ, "VOICEGUIDE_CACHE": str(workdir / f"serve-cache-{k}")}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "voiceguide", "serve", "--host", "127.0.0.1", "--port", "0",
                                "--site", str(workdir / f"site-{k}")], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        for line in process.stdout:  # type: ignore[union-attr]
            if line.strip().startswith("http://"):
                return time.perf_counter() - started
        raise SystemExit("voiceguide serve gave no address")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)


def start_up(workdir: Path) -> None:
    helps, pythons = pairs(lambda k: command_s("--help"), python_s)
    help_s = statistics.median(helps)
    print(f"voiceguide --help: {help_s:.2f} s (median of {PAIRS}; Python starting alone "
          f"{statistics.median(pythons):.2f} s, ratio {median_ratio(helps, pythons):.1f}x)   "
          f"(target under 0.3 s) {verdict(help_s < 0.3)}")
    serves = [serve_address_s(workdir, k) for k in range(3)]
    serve_s = statistics.median(serves)
    print(f"voiceguide serve, empty cache and site, six sessions: address after {serve_s:.2f} s "
          f"(median of 3: {', '.join(f'{t:.2f}' for t in serves)})   (target under 2 s) {verdict(serve_s < 2)}")


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1, 5, 15 min)"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("SCRIPT", "TARGET", "CACHE"), help=argparse.SUPPRESS)
    parser.add_argument("--skip-real", action="store_true", help="only the 6/60-minute comparison")
    parser.add_argument("--long-pydub", action="store_true",
                        help="also time the pydub pipeline on the 60-minute session (minutes)")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"machine: {machine()}; {load()}")
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_real:
            real_session(workdir)
        long_sessions(workdir, args.long_pydub)
        start_up(workdir)
    print(f"at the end: {load()}")


if __name__ == "__main__":
    main()
