"""Output 3, the phone: exported sessions as a site (page, podcast feed, chapters) and its server.

Offers the layers above ``site`` (a folder any static host can serve: the page from ``web/``,
an MP3 and its guide and chapters per session, the feed), ``artwork`` (the library's picture, for
the feed, the page and each MP3) and ``server`` (that folder over HTTP on the local network, behind
a token, with byte ranges).

Nothing is imported here: ``voiceguide --help`` reads the server's default port, and the site
loads the exporter and Pillow.
"""

__all__ = ["artwork", "server", "site"]
