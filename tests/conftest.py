"""Shared test set-up: one speech cache and state folder for the whole run, and the `real` marker.

Helpers the tests call (running the command line, the checkout's path) are in helpers.py."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

# `make test-quick` loads this profile (--hypothesis-profile=quick): property tests draw a quarter of their
# examples (helpers.example_budget), the edit-test loop's budget; `make test` draws them all.
settings.register_profile("quick", max_examples=settings.get_profile("default").max_examples // 4)

# A suite started with SIGINT ignored (a background job of a non-interactive shell does that) hands
# the ignoring on to every command it runs, and the Ctrl-C tests would wait for an exit that never
# comes.  A handler, unlike SIG_IGN, is reset to the default on exec: commands get Ctrl-C as a user has it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@contextmanager
def environment(name: str, value: str) -> Iterator[None]:
    """``name`` set to ``value`` for the run, then as it was (unset if it was unset)."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@pytest.fixture(scope="session", autouse=True)
def shared_speech_cache(tmp_path_factory):
    """Tests never touch the checkout's audio_cache/; real voices still synthesise each text once per run.

    Under pytest-xdist (``make test-quick``) the workers share one cache in the run's own temporary folder,
    as two processes of a user share theirs (the cache is safe for that), so no text is made once per worker.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.getbasetemp().parent / "speech-cache"  # the run's folder, above each worker's
        path.mkdir(exist_ok=True)
    else:
        path = tmp_path_factory.mktemp("speech-cache")
    with environment("VOICEGUIDE_CACHE", str(path)):
        yield path


@pytest.fixture(scope="session", autouse=True)
def own_state_folder(tmp_path_factory):
    """Where ``play`` keeps its places for ``--resume``: never the user's own state folder."""
    with environment("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state"))):
        yield


@pytest.fixture(scope="session", autouse=True)
def own_data_folder(tmp_path_factory):
    """Where ``play`` and ``serve`` keep the practice log: never the user's own data folder."""
    with environment("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data"))):
        yield


REAL_MODULES = {"test_engines", "test_heard", "test_listener", "test_packaging", "test_player", "test_page",
                "test_hibari", "test_catalog", "test_voice_sample", "test_log_play"}
"""Modules whose every test drives a real voice, the real ALSA client, pocketsphinx, a wheel build or
a real browser."""


def pytest_configure(config):
    config.addinivalue_line("markers", "real: uses a real voice, sound device, listener or build "
                                       "(left out by `make test-quick`, always run by `make test`)")
    # Test modules are collected before any fixture runs: one that speaks while it is collected (a
    # parametrize list made with prepare) would otherwise write into the checkout's audio_cache/.
    # It gets a cache of its own, which test_helpers.py checks is still empty.
    config.stash[COLLECTION_CACHE] = (Path(tempfile.mkdtemp(prefix="voiceguide-collection-")),
                                      os.environ.get("VOICEGUIDE_CACHE"))
    os.environ["VOICEGUIDE_CACHE"] = str(config.stash[COLLECTION_CACHE][0])


def pytest_unconfigure(config):
    if COLLECTION_CACHE in config.stash:
        path, previous = config.stash[COLLECTION_CACHE]
        shutil.rmtree(path, ignore_errors=True)
        if previous is None:
            os.environ.pop("VOICEGUIDE_CACHE", None)
        else:
            os.environ["VOICEGUIDE_CACHE"] = previous


COLLECTION_CACHE = pytest.StashKey[tuple[Path, "str | None"]]()


@pytest.fixture(scope="session")
def collection_cache(pytestconfig) -> Path:
    """The speech cache the test modules had while they were collected (it should hold nothing)."""
    return pytestconfig.stash[COLLECTION_CACHE][0]


def pytest_collection_modifyitems(items):
    """Mark the real-parts tests, so `make test-quick` (-m "not real") is the fast edit-test loop."""
    for item in items:
        real_voice = any(f"[{name}" in item.name for name in ("piper", "hibari", "system"))
        if item.module.__name__ in REAL_MODULES or real_voice:
            item.add_marker(pytest.mark.real)
