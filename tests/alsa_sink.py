"""A real ALSA client with no sound card, and a player run in a pseudo-terminal, for player tests.

``alsa_env`` points alsa-lib at a configuration of the test's own whose default PCM appends every
sample played to a file (facts.md): what simpleaudio plays can be compared bit for bit with the
rendered session.  The sink is not paced, so nothing here waits on the clock; keys are synchronised
with playback through the player's hold hook.

Run as a script, this file is the player process: it plays a small session rendered from the
test engine's tones (a stand-in for the mixer) with the arguments given.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voiceguide.engines import VoiceSettings
from voiceguide.engines.testing import TestEngine
from voiceguide.errors import Location
from voiceguide.plan import Plan, build_plan
from voiceguide.player import HOLD_ENV, PREROLL_ENV
from voiceguide.routine import Phase, Routine, Span, Step

HERE = Path(__file__).resolve()
SR = 22050
SOUND_S = 0.3
TIMEOUT_S = 30.0
ROWS, COLUMNS = 40, 100


# --------------------------------------------------------------------------- a small session


def _step(kind: str, index: int, **fields) -> Step:
    return Step(kind, index, Location("t.yaml", index + 1, 1), **fields)


ROUTINE = Routine(
    title="Player test",
    steps=(
        _step("reps", 0, name="Pelvic tilts", setup=("Lie down.",), reps=Span(3, 3, integer=True),
              cycle=(Phase("Tilt.", 2), Phase("Back.", 2))),
        _step("hold", 1, name="Hip opener", sides=("left", "right"), hold=Span(6, 6), countdown=0),
        _step("rest", 2, rest=Span(4, 4)),
        _step("breaths", 3, name="Slow breaths", breaths=Span(2, 2, integer=True), inhale=2, exhale=3),
    ),
    path="t.yaml",
    caution=False,
    intro=("Stand up.",),
    outro=("Done.",),
)


class _ToneLengths:
    def speech(self, text: str) -> int:
        return TestEngine.length_samples(text)

    def sound(self, name: str) -> int:
        return round(SOUND_S * SR)


def session_plan() -> Plan:
    return build_plan(ROUTINE, _ToneLengths())


def render(plan: Plan) -> np.ndarray:
    """The stand-in mixer: test-engine tones for speech, a higher tone per sound, summed and clipped."""
    engine, mix = TestEngine(), np.zeros(plan.length, dtype=np.float64)
    for e in plan.events:
        if e.kind == "speech":
            audio = engine.synthesize(e.text, VoiceSettings()).samples.astype(np.float64)
        else:
            t = np.arange(e.end - e.start) / SR
            audio = 6000 * np.sin(2 * np.pi * (440 + 40 * len(e.sound)) * t)
        mix[e.start : e.start + len(audio)] += audio
    return np.clip(np.round(mix), -32768, 32767).astype(np.int16)


def blocks(samples: np.ndarray, block: int = 2 * SR):
    for i in range(0, len(samples), block):
        yield samples[i : i + block]


# --------------------------------------------------------------------------- the sink


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "asound.conf"
    path.write_text(body + "\n")
    return path


def alsa_env(tmp_path: Path, *, holds: list[int] = (), config: str | None = None,
             pace_bytes_s: int | None = None) -> tuple[dict, Path]:
    """Environment for a player whose default ALSA device appends to ``cap.raw``, and that file's path.

    The null sink takes samples as fast as they come, so the player mixes everything before it
    starts (preroll ``inf``).  With ``pace_bytes_s`` the sink is paced instead (the pipe fills and
    blocks the device), and the player keeps its default preroll: it plays while it mixes.
    """
    capture = tmp_path / "cap.raw"
    capture.write_bytes(b"")
    sink = f"{sys.executable} {HERE} --pace {capture} {pace_bytes_s}" if pace_bytes_s else f"cat >> {capture}"
    body = config or (f'pcm.!default {{ type file; slave.pcm {{ type null }}; '
                      f'file "| {sink}"; format "raw" }}')
    env = {**os.environ, "ALSA_CONFIG_PATH": str(write_config(tmp_path, body)), "PYTHONPATH": str(HERE.parent.parent)}
    env.pop(PREROLL_ENV, None)
    if not pace_bytes_s:
        env[PREROLL_ENV] = "inf"
    env.pop(HOLD_ENV, None)
    if holds:
        env[HOLD_ENV] = ",".join(str(h) for h in holds)
    return env, capture


def captured(capture: Path) -> np.ndarray:
    return np.frombuffer(capture.read_bytes(), dtype="<i2")


def player_command(*args: str) -> list[str]:
    return [sys.executable, str(HERE), *args]


# --------------------------------------------------------------------------- a player on a pseudo-terminal


@dataclass
class PtyPlayer:
    """The player with a pseudo-terminal for stdin and stdout: scripted keys in, screen text out."""

    proc: subprocess.Popen
    master: int
    slave: int
    output: bytearray = field(default_factory=bytearray)

    @classmethod
    def start(cls, args: list[str], env: dict) -> PtyPlayer:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        # Its own session with the pseudo-terminal as controlling terminal: Ctrl-C typed there is a real SIGINT.
        proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env,
                                start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        runner = cls(proc, master, slave)
        threading.Thread(target=runner._drain, daemon=True).start()
        return runner

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            self.output.extend(data)

    def expect(self, pattern: str, count: int = 1) -> None:
        """Wait until ``pattern`` has appeared ``count`` times in the screen output."""
        deadline = time.monotonic() + TIMEOUT_S
        while len(re.findall(pattern.encode(), bytes(self.output))) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {pattern!r} x{count}; exit status {self.proc.poll()}; "
                                     f"output ends {bytes(self.output[-200:])!r}")
            if self.proc.poll() is not None:  # what it wrote last may still be on its way from the terminal
                deadline = min(deadline, time.monotonic() + 2.0)
            time.sleep(0.01)

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def finish(self) -> tuple[int, str]:
        code = self.proc.wait(timeout=TIMEOUT_S)
        err = self.proc.stderr.read().decode()
        self.proc.stderr.close()
        return code, err

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


HOLD_NOTE = r"held at sample \d+"
LEFT_SCREEN = r"\x1b\[\?25h\x1b\[\?1049l$"  # cursor shown and the main screen back, as the last output


def pace(path: str, bytes_per_s: float) -> int:
    """A sink that takes samples no faster than ``bytes_per_s``: a clock for the unpaced null device."""
    t0, done = time.monotonic(), 0
    with open(path, "ab") as out:
        while chunk := sys.stdin.buffer.read1(4096):
            out.write(chunk)
            done += len(chunk)
            time.sleep(max(0.0, t0 + done / bytes_per_s - time.monotonic()))
    return 0


def slow_blocks(samples: np.ndarray, delay_s: float):
    """Blocks that take a while to come, like a mixer synthesising ahead."""
    for block in blocks(samples):
        time.sleep(delay_s)
        yield block


def main(argv: list[str]) -> int:
    """The player process, reporting errors the way the command line does."""
    from voiceguide.errors import VoiceguideError
    from voiceguide.player import play_blocks

    if argv[:1] == ["--pace"]:
        return pace(argv[1], float(argv[2]))
    plan = session_plan()
    from_step = argv[argv.index("--from") + 1] if "--from" in argv else None
    audio = render(plan)
    source = slow_blocks(audio, float(argv[argv.index("--slow") + 1])) if "--slow" in argv else blocks(audio)
    try:
        return play_blocks(plan, source, from_step=from_step)
    except VoiceguideError as exc:
        print(f"voiceguide: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
