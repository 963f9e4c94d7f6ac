"""An exported site over HTTP on the local network: read-only, behind a token, with byte ranges.

Python's ``http.server`` answers a ``Range`` request with the whole file (200), and phones will
not seek, or on iPhones not even play, an ``<audio>`` served that way.  This handler does single
byte ranges (206 with ``Content-Range``; 416 for a range past the end; ``If-Range``), HEAD, ETag
and Last-Modified with 304, and nothing else:

- **Only an allow-list**: the URL paths of the files the site writer wrote, each mapped to its
  file.  Anything else, ``..`` and ``%2e%2e`` included, is 404, and no folder is ever listed.
  A file that has become a symlink pointing out of the site folder is 404 too.
- **A token as the first path segment** of every URL (``/<token>/...``); without it, 403.
- **Read-only** but for one write: POST, PUT, DELETE, PATCH and OPTIONS get 405, except a POST
  of a rating to ``/<token>/rating``, which ``rating.py`` checks (origin, anti-forgery key, size,
  type, rate, shape) and hands to the practice log.  No other request body is ever read, so the
  connection is closed after any other method or any request that carries one: a body is never
  taken for a second request.
- Every answer carries ``nosniff``, a Content-Security-Policy that allows this origin only,
  ``Referrer-Policy: no-referrer`` and ``Cache-Control: private, no-store`` (MP3s: ``private,
  no-cache``), so shared caches keep nothing.
- A fault of its own is one line on stderr, without the request's path (it holds the token); a
  client that goes away is not reported.

Each connection has a thread of its own; a client that drops a download halfway only ends its thread.
"""

from __future__ import annotations

import email.utils
import errno
import hmac
import os
import re
import socket
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final
from urllib.parse import unquote

from ..errors import ServeError
from .rating import KEY_PATH, RATING_PATH, RatingDesk

CHUNK_BYTES: Final = 256 * 1024
TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/rss+xml; charset=utf-8",
    ".mp3": "audio/mpeg",
    ".ics": "text/calendar; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webmanifest": "application/manifest+json",
    ".webm": "video/webm",
    ".mp4": "video/mp4",
    ".svg": "image/svg+xml",
}
SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; media-src 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "private, no-store",  # an answer that sends its own (an MP3's) keeps that one
}
_RANGE: Final = re.compile(r"bytes=(\d{0,100})-(\d{0,100})")  # longer: ignored, never an int() of 5000 digits


@dataclass(frozen=True)
class Site:
    """What is served: a folder and the URL paths (relative, ``""`` for the page) allowed in it."""

    root: Path
    files: Mapping[str, Path]
    """URL path after the token -> file inside ``root``."""
    token: str
    ratings: RatingDesk | None = None
    """Where the phone's ratings go; None: ``/<token>/rating`` is no different from any other path."""


def lan_address() -> str:
    """This machine's address on the local network, found without sending a packet, else 127.0.0.1.

    ``connect()`` on a UDP socket only chooses the route and the local address; nothing is sent.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
    return address if address and not address.startswith("0.") else "127.0.0.1"


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """The one range a ``Range`` header asks for, as (first, last) inclusive.

    None: serve the whole file (no header, one we do not parse, or several ranges, which RFC 9110
    lets a server ignore).  ``"unsatisfiable"``: nothing of the file is in the range (416).
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if not match or match[1] == match[2] == "":
        return None
    if match[1] == "":  # the last n bytes
        n = int(match[2])
        return (max(size - n, 0), size - 1) if n and size else "unsatisfiable"
    first = int(match[1])
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    if match[2] and int(match[2]) < first:
        return None  # invalid: ignored, as the RFC says
    return (first, last) if first < size else "unsatisfiable"


class Handler(BaseHTTPRequestHandler):
    server_version = "voiceguide"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection gives its thread back
    site: Site  # set on the subclass made by ``make_server``

    # ------------------------------------------------------------------ refusals

    def _refuse(self, status: HTTPStatus, extra: dict[str, str] | None = None) -> None:
        body = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_only(self) -> None:
        self.close_connection = True  # the body is not read: it must not be taken for the next request
        self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "GET, HEAD"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _read_only

    # ------------------------------------------------------------------ the one write

    def _rating_path(self) -> str | None:
        """``rating`` or ``rating-key`` when the request is for one of them (a token right or wrong)."""
        segments = self.path.split("/")
        if self.site.ratings is None or len(segments) != 3 or segments[0] or segments[2] not in (RATING_PATH, KEY_PATH):
            return None
        return segments[2]

    def _token_is_right(self) -> bool:
        given = self.path.split("/")[1].encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self.site.token.encode())

    def do_POST(self) -> None:
        desk = self.site.ratings
        if desk is None or self._rating_path() != RATING_PATH:
            self._read_only()
            return
        self.close_connection = True  # a refused body is not read; an accepted one ends the exchange anyway
        if not self._token_is_right():
            self._refuse(HTTPStatus.FORBIDDEN)
            return
        status = desk.receive(self.headers, self.client_address[0], self.rfile.read)
        if status is not HTTPStatus.NO_CONTENT:
            self._refuse(status)
            return
        self.send_response(status)
        self.end_headers()

    def _rating_get(self) -> bool:
        """Answer a GET or HEAD for the rating's paths: the key as JSON, 405 for the POST-only path."""
        which = self._rating_path()
        if which is None or self.site.ratings is None:
            return False
        if not self._token_is_right():
            self._refuse(HTTPStatus.FORBIDDEN)
        elif which == RATING_PATH:
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "POST"})
        else:
            body = self.site.ratings.key_json()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        return True

    def version_string(self) -> str:
        return self.server_version

    def send_header(self, keyword: str, value: str) -> None:
        if not hasattr(self, "_sent"):
            self._sent: set[str] = set()
        self._sent.add(keyword.lower())
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        headers = getattr(self, "headers", None)
        if headers is not None and ("Content-Length" in headers or "Transfer-Encoding" in headers):
            self.close_connection = True  # a body we never read: end here rather than parse it as a request
        if self.close_connection and "connection" not in getattr(self, "_sent", ()):
            self.send_header("Connection", "close")
        for key, value in SECURITY_HEADERS.items():
            if key.lower() not in getattr(self, "_sent", ()):
                self.send_header(key, value)
        self._sent = set()
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the terminal shows the address; a log would also repeat the token

    # ------------------------------------------------------------------ GET and HEAD

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if self._rating_get():
            return
        path = self._file_for(self.path)
        if isinstance(path, HTTPStatus):
            if path is HTTPStatus.MOVED_PERMANENTLY:
                self.send_response(path)
                self.send_header("Location", f"/{self.site.token}/")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._refuse(path)
            return
        try:
            f = open(path, "rb")
        except OSError:
            self._refuse(HTTPStatus.NOT_FOUND)
            return
        with f:
            self._send_file(f, path)

    def _file_for(self, raw: str) -> Path | HTTPStatus:
        """The file a request path names, or why not (403 without the token, 404 otherwise)."""
        site = self.site
        raw = raw.split("?", 1)[0].split("#", 1)[0]
        segments = raw.split("/")
        given = segments[1].encode("utf-8", "surrogateescape") if len(segments) > 1 else b""
        if len(segments) < 2 or segments[0] != "" or not hmac.compare_digest(given, site.token.encode()):
            return HTTPStatus.FORBIDDEN
        if len(segments) == 2:
            return HTTPStatus.MOVED_PERMANENTLY  # /token -> /token/
        try:
            rest = unquote("/".join(segments[2:]), errors="strict")
        except UnicodeDecodeError:
            return HTTPStatus.NOT_FOUND
        path = site.files.get(rest)
        if path is None:
            return HTTPStatus.NOT_FOUND
        try:  # the allow-list names files in the folder; one swapped for a link out of it is not served
            real = path.resolve(strict=True)
            if not real.is_relative_to(site.root.resolve()) or not real.is_file():
                return HTTPStatus.NOT_FOUND
        except (OSError, RuntimeError):
            return HTTPStatus.NOT_FOUND
        return real

    def _send_file(self, f, path: Path) -> None:
        stat = os.fstat(f.fileno())
        size = stat.st_size
        etag = f'"{size:x}-{stat.st_mtime_ns:x}"'
        modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        common = {
            "ETag": etag,
            "Last-Modified": modified,
            "Accept-Ranges": "bytes",
            "Cache-Control": "private, no-cache" if path.suffix == ".mp3" else "private, no-store",
        }
        if etag in [t.strip() for t in self.headers.get("If-None-Match", "").split(",")]:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for key, value in common.items():
                self.send_header(key, value)
            self.end_headers()
            return
        wanted = byte_range(self.headers.get("Range"), size)
        if_range = self.headers.get("If-Range")
        if wanted is not None and if_range and if_range not in (etag, modified):
            wanted = None  # the file changed since the client's first part: send it whole
        if wanted == "unsatisfiable":
            kept = {k: v for k, v in common.items() if k != "Cache-Control"}  # a refusal is never kept
            self._refuse(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, {"Content-Range": f"bytes */{size}", **kept})
            return
        first, last = wanted if isinstance(wanted, tuple) else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if isinstance(wanted, tuple) else HTTPStatus.OK)
        self.send_header("Content-Type", TYPES.get(path.suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(last - first + 1))
        if isinstance(wanted, tuple):
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        for key, value in common.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        f.seek(first)
        left = last - first + 1
        try:
            while left > 0:
                chunk = f.read(min(CHUNK_BYTES, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client went away halfway (a seek, a closed tab): that is all


class Server(ThreadingHTTPServer):
    daemon_threads = True  # Ctrl-C does not wait for a phone's open connection
    block_on_close = False
    request_queue_size = 1024
    """The listen backlog (socketserver's default is 5): a household's phones and a podcast app's
    parallel downloads arriving at once all wait their turn, instead of on the kernel's SYN retries
    (1, 3, 7, 15 s ...).  The kernel caps it at ``net.core.somaxconn`` (4096 on Linux 5.4 and later)."""

    def handle_error(self, request, client_address) -> None:
        """A client that goes away is its own business; a fault of ours is one line (never the path:
        it holds the token), and the server goes on."""
        exc = sys.exc_info()[1]
        if exc is None or isinstance(exc, (ConnectionError, TimeoutError)):
            return
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
        print(f"voiceguide: serve: a request failed ({type(exc).__name__}{at}); still serving", file=sys.stderr)


def make_server(site: Site, host: str, port: int) -> Server:
    """A server bound to ``host:port`` (0: any free port); raises OSError when that cannot be."""
    handler = type("SiteHandler", (Handler,), {"site": site})
    return Server((host, port), handler)


def bind(site: Site, host: str, port: int) -> tuple[Server, bool]:
    """The server on ``port``, or on a free port when that one is taken: (server, moved)."""
    try:
        try:
            return make_server(site, host, port), False
        except OSError as exc:
            if port == 0 or exc.errno != errno.EADDRINUSE:
                raise
        return make_server(site, host, 0), True
    except OSError as exc:
        raise ServeError(f"cannot listen on {host!r} port {port}: {exc.strerror or exc}; give --host an address "
                         "of this computer (127.0.0.1, or its network address) and a --port above 1023") from None


SHUTDOWN_WAIT_S: Final = 0.05
"""How often the serving loop looks whether ``shutdown()`` was asked (socketserver's default, 0.5 s, made
every stop wait that long: Ctrl-C on ``serve``, and each test's server); an idle server wakes 20 times a
second for it, a few microseconds each."""


def serve_in_thread(server: Server) -> threading.Thread:
    """Serve on a background thread (tests, benchmarks); ``server.shutdown()`` stops it."""
    thread = threading.Thread(target=server.serve_forever, args=(SHUTDOWN_WAIT_S,), name="voiceguide-serve",
                              daemon=True)
    thread.start()
    return thread
