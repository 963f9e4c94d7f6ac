"""A real ALSA client with no sound card, and the player run in a pseudo-terminal, for player tests.

``alsa_env`` points alsa-lib at a configuration of the test's own whose default PCM appends every
sample played to a file (facts.md): what simpleaudio plays can be compared bit for bit with the
rendered session.  The sink is not paced, so nothing here waits on the clock; keys are synchronised
with playback through the player's hold hook.  Run as a script (``--pace``), this file is a sink
that takes samples no faster than a given rate, a clock for the unpaced device.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voiceguide.play.device import UNPACED_ENV
from voiceguide.play.player import HOLD_ENV, PREROLL_ENV
from voiceguide.practice import OFF_ENV as LOG_ENV

HERE = Path(__file__).resolve()
TIMEOUT_S = 30.0
ROWS, COLUMNS = 40, 100


# --------------------------------------------------------------------------- the sink


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "asound.conf"
    path.write_text(body + "\n")
    return path


def alsa_env(tmp_path: Path, *, holds: list[int] = (), config: str | None = None,
             pace_bytes_s: int | None = None, log: bool = False) -> tuple[dict, Path]:
    """Environment for a player whose default ALSA device appends to ``cap.raw``, and that file's path.

    The null sink takes samples as fast as they come, so the player mixes everything before it
    starts (preroll ``inf``) and is told the device is not paced (a play that ends at once is
    then not a lost device).  With ``pace_bytes_s`` the sink is paced instead (the pipe fills and
    blocks the device), and the player keeps its default preroll: it plays while it mixes.
    The practice log is off (a finished play on a terminal would ask for a rating) unless ``log``:
    then it is ``data/voiceguide/practice.sqlite3`` in ``tmp_path``.
    """
    capture = tmp_path / "cap.raw"
    capture.write_bytes(b"")
    sink = f"{sys.executable} {HERE} --pace {capture} {pace_bytes_s}" if pace_bytes_s else f"cat >> {capture}"
    body = config or (f'pcm.!default {{ type file; slave.pcm {{ type null }}; '
                      f'file "| {sink}"; format "raw" }}')
    env = {**os.environ, "ALSA_CONFIG_PATH": str(write_config(tmp_path, body)), "PYTHONPATH": str(HERE.parent.parent)}
    env.pop(PREROLL_ENV, None)
    env.pop(UNPACED_ENV, None)
    if not pace_bytes_s:
        env[PREROLL_ENV] = "inf"
        env[UNPACED_ENV] = "1"  # plays end as soon as written: not a lost device
    env["XDG_STATE_HOME"] = str(tmp_path / "state")  # where --resume keeps its places
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # where the practice log is kept
    env.pop(LOG_ENV, None)
    if not log:
        env[LOG_ENV] = "off"
    env.pop(HOLD_ENV, None)
    if holds:
        env[HOLD_ENV] = ",".join(str(h) for h in holds)
    return env, capture


def captured(capture: Path) -> np.ndarray:
    return np.frombuffer(capture.read_bytes(), dtype="<i2")


def player_command(routine: Path, *args: str) -> list[str]:
    """The real command line, with the deterministic test voice."""
    return [sys.executable, "-m", "voiceguide", "play", str(routine), "--voice", "test", *args]


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


def kill_pacer(player_pid: int) -> int:
    """SIGKILL the paced sink's reader that alsa-lib started for the player ``player_pid``: the device
    stops taking samples, as a Bluetooth headset that drops out or a USB card pulled out.  Its pid."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
        except OSError:
            continue
        children.setdefault(int(rest.rsplit(")", 1)[1].split()[1]), []).append(int(pid))
    todo, found = [player_pid], []
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            todo.append(child)
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(HERE).encode() in argv and b"--pace" in argv:  # the Python reader, not the shell around it
                found.append(child)
    assert len(found) == 1, f"paced sinks of player {player_pid}: {found}"
    os.kill(found[0], signal.SIGKILL)
    return found[0]


HOLD_NOTE = r"held at sample \d+"
LEFT_SCREEN = r"\x1b\[\?25h\x1b\[\?1049l$"  # cursor shown and the main screen back, as the last output


def quit_at_hold(command: list[str], env: dict) -> tuple[int, str]:
    """Play ``command`` on a terminal until the sink holds it, press q, and return its exit code and stderr."""
    player = PtyPlayer.start(command, env)
    try:
        player.expect(HOLD_NOTE)
        player.send(b"q")
        return player.finish()
    finally:
        player.close()


def pace(path: str, bytes_per_s: float) -> int:
    """A sink that takes samples no faster than ``bytes_per_s``: a clock for the unpaced null device."""
    t0, done = time.monotonic(), 0
    with open(path, "ab") as out:
        while chunk := sys.stdin.buffer.read1(4096):
            out.write(chunk)
            done += len(chunk)
            time.sleep(max(0.0, t0 + done / bytes_per_s - time.monotonic()))
    return 0


if __name__ == "__main__":
    sys.exit(pace(sys.argv[2], float(sys.argv[3])) if sys.argv[1:2] == ["--pace"] else 2)
