"""The speech cache: exact round trips, damage detected and never played, processes sharing one folder."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voiceguide.voice.cache import CacheKey, SpeechCache, decode_entry, default_cache_dir
from voiceguide.voice.engines import Audio

KEY = CacheKey("test", "", "test-1", 1.0, "Lie on your back.")


def audio_of(n: int, seed: int = 0) -> Audio:
    return Audio(np.random.default_rng(seed).integers(-32768, 32767, n, dtype=np.int16), 22050)


@pytest.fixture
def notes():
    return []


@pytest.fixture
def cache(tmp_path, notes):
    return SpeechCache(tmp_path / "cache", notify=notes.append)


def test_an_entry_comes_back_exactly(cache):
    original = audio_of(12345)
    assert cache.get(KEY) is None
    cache.put(KEY, original)
    back = cache.get(KEY)
    assert back.sample_rate == 22050 and back.samples.dtype == np.int16
    assert np.array_equal(back.samples, original.samples)


@pytest.mark.parametrize(
    "other",
    [
        CacheKey("piper", "", "test-1", 1.0, KEY.text),
        CacheKey("test", "en-us", "test-1", 1.0, KEY.text),
        CacheKey("test", "", "test-2", 1.0, KEY.text),
        CacheKey("test", "", "test-1", 1.1, KEY.text),
        CacheKey("test", "", "test-1", 1.0, "Lie on your back"),
    ],
)
def test_engine_voice_version_rate_and_text_each_make_a_different_entry(cache, other):
    cache.put(KEY, audio_of(100))
    assert cache.path(other) != cache.path(KEY)
    assert cache.get(other) is None


def _truncate(data: bytes) -> bytes:
    return data[: len(data) - 7]


def _wrong_header(data: bytes) -> bytes:
    return b"RIFFWAVE" + data[8:]


def _wrong_checksum(data: bytes) -> bytes:
    flipped = bytearray(data)
    flipped[-100] ^= 0x01  # one bit of one sample
    return bytes(flipped)


@pytest.mark.parametrize(
    ("damage", "said"),
    [(_truncate, "wrong size"), (_wrong_header, "wrong header"), (_wrong_checksum, "checksum mismatch"),
     (lambda data: data[:10], "truncated")],
)
def test_a_damaged_entry_is_reported_once_and_never_returned(cache, notes, damage, said):
    cache.put(KEY, audio_of(5000))
    path = cache.path(KEY)
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get(KEY) is None
    assert cache.get(KEY) is None
    assert len(notes) == 1 and said in notes[0] and str(path) in notes[0]
    cache.put(KEY, audio_of(5000))  # made again
    assert np.array_equal(cache.get(KEY).samples, audio_of(5000).samples)
    assert len(notes) == 1


def test_info_counts_entries_and_size_per_engine_and_clear_removes_them(cache):
    for i in range(3):
        cache.put(CacheKey("piper", "", "v", 1.0, f"text {i}"), audio_of(22050))
    cache.put(CacheKey("system", "", "v", 1.0, "text"), audio_of(1000))
    from test_export import dead_pid

    (cache.root / "piper" / f".voiceguide-{dead_pid()}-0123abcd.part").write_bytes(b"left by a crash")
    info = cache.info()
    assert "4 entries" in info and "piper: 3 entries" in info and "system: 1 entry," in info
    assert str(cache.root) in info
    assert cache.clear() == 4
    assert cache.entries() == [] and not any(cache.root.iterdir())
    assert "0 entries" in cache.info()


def test_an_empty_or_missing_cache_reports_nothing_to_clear(tmp_path):
    cache = SpeechCache(tmp_path / "never-made")
    assert cache.clear() == 0
    assert "0 entries" in cache.info()


@pytest.mark.parametrize("where", ["a file", "a folder that cannot be made"])
def test_a_cache_folder_that_cannot_be_used_is_reported_once_not_fatal(tmp_path, notes, where):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    root = blocker if where == "a file" else blocker / "below"
    cache = SpeechCache(root, notify=notes.append)
    for i in range(20):  # every utterance of a session: one note, not one each
        key = replace(KEY, text=f"text {i}")
        assert cache.get(key) is None
        cache.put(key, audio_of(10))
    assert len(notes) == 1, notes
    assert f"cannot keep speech in the cache folder {str(root)!r} (Not a directory)" in notes[0]
    assert "--cache-dir" in notes[0]
    assert "is not a folder" in SpeechCache(blocker).info()


def test_no_temporary_files_are_left_after_writes(cache):
    for i in range(5):
        cache.put(KEY, audio_of(1000, seed=i))
    assert [p.name for p in (cache.root / "test").iterdir()] == [cache.path(KEY).name]


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import numpy as np
    from voiceguide.voice.cache import CacheKey, SpeechCache
    from voiceguide.voice.engines import Audio

    root, me, other = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    cache = SpeechCache(root, notify=lambda note: sys.exit("damaged entry seen: " + note))
    (root / f"ready-{me}").touch()
    while not (root / f"ready-{other}").exists():  # start together
        time.sleep(0.001)
    for i in range(300):
        k = i % 7
        key = CacheKey("test", "", "v", 1.0, f"utterance {k}")
        expected = np.full(30000 + 1000 * k, k, dtype=np.int16)  # the same audio from either process
        got = cache.get(key)
        if got is not None and not np.array_equal(got.samples, expected):
            sys.exit(f"wrong audio for key {k}")
        cache.put(key, Audio(expected, 22050))
    """
)


def test_two_processes_sharing_one_cache_never_see_a_broken_entry(tmp_path):
    root = tmp_path / "shared"
    root.mkdir()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [subprocess.Popen([sys.executable, str(script), str(root), me, other], stderr=subprocess.PIPE, text=True)
             for me, other in (("a", "b"), ("b", "a"))]
    said = [p.communicate(timeout=120)[1] for p in procs]  # waits, reads and closes the pipe
    results = [(p.returncode, err) for p, err in zip(procs, said)]
    assert results == [(0, ""), (0, "")]
    entries = SpeechCache(root).entries()
    assert len(entries) == 7
    for path in entries:
        audio, problem = decode_entry(path.read_bytes())
        assert problem is None
    assert not list(root.glob("*/.voiceguide-*.part"))


def test_default_cache_dir_order(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICEGUIDE_CACHE", str(tmp_path / "from-env"))
    assert default_cache_dir() == tmp_path / "from-env"
    monkeypatch.delenv("VOICEGUIDE_CACHE")
    checkout = tmp_path / "checkout"
    (checkout / "audio_cache").mkdir(parents=True)
    monkeypatch.chdir(checkout)
    assert default_cache_dir() == checkout / "audio_cache"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "voiceguide"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == Path(tmp_path / "home" / ".cache" / "voiceguide")


def test_a_folder_in_place_of_an_entry_is_made_again_not_counted_and_cleared(tmp_path):
    """Through the command line: export, cache info and cache clear."""
    import os

    from helpers import Result, invoke
    from test_export import write_routine

    cache_dir = tmp_path / "cache"
    script = write_routine(tmp_path, "short", "Short")
    env = {"VOICEGUIDE_CACHE": str(cache_dir)}

    def export() -> Result:
        return invoke("export", str(script), "-o", str(tmp_path / "short.wav"), "--voice", "test", env=env)

    assert export().returncode == 0
    entries = SpeechCache(cache_dir).entries()
    blocked = entries[0]
    blocked.unlink()
    blocked.mkdir()
    (blocked / "something").write_text("in the way")
    info = invoke("cache", "info", env=env)
    assert f"{len(entries) - 1} entries" in info.stdout, info.stdout
    done = export()
    assert done.returncode == 0 and done.stderr == "", done.stderr  # no warning: the entry is simply made again
    assert blocked.is_file() and decode_entry(blocked.read_bytes())[1] is None
    blocked.unlink()
    blocked.mkdir()
    cleared = invoke("cache", "clear", env=env)
    assert cleared.returncode == 0 and "Traceback" not in cleared.stderr, cleared.stderr
    assert f"removed {len(entries) - 1} entries" in cleared.stdout
    assert not any(p for p in cache_dir.rglob("*") if p.name.endswith(".speech")), list(cache_dir.rglob("*"))
    assert os.path.isdir(cache_dir)


def test_a_temporary_file_of_a_killed_writer_is_removed_and_a_live_ones_kept(cache, notes, capsys):
    import os

    from test_export import dead_pid

    folder = cache.path(KEY).parent
    folder.mkdir(parents=True)
    dead = folder / f".voiceguide-{dead_pid()}-abcd1234.part"
    live = folder / f".voiceguide-{os.getppid()}-abcd1234.part"  # the process that started the tests: running
    for temp in (dead, live):
        temp.write_bytes(b"half an entry")
    cache.put(KEY, audio_of(100))
    assert not dead.exists() and live.exists()
    assert capsys.readouterr().err.count("removed the part file") == 1
    cache.clear()
    assert live.exists()  # clear, too, leaves a running writer's file alone
