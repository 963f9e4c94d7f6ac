"""The server's one write: a 0-10 rating from the phone page's finished view, for the practice log.

Being the only request that changes anything on the computer, it is a security boundary, and it
accepts exactly one shape of request.  The page first reads a per-serve anti-forgery key from
``GET /<token>/rating-key`` (JSON, ``no-store``, no CORS headers: a page from another origin
cannot read it), then sends

    POST /<token>/rating
    Content-Type: application/json
    {"session": "<stem>", "rating": <0-10>, "key": "<key>"}

Checked in this order, each refusal answered with its status before anything is written, and
before the body is read where the headers suffice:

1. the token (403; any other POST path stays 405, as every write did before);
2. ``Origin`` equal to the request's own origin (``http://`` + ``Host``), or without ``Origin``,
   ``Sec-Fetch-Site: same-origin`` (403);
3. a ``Content-Length`` (411; a chunked body too), of at most ``MAX_BODY_BYTES`` (413);
4. ``Content-Type: application/json`` (415);
5. the rate: at most ``PER_MINUTE`` such requests a minute, ``PER_MINUTE_PER_CLIENT`` from one
   address (429), counted before the body is read;
6. the body: UTF-8 JSON, an object of exactly the three keys, a string, an integer from 0 to 10
   and a string, no key twice (400);
7. the key (403, compared in constant time);
8. the session: one the server serves (404).

Then the rating is stored (204), or, when the log cannot take it, 503 and one line on stderr.
"""

from __future__ import annotations

import hmac
import json
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from email.message import Message
from http import HTTPStatus
from typing import Final

from ..errors import VoiceguideError
from ..log.store import MAX_RATING, MIN_RATING

KEY_PATH: Final = "rating-key"
RATING_PATH: Final = "rating"
MAX_BODY_BYTES: Final = 512
PER_MINUTE: Final = 10
PER_MINUTE_PER_CLIENT: Final = 5
WINDOW_S: Final = 60.0
FIELDS: Final = frozenset({"session", "rating", "key"})


class RateLimit:
    """At most ``total`` requests in any ``window_s``, and ``per_client`` from one address; thread-safe."""

    def __init__(self, total: int = PER_MINUTE, per_client: int = PER_MINUTE_PER_CLIENT, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic):
        self.total, self.per_client, self.window_s, self.clock = total, per_client, window_s, clock
        self._all: deque[float] = deque()
        self._by_client: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Count one request from ``client``; False (and not counted) when it is one too many."""
        with self._lock:
            now = self.clock()
            for times in (self._all, *self._by_client.values()):
                while times and times[0] <= now - self.window_s:
                    times.popleft()
            self._by_client = {c: t for c, t in self._by_client.items() if t}  # forget quiet addresses
            mine = self._by_client.setdefault(client, deque())
            if len(self._all) >= self.total or len(mine) >= self.per_client:
                return False
            self._all.append(now)
            mine.append(now)
            return True


class _Refused(Exception):
    def __init__(self, status: HTTPStatus):
        self.status = status


def _no_constants(name: str) -> object:
    raise _Refused(HTTPStatus.BAD_REQUEST)  # NaN, Infinity: not JSON


def _one_each(pairs: list[tuple[str, object]]) -> dict[str, object]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise _Refused(HTTPStatus.BAD_REQUEST)
    return dict(pairs)


class RatingDesk:
    """The rating endpoint of one ``serve``: its key, the sessions it serves, where ratings go."""

    def __init__(self, sessions: Collection[str], store: Callable[[str, int], None], *,
                 limit: RateLimit | None = None):
        self.key = secrets.token_urlsafe(24)
        self.sessions = sessions
        """The stems of the sessions served (``library.json``'s ``stem``); may be filled after start."""
        self.store = store
        """Keeps one rating: (session stem, 0-10); raises a ``VoiceguideError`` when it cannot."""
        self.limit = limit or RateLimit()

    def key_json(self) -> bytes:
        return json.dumps({"key": self.key}).encode()

    def receive(self, headers: Message, client: str, read: Callable[[int], bytes]) -> HTTPStatus:
        """Check a ``POST /<token>/rating`` whose token is right (steps 2 to 8 above), keep its
        rating, and return the status to answer; ``read(n)`` reads n bytes of the body."""
        try:
            length = self._vet_headers(headers)
            if not self.limit.allow(client):
                return HTTPStatus.TOO_MANY_REQUESTS
            session, rating = self._vet_body(read(length) if length else b"")
        except _Refused as refused:
            return refused.status
        try:
            self.store(session, rating)
        except VoiceguideError as exc:
            print(f"voiceguide: serve: a rating from the phone was not kept: {exc}", file=sys.stderr)
            return HTTPStatus.SERVICE_UNAVAILABLE
        return HTTPStatus.NO_CONTENT

    def _vet_headers(self, headers: Message) -> int:
        """The body's length once the headers pass (steps 2 to 4)."""
        origins, host = headers.get_all("Origin") or [], headers.get_all("Host") or []
        if len(origins) > 1 or len(host) != 1:
            raise _Refused(HTTPStatus.FORBIDDEN)
        if origins:
            if origins[0].strip().lower() != f"http://{host[0].strip()}".lower():
                raise _Refused(HTTPStatus.FORBIDDEN)
        elif (headers.get("Sec-Fetch-Site") or "").strip().lower() != "same-origin":
            raise _Refused(HTTPStatus.FORBIDDEN)
        lengths = headers.get_all("Content-Length") or []
        if "Transfer-Encoding" in headers or not lengths:
            raise _Refused(HTTPStatus.LENGTH_REQUIRED)
        text = lengths[0].strip()
        if len(lengths) > 1 or not (text.isascii() and text.isdigit()) or len(text) > 10:
            raise _Refused(HTTPStatus.BAD_REQUEST)
        length = int(text)
        if length > MAX_BODY_BYTES:
            raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        kind, _, params = (headers.get("Content-Type") or "").partition(";")
        charset = params.strip().lower().replace(" ", "")
        if kind.strip().lower() != "application/json" or charset not in ("", "charset=utf-8"):
            raise _Refused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
        return length

    def _vet_body(self, body: bytes) -> tuple[str, int]:
        """(session, rating) from a body of exactly the right shape and key (steps 6 to 8)."""
        try:
            data = json.loads(body.decode("utf-8"), object_pairs_hook=_one_each, parse_constant=_no_constants)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _Refused(HTTPStatus.BAD_REQUEST) from None
        if not isinstance(data, dict) or set(data) != FIELDS:
            raise _Refused(HTTPStatus.BAD_REQUEST)
        session, rating, key = data["session"], data["rating"], data["key"]
        if not (isinstance(session, str) and isinstance(key, str) and type(rating) is int
                and MIN_RATING <= rating <= MAX_RATING):
            raise _Refused(HTTPStatus.BAD_REQUEST)
        if not hmac.compare_digest(key.encode("utf-8", "surrogateescape"), self.key.encode()):
            raise _Refused(HTTPStatus.FORBIDDEN)
        if session not in self.sessions:
            raise _Refused(HTTPStatus.NOT_FOUND)
        return session, rating
