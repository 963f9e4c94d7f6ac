"""Where routines are found: a path, a name in ./scripts, or a name among the built-ins.

A local routine shadows a built-in of the same name, so a physiotherapist can adapt
``standing-reset`` by copying it into ./scripts without renaming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from ..errors import RoutineNotFoundError
from .fields import did_you_mean

SUFFIXES: Final = (".yaml", ".yml")
LOCAL_DIR: Final = Path("scripts")


def builtin_dir() -> Path:
    """The built-in routines: ``voiceguide/scripts`` in an installed wheel, else the repository's ``scripts/``."""
    package = Path(__file__).parent.parent
    packaged = package / "scripts"
    return packaged if packaged.is_dir() else package.parent / "scripts"


def routines_in(folder: Path) -> dict[str, Path]:
    """Name -> script in one folder (``.yaml`` before ``.yml`` when both exist)."""
    if not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    for suffix in reversed(SUFFIXES):
        found.update({p.stem: p for p in folder.glob(f"*{suffix}") if p.is_file()})
    return found


def _known(extra_dir: Path | None = None) -> dict[str, Path]:
    return {**routines_in(builtin_dir()), **routines_in(extra_dir if extra_dir is not None else LOCAL_DIR)}


def find_routine(name_or_path: str) -> Path:
    """An existing script path as given, or ``<name>.yaml`` from ./scripts, then from the built-ins."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    if path.is_dir():
        raise RoutineNotFoundError(f"{name_or_path!r} is a folder; give a routine script (a .yaml file) or its name")
    known = _known()
    name = path.stem if path.suffix in SUFFIXES else name_or_path
    if len(path.parts) == 1 and name in known:  # "standing-reset" or "standing-reset.yaml"
        return known[name]
    names = sorted(known)
    best = did_you_mean(name, names)
    hint = f" (did you mean {best!r}?)" if best else ""
    kind = "no routine file" if path.suffix in SUFFIXES or len(path.parts) > 1 else "no routine named"
    listing = ", ".join(names) if names else "none found"
    raise RoutineNotFoundError(f"{kind} {name_or_path!r}{hint}; the routines are: {listing} "
                               "(`voiceguide list` shows them with their titles)")


def routine_names() -> set[str]:
    """The names ``find_routine`` takes as they are: the built-ins and ./scripts."""
    return set(_known())


def list_routines(extra_dir: Path | None = None) -> list[Path]:
    """The built-ins plus ./scripts (or ``extra_dir``), sorted by name; a local script shadows a built-in."""
    if extra_dir is not None and not Path(extra_dir).is_dir():
        raise RoutineNotFoundError(f"no folder {str(extra_dir)!r}; give a folder that holds routine scripts")
    known = _known(Path(extra_dir) if extra_dir is not None else None)
    return [known[name] for name in sorted(known)]
