"""Mastering's numpy work stays on its own thread: BLAS's worker threads would take the core the MP3
encoder runs on (measured: 0.3-0.4 s of CPU in a warm 12-minute export, for nothing)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

WORK = """
import json, resource, sys
sys.path.insert(0, {tests!r})
import numpy as np
from tones import SOUNDS, ToneSpeech, long_routine, tone_plan
from voiceguide.audio import loudness, mix

def cpu_s():
    # (this thread's CPU, the whole process's): the process's counts threads that have ended too, and
    # races with none (a thread listed in /proc/self/task may be gone before its times are read there)
    mine, every = resource.getrusage(resource.RUSAGE_THREAD), resource.getrusage(resource.RUSAGE_SELF)
    return mine.ru_utime + mine.ru_stime, every.ru_utime + every.ru_stime

rng = np.random.default_rng(5)
hard = (rng.standard_normal(220_500) * 0.01).astype(np.float32)
hard[::10] = 0.9  # a tenth of the samples loud: the sparse path, with nearly every sample near a loud one
rendition = mix.Mix.of(mix.Mix(tone_plan(long_routine(3)), ToneSpeech(), SOUNDS))
loudness.true_peak(hard[:1000], 0.8)  # numpy's BLAS started, as in any real run
levels = mix.measure(rendition)  # before the encoder starts: it may use both cores
before = cpu_s()
for _ in range(5):
    loudness.true_peak(hard, 0.8)
for block in mix.mastered_blocks(rendition, levels):
    pass
after = cpu_s()
mine = after[0] - before[0]
print(json.dumps({{"mine": mine, "others": after[1] - before[1] - mine}}))
"""


@pytest.mark.skipif(not hasattr(resource, "RUSAGE_THREAD"), reason="a thread's own CPU time is Linux's getrusage")
def test_mastering_leaves_the_other_core_alone():
    done = subprocess.run([sys.executable, "-c", WORK.format(tests=str(TESTS))], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    cpu = json.loads(done.stdout.splitlines()[-1])
    assert cpu["mine"] > 0.05  # enough work to see: the clock ticks every 10 ms
    assert cpu["others"] <= 0.02, cpu
