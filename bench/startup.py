"""Start-up benchmark (``make bench``): how soon ``voiceguide play`` is heard, not a test.

The real command plays into the real ALSA client, whose default device is a file sink (the set-up
of the player tests, tests/alsa_sink.py).  The sink, a shell command that starts in a few
milliseconds, notes the wall-clock time its first samples arrive; the first word is heard that long
after the command started plus where the first sound sits in the samples (the plan's lead-in).
A sound card adds its own output latency, typically a few hundredths of a second.  Each figure is the best of
``REPEATS`` runs (other work on a shared machine only ever adds time) and is printed against a
baseline measured in the same run: starting Python and importing numpy, the floor of any Python
tool that mixes audio.

- warm: every utterance of the routine already in the speech cache (target: first word within 1 s);
- cold: an empty speech cache, the default voice (hibari) making the speech as it plays (target:
  within 2 s); and the same with Piper (``--voice piper``, the default until 2026-11-28) beside it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from voiceguide.script.settings import SAMPLE_RATE  # the samples the sink receives

ROUTINES = ("standing-reset", "lower-back-and-hips")
OTHER_VOICE = "piper"
REPEATS = 3
HEARD = 10 ** (-40 / 20)  # a sample this loud (dBFS) is sound, not quiet
TIMEOUT_S = 60.0


def first_word_s(routine: str, cache: Path, workdir: Path, *voice: str) -> float:
    """Seconds from the command to the first sound heard, in one run of ``voiceguide play``."""
    import numpy as np

    run = len(list(workdir.glob("run-*")))
    workdir = workdir / f"run-{run}"  # files of their own: an earlier run's sink may still be writing
    workdir.mkdir()
    capture = workdir / "cap.raw"
    capture.write_bytes(b"")
    config = workdir / "asound.conf"
    # dd takes exactly the first sample, date notes the time, cat takes the rest (the file plugin
    # reads % as its own: %% is one).
    sink = f"dd bs=2 count=1 status=none >> {capture}; date +%%s.%%N > {capture}.t; exec cat >> {capture}"
    config.write_text(f'pcm.!default {{ type file; slave.pcm {{ type null }}; file "| {sink}"; format "raw" }}\n')
    env = {**os.environ, "ALSA_CONFIG_PATH": str(config), "VOICEGUIDE_CACHE": str(cache),
           "VOICEGUIDE_LOG": "off"}  # a benchmark is no practice: nothing in the user's log
    started = time.time()
    player = subprocess.Popen([sys.executable, "-m", "voiceguide", "play", routine, *voice], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            samples = np.frombuffer(capture.read_bytes(), dtype="<i2")
            loud = np.flatnonzero(np.abs(samples) >= HEARD * 32768)
            if len(loud) and Path(str(capture) + ".t").exists():
                arrived = float(Path(str(capture) + ".t").read_text())
                return arrived - started + loud[0] / SAMPLE_RATE
            if player.poll() is not None:
                raise RuntimeError(f"voiceguide play ended early: {player.stderr.read().decode()}")
            time.sleep(0.02)
        raise RuntimeError("nothing was heard")
    finally:
        player.send_signal(signal.SIGTERM)
        player.wait(TIMEOUT_S)
        player.stderr.close()


def baseline_s() -> float:
    """Python started and numpy imported: what no Python audio tool gets under."""
    runs = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
        runs.append(time.perf_counter() - t)
    return min(runs)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from run import machine

    print(f"machine: {machine()}")
    base = baseline_s()
    print(f"baseline, Python + numpy import: {base:.2f} s")
    with tempfile.TemporaryDirectory(prefix="voiceguide-startup-") as tmp:
        workdir = Path(tmp)
        for routine in ROUTINES:
            warm_cache = workdir / f"warm-{routine}"
            subprocess.run([sys.executable, "-m", "voiceguide", "--cache-dir", str(warm_cache), "plan", routine],
                           check=True, stdout=subprocess.DEVNULL)
            warm = min(first_word_s(routine, warm_cache, workdir) for _ in range(REPEATS))
            cold = min(first_word_s(routine, workdir / f"cold-{routine}-{k}", workdir) for k in range(REPEATS))
            print(f"{routine}: first word, warm cache {warm:.2f} s ({warm / base:.1f}x baseline; target 1 s: "
                  f"{'met' if warm <= 1.0 else 'MISSED'}), cold cache {cold:.2f} s ({cold / base:.1f}x baseline; "
                  f"target 2 s: {'met' if cold <= 2.0 else 'MISSED'})")
            other = min(first_word_s(routine, workdir / f"cold-{OTHER_VOICE}-{routine}-{k}", workdir,
                                     "--voice", OTHER_VOICE) for k in range(REPEATS))
            print(f"{routine}: first word with {OTHER_VOICE}, cold cache {other:.2f} s ({other / base:.1f}x baseline, "
                  f"{other / cold:.2f}x the default voice's)")


if __name__ == "__main__":
    main()
