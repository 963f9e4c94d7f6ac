"""What the command line (and a programme, for its sessions) may set for a session.

Apart from ``session.py`` so that commands that only read (``today``, ``programme plan``) need not
import the pipeline to hold their options.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .timeline.plan import DEFAULT_LEAD_IN_S


@dataclass(frozen=True)
class Options:
    """What the command line may override; None means "as the script says, else the default"."""

    voice: str | None = None
    rate: float | None = None
    duration_s: float | None = None
    lead_in_s: float = DEFAULT_LEAD_IN_S
    cache_dir: Path | None = None
    cue_level_lu: float | None = None
    bed: str | None = None
    """A generated bed's name or an audio file's path (relative to the working folder)."""
    bed_level_lu: float | None = None
    no_bed: bool = False
    """No bed, whatever the script says."""


def from_args(args) -> Options:
    """The options a command's parsed arguments give (those it has no option for: None)."""
    return Options(
        voice=getattr(args, "voice", None),
        rate=getattr(args, "rate", None),
        duration_s=getattr(args, "duration", None),
        lead_in_s=getattr(args, "lead_in", DEFAULT_LEAD_IN_S),
        cache_dir=args.cache_dir,
        cue_level_lu=getattr(args, "cue_level", None),
        bed=getattr(args, "bed", None),
        bed_level_lu=getattr(args, "bed_level", None),
        no_bed=getattr(args, "no_bed", False),
    )
