"""Session times as a person reads them: ``clock(72.25) == '1:12.2'``."""

from __future__ import annotations


def clock(seconds: float) -> str:
    """72.25 -> '1:12.2' (tenths: what an ear can place); an hour or more: '1:00:05.0'."""
    minutes, rest = divmod(round(seconds, 1), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{rest:04.1f}" if hours else f"{minutes}:{rest:04.1f}"
