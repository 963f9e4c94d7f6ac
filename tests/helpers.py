"""Helpers the tests share: the command line run in this process (``invoke``) or in a real one
(``run_voiceguide``).  Imported by the test modules; conftest.py keeps only fixtures and markers.

``invoke`` is the default, as click's ``CliRunner`` is for click programs: ``cli.main(argv)``
already returns the exit code, so a message or exit-code test needs no new Python: ``voiceguide plan
hip-hinge --voice test`` takes 0.4 s of CPU in a process of its own and 0.05 s here (measured on
2026-12-03), and the quick suite made about ninety such calls.  A real process is for what only a real process has:
signals, the sound device, the browser, a fresh install, the locale and encoding of a real
stdout, several processes at once.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Result:
    """What a run of the command line left: its exit code and output (named as ``subprocess`` names them)."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(changes: dict[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(changes or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def invoke(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """``voiceguide ARGS`` run by ``cli.main`` in this process, from ``cwd`` (the checkout by default)
    with ``env`` added to the environment, its stdout and stderr captured.

    An exception ``main`` does not turn into a message propagates: a test sees the traceback a user
    would have seen, and fails.
    """
    from voiceguide import cli

    out, err = io.StringIO(), io.StringIO()
    with _environment(env), contextlib.chdir(cwd or REPO), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(args))
        except SystemExit as exit_:  # argparse: --help, --version, an option it refuses
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


def example_budget(full: int) -> int:
    """How many examples a property test draws: ``full`` in `make test`, a quarter (at least 10) in the
    quick suite, which loads the ``quick`` Hypothesis profile (conftest.py) with a quarter of the default's."""
    from hypothesis import settings

    scale = settings.default.max_examples / settings.get_profile("default").max_examples
    return max(10, round(full * scale))


def run_voiceguide(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600,
                   input: str | None = None) -> subprocess.CompletedProcess:
    """The real command line in a new process, as a user runs it (see the module docstring for when)."""
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", *args],
        cwd=cwd or REPO, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        timeout=timeout, input=input,
    )
