"""``voiceguide serve`` as a process: its token file's permissions and how Ctrl-C ends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from helpers import REPO

from voiceguide import publish

SHORT = "title: Short\ncaution: false\nsteps:\n  - name: Hold it\n    hold: 3\n"
"""What serve makes here: how it starts and stops is the point, not the session, so a short one (the
2-minute standing-reset took 0.3 s more of CPU to make)."""


def start_serving(folder: Path, *args: str) -> tuple[subprocess.Popen, list[str]]:
    """``voiceguide serve`` of ``SHORT`` on 127.0.0.1 and any free port, once it has said where it serves."""
    script = folder.parent / "short.yaml"
    script.write_text(SHORT, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "serve", str(script), *args, "--voice", "test",
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


def made(lines: list[str]) -> None:
    """Wait until serve has made what it lists (it gives its address first, then makes them)."""
    import json
    import time
    import urllib.request

    url = next(x.strip() for x in lines if x.strip().startswith("http://"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url + "library.json", timeout=10) as answer:
            if not any(s.get("making") for s in json.load(answer)["sessions"]):
                return
        time.sleep(0.1)
    raise AssertionError("serve did not finish making its sessions")


def test_ctrl_c_stops_serving_with_the_exit_code_of_an_interruption(tmp_path):
    process, lines = start_serving(tmp_path / "site")
    made(lines)
    code, err = stop(process)
    assert (code, err) == (130, "voiceguide: ready: Short\nvoiceguide: stopped serving\n")


def test_a_token_file_readable_by_others_is_made_private_again_and_said_so(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir(mode=0o700)
    token = publish.site_token(folder)
    path = folder / publish.TOKEN_FILE
    os.chmod(path, 0o644)  # a copy, a backup restore or an editor that saved it so
    process, lines = start_serving(folder)
    try:
        assert path.stat().st_mode & 0o777 == 0o600
        assert any(token in line for line in lines)  # the same address: subscriptions keep working
    finally:
        _, err = stop(process)
    assert [line for line in err.splitlines() if "readable by others" in line] == [
        f"voiceguide: {str(path)!r} was readable by others; it is yours alone again (0600); if someone may have "
        "read it, start with --new-token"]
