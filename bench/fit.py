"""Fitting benchmark (``make bench``): how long choosing the ranges for a target takes, as ratios.

The baseline, measured in the same run, is building one plan of the same routine with every range
at its middle (``build_plan``), which is what a session without a target costs.  Measured:

1. Every built-in routine fitted to a target 10% past its middle length (the standing reset to its
   own 2:00); the slowest is reported.
2. A generated script of about three hours with many ranges (reps, two-sided holds, rests, breaths,
   and a group with ranged rounds), fitted to 2:50:00.

The deterministic test voice gives the speech lengths: fitting's cost does not depend on the voice
once the speech is made (the speech cache makes it once).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voiceguide.audio.sounds import SoundBank  # noqa: E402
from voiceguide.script.library import list_routines  # noqa: E402
from voiceguide.script.parse import load_routine, parse_text  # noqa: E402
from voiceguide.script.routine import Routine  # noqa: E402
from voiceguide.timeline.clock import clock  # noqa: E402
from voiceguide.timeline.fit import fit_plan  # noqa: E402
from voiceguide.timeline.plan import SAMPLE_RATE, build_plan  # noqa: E402
from voiceguide.voice.engines.testing import TestEngine  # noqa: E402

REPEATS = 3


class TestLengths:
    """Speech lengths of the deterministic test voice; the built-in cue sounds' own lengths."""

    def __init__(self) -> None:
        self.sound = SoundBank(SAMPLE_RATE).length

    def speech(self, text: str) -> int:
        return TestEngine.length_samples(text)


def best_of(fn) -> tuple[float, object]:
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = fn()
        runs.append((time.perf_counter() - start, result))
    return min(t for t, _ in runs), runs[-1][1]


def large_script(steps: int = 48) -> str:
    """About three hours at the middles: many ranges of every kind, and a group with ranged rounds."""
    lines = ["title: Long generated session", "caution: false", "steps:"]
    for k in range(steps):
        kind = k % 4
        if kind == 0:
            lines += [f"  - name: Reps {k}", "    reps: 30-60", "    cycle:",
                      "      - {say: Up., seconds: 3}", "      - {say: Down., seconds: 3}"]
        elif kind == 1:
            lines += [f"  - name: Hold {k}", "    sides: [left, right]", "    hold: 90-180",
                      "    reminders: [Breathe easy.]"]
        elif kind == 2:
            lines += ["  - rest: 20-60"]
        else:
            lines += [f"  - name: Breaths {k}", "    breaths: 6-12", "    inhale: 4", "    exhale: 6"]
    lines += ["  - name: Circuit", "    rounds: 2-4", "    steps:",
              "      - name: Bridge", "        reps: 8-12",
              "        cycle: [{say: Lift., seconds: 4}, {say: Lower., seconds: 4}]",
              "      - rest: 10-20", "    rest_between: 30-60"]
    return "\n".join(lines) + "\n"


def measure(routine: Routine, target_s: float) -> tuple[float, float, object]:
    lengths = TestLengths()
    base_s, _ = best_of(lambda: build_plan(routine, lengths))
    fit_s, plan = best_of(lambda: fit_plan(routine, lengths, target_s=target_s))
    return base_s, fit_s, plan


def main() -> None:
    print("Fitting a duration, best of 3, against building one plan of the same routine")
    rows = []
    for path in list_routines():
        routine = load_routine(path)
        target = routine.duration or build_plan(routine, TestLengths()).duration_s * 1.1
        base_s, fit_s, plan = measure(routine, target)
        rows.append((fit_s / base_s, path.stem, base_s, fit_s, target, plan))
    ratio, name, base_s, fit_s, target, plan = max(rows, key=lambda r: r[0])
    print(f"  slowest built-in, {name} to {clock(target)}: {fit_s * 1000:.1f} ms / {base_s * 1000:.2f} ms "
          f"= {ratio:.0f}x (reached: {plan.length == round(target * SAMPLE_RATE)})")
    routine = parse_text(large_script(), "generated.yaml")
    middle = build_plan(routine, TestLengths()).duration_s
    target = 2 * 3600 + 50 * 60
    base_s, fit_s, plan = measure(routine, target)
    print(f"  generated script ({len(routine.steps)} steps, middles {clock(middle)}) to {clock(target)}: "
          f"{fit_s:.2f} s / {base_s * 1000:.1f} ms = {fit_s / base_s:.0f}x "
          f"(reached: {plan.length == round(target * SAMPLE_RATE)})")


if __name__ == "__main__":
    main()
