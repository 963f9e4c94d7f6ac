"""Mastering's numpy work stays on its own thread: BLAS's worker threads would take the core the MP3
encoder runs on (measured: 0.3-0.4 s of CPU in a warm 12-minute export, for nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

WORK = """
import json, os, sys, threading
sys.path.insert(0, {tests!r})
import numpy as np
from tones import SOUNDS, ToneSpeech, long_routine, tone_plan
from voiceguide.audio import loudness, mix

def cpu_s():
    ticks = os.sysconf("SC_CLK_TCK")
    found = {{}}
    for task in os.listdir("/proc/self/task"):
        fields = open(f"/proc/self/task/{{task}}/stat").read().rsplit(")", 1)[1].split()
        found[int(task)] = (int(fields[11]) + int(fields[12])) / ticks
    return found

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
me = threading.get_native_id()
print(json.dumps({{"mine": after[me] - before[me],
                   "others": sum(after[t] - before.get(t, 0.0) for t in after if t != me)}}))
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread CPU times are read from Linux's /proc")
def test_mastering_leaves_the_other_core_alone():
    out = subprocess.run([sys.executable, "-c", WORK.format(tests=str(TESTS))], capture_output=True, text=True,
                         check=True).stdout
    cpu = json.loads(out.splitlines()[-1])
    assert cpu["mine"] > 0.05  # enough work to see: the clock ticks every 10 ms
    assert cpu["others"] <= 0.02, cpu
