"""Bed benchmark (``make bench``): what a bed costs an export, as ratios measured in one run.

1. The built-in ``lower-back-and-hips`` session with the default voice, speech cache warm: export
   with each bed against the same export without one (target for the default bed: at most 1.25x),
   and where the time goes: the mix alone (measure and master, no encoding) and LAME alone on the
   finished PCM, with and without the bed.
2. A 60-minute against a 6-minute session with the default bed, each exported in a fresh process:
   peak memory (max RSS, target at most 1.3x) and time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import tracemalloc
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BITRATE, REPEATS, ROUTINE, best_of, export_once, lame_alone, long_script, machine, peak_rss_kb, verdict  # noqa: E402

from voiceguide.script.routine import BED_NAMES
from voiceguide.script.settings import DEFAULT_BED  # noqa: E402


def mix_alone(session) -> None:
    from voiceguide.export import writer as export

    for _ in export.pcm_blocks(session):
        pass


def pcm_of(session, target: Path) -> np.ndarray:
    from voiceguide.export import writer as export

    export.write_wav(session, target)
    with wave.open(str(target)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def real_session(workdir: Path) -> None:
    from voiceguide.script.settings import Overrides
    from voiceguide.session import prepare

    export_once(ROUTINE, Overrides(), workdir / "cold.mp3")  # fills the speech cache
    rows = {}
    for bed in (None, *BED_NAMES):
        options = Overrides(bed=bed)
        seconds, _ = best_of(export_once, ROUTINE, options, workdir / f"{bed}.mp3")
        session = prepare(ROUTINE, options)
        mixing, _ = best_of(mix_alone, session)
        lame, _ = best_of(lame_alone, pcm_of(session, workdir / f"{bed}.wav"), session.plan.sample_rate)
        rows[bed] = (seconds, mixing, lame)
    minutes = session.plan.duration_s / 60
    print(f"session: {ROUTINE} ({minutes:.1f} min, voice {session.speech.label}, {BITRATE} kbps), best of {REPEATS}:")
    print(f"  {'bed':<8} {'export':>8} {'ratio':>7}   {'mix alone':>9} {'LAME alone':>10}")
    base = rows[None][0]
    for bed, (seconds, mixing, lame) in rows.items():
        print(f"  {bed or 'none':<8} {seconds:7.2f}s {seconds / base:6.2f}x   {mixing:8.2f}s {lame:9.2f}s")
    ratio = rows[DEFAULT_BED][0] / base
    print(f"  export with the default bed / without = {ratio:5.2f}x (target at most 1.25x) {verdict(ratio <= 1.25)}")
    print("    (the export encodes in a thread beside the mix, so it takes about the longer of the two; LAME at")
    print("     quality 2 spent several times longer on frames that are never silent, which a bed makes every frame;")
    print("     at export.MP3_QUALITY = 7 most of what is left is the bed in the mix)")


def child(script: str, target: str, cache: str, bed: str) -> None:
    """In a fresh process: one warm-up export, then the measured one; prints JSON."""
    from voiceguide.script.settings import Overrides

    options = Overrides(voice="test", bed=bed or None)
    export_once(script, options, Path(target), Path(cache))
    tracemalloc.start()
    seconds, path = best_of(export_once, script, options, Path(target), Path(cache))
    heap_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"seconds": seconds, "heap_peak": heap_peak, "max_rss_kb": peak_rss_kb()}))


def long_sessions(workdir: Path) -> None:
    results = {}
    for minutes in (6, 60):
        script = long_script(minutes, workdir)
        for bed in ("", DEFAULT_BED):
            out = subprocess.run([sys.executable, __file__, "--child", str(script), str(workdir / f"{minutes}.mp3"),
                                  str(workdir / "cache"), bed], capture_output=True, text=True, check=True).stdout
            results[minutes, bed] = json.loads(out.splitlines()[-1])
    print(f"6 against 60 minutes (test voice, a fresh process each, after one warm-up export, best of {REPEATS}):")
    for (minutes, bed), r in results.items():
        print(f"  {minutes:2d} min, bed {bed or 'none':<6}: {r['seconds']:6.2f} s, "
              f"max RSS {r['max_rss_kb'] / 1024:6.1f} MB, "
              f"Python heap peak {r['heap_peak'] / 2**20:6.1f} MB")
    short, long = results[6, DEFAULT_BED], results[60, DEFAULT_BED]
    rss = long["max_rss_kb"] / short["max_rss_kb"]
    print(f"  memory with a bed, 60/6 = {rss:5.2f}x max RSS (target at most 1.3x) {verdict(rss <= 1.3)}; "
          f"Python heap {long['heap_peak'] / short['heap_peak']:.2f}x")
    for minutes in (6, 60):
        ratio = results[minutes, DEFAULT_BED]["seconds"] / results[minutes, ""]["seconds"]
        print(f"  {minutes:2d} min: export with the bed / without = {ratio:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=4, metavar=("SCRIPT", "TARGET", "CACHE", "BED"), help=argparse.SUPPRESS)
    parser.add_argument("--skip-real", action="store_true", help="only the 6/60-minute comparison")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-bed-") as tmp:
        workdir = Path(tmp)
        if not args.skip_real:
            real_session(workdir)
        long_sessions(workdir)


if __name__ == "__main__":
    main()
