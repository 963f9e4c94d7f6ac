"""Issue 20, fault 1: a write never replaces what is not a regular file (a device, a FIFO, a socket,
a folder), and ``voices --sample -o`` writes what its name says, where its name says."""

from __future__ import annotations

import os
import socket
import stat
import wave
from pathlib import Path

import pytest

from voiceguide import cli, files
from voiceguide.export import writer as export

ROOT = os.geteuid() == 0


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def char_device(path: Path) -> Path:
    """A copy of /dev/null's device node in tmp (made with mknod: /dev itself is never touched)."""
    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    return path


def unchanged(path: Path, before: os.stat_result) -> bool:
    after = os.lstat(path)
    return (after.st_ino, after.st_mode, after.st_rdev) == (before.st_ino, before.st_mode, before.st_rdev)


def no_part_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if files.PART_NAME.fullmatch(p.name)]


def test_atomic_file_refuses_a_fifo_and_a_folder_before_writing(tmp_path):
    for target in (fifo(tmp_path / "pipe.mp3"), tmp_path / "folder.mp3"):
        target.mkdir() if not target.exists() else None
        before = os.lstat(target)
        with pytest.raises(files.NotARegularFileError, match="not a regular file"):
            with files.atomic_file(target) as f:
                f.write(b"x")
        assert unchanged(target, before) and no_part_files(tmp_path)


def test_atomic_file_refuses_a_socket_and_a_link_to_a_fifo(tmp_path):
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(tmp_path / "sock"))
        os.symlink(fifo(tmp_path / "pipe"), tmp_path / "link.mp3")
        for target in (tmp_path / "sock", tmp_path / "link.mp3"):
            before = os.lstat(target)
            with pytest.raises(files.NotARegularFileError):
                files.write_bytes(target, b"x")
            assert unchanged(target, before)
    assert no_part_files(tmp_path)


def test_a_fifo_made_while_writing_is_not_renamed_over(tmp_path):
    target = tmp_path / "late.mp3"
    with pytest.raises(files.NotARegularFileError, match="named pipe"):
        with files.atomic_file(target) as f:
            f.write(b"x")
            fifo(target)
    assert stat.S_ISFIFO(os.lstat(target).st_mode) and no_part_files(tmp_path)


def test_a_regular_file_and_a_link_to_one_are_still_replaced(tmp_path):
    (tmp_path / "old.mp3").write_bytes(b"old")
    os.symlink(tmp_path / "old.mp3", tmp_path / "link.mp3")
    files.write_bytes(tmp_path / "old.mp3", b"new")
    files.write_bytes(tmp_path / "link.mp3", b"newer")  # the link is replaced by the file, as before
    assert (tmp_path / "old.mp3").read_bytes() == b"new" and (tmp_path / "link.mp3").read_bytes() == b"newer"


@pytest.mark.skipif(not ROOT, reason="mknod of a device needs root (CI runs as root)")
def test_atomic_file_refuses_a_device_node(tmp_path):
    target = char_device(tmp_path / "full.mp3")
    before = os.lstat(target)
    with pytest.raises(files.NotARegularFileError, match="character device"):
        files.write_bytes(target, b"x")
    assert unchanged(target, before) and no_part_files(tmp_path)


def one_cannot_write_line(capsys, name: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot write {name!r}" in err and "not a regular file" in err, err
    assert "Traceback" not in err


def export_to(target: Path) -> int:
    return cli.main(["export", "standing-reset", "-o", str(target), "--voice", "test"])


def test_export_to_a_fifo_is_one_line_and_leaves_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = fifo(tmp_path / "out.mp3")
    before = os.lstat(target)
    assert export_to(Path("out.mp3")) == 1
    one_cannot_write_line(capsys, "out.mp3")
    assert unchanged(target, before) and no_part_files(tmp_path)


@pytest.mark.skipif(not ROOT, reason="mknod of a device needs root (CI runs as root)")
def test_export_and_voice_sample_to_a_device_leave_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = char_device(tmp_path / "full.mp3")
    before = os.lstat(target)
    assert export_to(Path("full.mp3")) == 1
    one_cannot_write_line(capsys, "full.mp3")
    assert cli.main(["voices", "--sample", "test", "-o", "full.mp3"]) == 1
    one_cannot_write_line(capsys, "full.mp3")
    assert unchanged(target, before) and no_part_files(tmp_path)


def test_a_voice_sample_to_a_fifo_is_one_line_and_leaves_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = fifo(tmp_path / "sample.mp3")
    before = os.lstat(target)
    assert cli.main(["voices", "--sample", "test", "-o", "sample.mp3"]) == 1
    one_cannot_write_line(capsys, "sample.mp3")
    assert unchanged(target, before) and no_part_files(tmp_path)


def test_a_voice_sample_named_wav_is_a_wav(tmp_path, capsys):
    target = tmp_path / "x.wav"
    assert cli.main(["voices", "--sample", "test", "-o", str(target)]) == 0
    with wave.open(str(target)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getnframes() > 0
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {target}"


def test_a_voice_sample_with_another_extension_is_refused_before_any_speech(tmp_path, capsys):
    assert cli.main(["voices", "--sample", "test", "-o", str(tmp_path / "x.ogg")]) == 1
    err = capsys.readouterr().err
    assert "writes .mp3 or .wav files" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_voice_sample_to_a_name_ending_in_a_slash_goes_into_that_folder(tmp_path, capsys):
    folder = tmp_path / "samples"
    assert cli.main(["voices", "--sample", "test", "-o", f"{folder}/"]) == 0
    assert folder.is_dir() and (folder / "voices-sample.mp3").read_bytes()[:3] == b"ID3"
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {folder / 'voices-sample.mp3'}"


def test_export_checks_the_target_before_any_work(tmp_path, monkeypatch):
    target = fifo(tmp_path / "early.mp3")
    with pytest.raises(export.ExportError, match="named pipe"):
        export.output_format(target, None, True)


@pytest.mark.skipif(not ROOT, reason="mknod of a device needs root (CI runs as root)")
def test_a_device_given_as_the_output_folder_is_refused_before_any_work_and_named(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = os.lstat(char_device(tmp_path / "full"))
    made: list[str] = []
    monkeypatch.setattr("voiceguide.session.voice_sample", lambda *a, **k: made.append("speech"))
    assert cli.main(["voices", "--sample", "test", "-o", "full"]) == 1
    assert cli.main(["export", "standing-reset", "gentle-relief", "--voice", "test", "-o", "full"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["voiceguide: cannot make the folder 'full': 'full' is a character device, not a folder; nothing "
                   "was written (give -o a folder that exists or can be made)"] * 2
    assert made == [] and unchanged(tmp_path / "full", before)
