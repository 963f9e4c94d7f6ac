"""Output 3, the phone: exported sessions as a site (page, podcast feed, chapters) and its server.

Offers the layers above ``site`` (a folder any static host can serve: the page from ``web/``,
an MP3 and its guide and chapters per session, the feed), ``artwork`` (the library's picture, for
the feed, the page and each MP3) and ``server`` (that folder over HTTP on the local network, behind
a token, with byte ranges), and ``DEFAULT_PORT``.

Nothing else is imported here: ``voiceguide --help`` reads the default port without loading
http.server, and the site loads the exporter and Pillow.
"""

from typing import Final

DEFAULT_PORT: Final = 8737
"""Where ``serve`` listens unless told (here, not in ``server``, so ``--help`` need not import http.server)."""

__all__ = ["DEFAULT_PORT", "artwork", "server", "site"]
