"""The phone: a site folder (page, podcast feed, chapters) written from exported sessions, and its server."""

from typing import Final

DEFAULT_PORT: Final = 8737
"""Where ``serve`` listens unless told (here, not in ``server``, so ``--help`` need not import http.server)."""

__all__ = ["DEFAULT_PORT"]
