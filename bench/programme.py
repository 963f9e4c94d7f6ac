"""Programme benchmark (``make bench``): how long ``today`` and ``programme plan`` take, as ratios.

Both run as a user runs them (``python -m voiceguide ...`` in a fresh process) on the built-in
programme ``back-and-hips-four-weeks`` with the default voice, warm: the speech cache and the
remembered session lengths filled by a first run (whose time is reported too), and Python's
bytecode written (as in an installed package; the environment's ``PYTHONDONTWRITEBYTECODE`` is left
out for these runs).  Baselines in the same run: ``voiceguide --help`` (starting Python and the
command line) and ``voiceguide plan standing-reset`` (one routine planned, warm).  Target: under
0.3 s warm for both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROGRAMME = "back-and-hips-four-weeks"
REPEATS = 10
"""Rounds; each runs every command once, in turn, so a busy moment costs them all alike."""
TARGET_S = 0.3


def timed(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "voiceguide", *args], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(VOICEGUIDE_CACHE=str(Path(folder) / "cache"), XDG_STATE_HOME=str(Path(folder) / "state"))
        on = (date.today() + timedelta(days=9)).isoformat()  # a day of week 2 (the programme starts today)
        today = ["today", PROGRAMME, "--date", on]
        plan = ["programme", "plan", PROGRAMME]
        cold = timed(plan, env)  # makes the speech and remembers every session's length
        timed(["plan", "standing-reset"], env)
        commands = {"voiceguide --help (baseline)": ["--help"],
                    "voiceguide plan standing-reset (baseline)": ["plan", "standing-reset"],
                    f"voiceguide today {PROGRAMME}": today, f"voiceguide programme plan {PROGRAMME}": plan}
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(REPEATS):
            for name, args in commands.items():
                times[name].append(timed(args, env))
        rows = [(name, min(runs)) for name, runs in times.items()]
    help_s, plan_s = rows[0][1], rows[1][1]
    print(f"Programme commands, best of {REPEATS}, warm (the first `programme plan`, cold: {cold:.2f} s)")
    for name, seconds in rows:
        verdict = "" if "baseline" in name else f"  target {TARGET_S} s: {'met' if seconds < TARGET_S else 'MISSED'}"
        print(f"  {name:<52} {seconds:6.3f} s  {seconds / help_s:5.2f}x --help  {seconds / plan_s:5.2f}x plan"
              f"{verdict}")


if __name__ == "__main__":
    main()
