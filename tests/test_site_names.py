"""What a site folder holds when routines' names meet the site's own files, and when routines go.

Real ``voiceguide export --site`` runs (the test voice) on real folders.
"""

from __future__ import annotations

import json

import pytest
from helpers import invoke

ROUTINE = "title: {title}\ncaution: false\nsteps:\n  - name: Hold it\n    hold: 3\n"


def script(folder, stem: str, title: str | None = None):
    folder.mkdir(exist_ok=True)
    path = folder / f"{stem}.yaml"
    path.write_text(ROUTINE.format(title=title or stem.capitalize()))
    return path


@pytest.mark.parametrize("stem, over", [("library", "the site's own library.json"),
                                        (".voiceguide-site", "the site's own .voiceguide-site.json")])
def test_a_routine_named_like_the_sites_own_files_is_refused_before_anything_is_written(tmp_path, stem, over):
    good, clashing = script(tmp_path / "scripts", "gentle"), script(tmp_path / "scripts", stem)
    site = tmp_path / "site"
    done = invoke("export", str(good), str(clashing), "--voice", "test", "--site", str(site))
    assert done.returncode == 1
    assert done.stderr == (f"voiceguide: routine {stem!r} ({clashing}) would write over {over}; give the script "
                           "another file name or publish it separately\n")
    assert not site.exists()


def test_a_routine_named_like_the_sites_own_files_leaves_an_existing_site_as_it_was(tmp_path):
    good = script(tmp_path / "scripts", "gentle")
    site = tmp_path / "site"
    assert invoke("export", str(good), "--voice", "test", "--site", str(site)).returncode == 0
    before = {p.name: p.read_bytes() for p in site.iterdir()}
    done = invoke("export", str(good), str(script(tmp_path / "scripts", "library")), "--voice", "test",
                  "--site", str(site))
    assert done.returncode == 1 and "would write over the site's own library.json" in done.stderr
    assert {p.name: p.read_bytes() for p in site.iterdir()} == before
    assert [s["stem"] for s in json.loads((site / "library.json").read_text())["sessions"]] == ["gentle"]


def test_two_routines_whose_files_meet_are_refused(tmp_path):
    first, second = script(tmp_path / "scripts", "x"), script(tmp_path / "scripts", "x.chapters")
    done = invoke("export", str(first), str(second), "--voice", "test", "--site", str(tmp_path / "site"))
    assert done.returncode == 1
    assert done.stderr == (f"voiceguide: routine 'x.chapters' ({second}) would write over x.chapters.json of "
                           "routine 'x'; give the script another file name or publish it separately\n")


# --------------------------------------------------------------------------- routines that go


def test_a_second_export_with_fewer_routines_removes_what_the_first_wrote_for_them_and_nothing_else(tmp_path):
    scripts, site = tmp_path / "scripts", tmp_path / "site"
    kept, dropped = script(scripts, "kept"), script(scripts, "dropped")
    assert invoke("export", str(kept), str(dropped), "--voice", "test", "--site", str(site)).returncode == 0
    first = {p.name for p in site.iterdir()}
    dropped_files = {"dropped.mp3", "dropped.chapters.json", "dropped.json"}
    assert dropped_files <= first
    (site / "notes.txt").write_text("mine")  # the user's own, beside the sessions
    (site / "dropped.txt").write_text("mine too")
    (site / "photos").mkdir()
    outside = tmp_path / "outside.mp3"
    outside.write_text("not the site's")
    manifest = json.loads((site / ".voiceguide-site.json").read_text())
    manifest["episodes"]["../outside"] = manifest["episodes"]["dropped"]  # a damaged manifest: never followed
    (site / ".voiceguide-site.json").write_text(json.dumps(manifest))
    done = invoke("export", str(kept), "--voice", "test", "--site", str(site))
    assert done.returncode == 0, done.stderr
    assert {p.name for p in site.iterdir()} == first - dropped_files | {"notes.txt", "dropped.txt", "photos"}
    assert outside.read_text() == "not the site's"
    assert list(json.loads((site / ".voiceguide-site.json").read_text())["episodes"]) == ["kept"]
    assert [s["stem"] for s in json.loads((site / "library.json").read_text())["sessions"]] == ["kept"]
    assert "dropped" not in (site / "feed.xml").read_text()
