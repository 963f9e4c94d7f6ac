"""``voiceguide serve`` as a process: how Ctrl-C ends it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def start_serving(folder: Path, *args: str) -> tuple[subprocess.Popen, list[str]]:
    """``voiceguide serve`` on 127.0.0.1 and any free port, once it has said where it serves."""
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "serve", "standing-reset", *args, "--voice", "test",
         "--host", "127.0.0.1", "--port", "0", "--site", str(folder)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    while True:
        line = process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            process.kill()
            raise AssertionError(f"serve ended before giving an address: {process.communicate()[1]}")
        lines.append(line.rstrip("\n"))
        if line.startswith("Podcast feed:"):
            return process, lines


def stop(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    return process.returncode, err


def test_ctrl_c_stops_serving_with_the_exit_code_of_an_interruption(tmp_path):
    process, _ = start_serving(tmp_path / "site")
    code, err = stop(process)
    assert (code, err) == (130, "voiceguide: stopped serving\n")
