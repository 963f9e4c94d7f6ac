"""The server's one write, the phone's rating, as a stranger and as the page meet it: a real server on
127.0.0.1, a real HTTP client, the practice log a real SQLite file."""

from __future__ import annotations

import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from helpers import REPO

from voiceguide.log import PracticeLog
from voiceguide.phone import server, site
from voiceguide.phone.rating import MAX_BODY_BYTES, PER_MINUTE, PER_MINUTE_PER_CLIENT, RateLimit
from voiceguide.phone.site import Episode
from voiceguide.practice import rating_desk

TOKEN = "rating-test-token-0123"
SQL = "x'); DROP TABLE plays; --"


def episode(stem: str, title: str) -> Episode:
    return Episode(stem=stem, title=title, summary="", duration_s=120.25, chapter_count=3, mp3_bytes=1,
                   mp3_sha256="0" * 64, published="Thu, 03 Dec 2026 07:00:00 GMT")


@pytest.fixture
def log_home(tmp_path, monkeypatch) -> PracticeLog:
    """The practice log of this test alone, as ``serve`` finds it."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("VOICEGUIDE_LOG", raising=False)
    return PracticeLog()


def start(folder: Path, limit: RateLimit | None = None):
    folder.mkdir(exist_ok=True)
    files = site.write_site(folder, [])
    served = [episode("standing-reset", "Standing reset"), episode(SQL, "Robert'); DROP TABLE plays;--")]
    desk = rating_desk({e.stem: e for e in served})
    if limit is not None:
        desk.limit = limit
    httpd = server.make_server(server.Site(folder, files, TOKEN, desk), "127.0.0.1", 0)
    server.serve_in_thread(httpd)
    return httpd, desk


@pytest.fixture(scope="module")
def one_server(tmp_path_factory):
    """A server whose rate limit is out of the way (the flood tests have their own)."""
    httpd, desk = start(tmp_path_factory.mktemp("site"), RateLimit(total=10_000, per_client=10_000))
    yield httpd, desk
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def served(one_server, log_home):
    """That server, writing to this test's own log (the log's place is read at each rating)."""
    return (*one_server, log_home)


def exchange(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             source: str = "127.0.0.1") -> tuple[int, dict, bytes]:
    """One request exactly as given: no header added but Host (http.client's own) and those in ``headers``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            connection.putheader(key, value)
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def page_headers(port: int, body: bytes, **changes: str | None) -> dict:
    """What the page's fetch sends: its own origin, JSON, the length."""
    headers = {"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json",
               "Content-Length": str(len(body))}
    for key, value in changes.items():
        key = key.replace("_", "-")
        if value is None:
            headers.pop(key, None)
        else:
            headers[key] = value
    return headers


def rating_body(desk, session: str = "standing-reset", rating: object = 7, **extra) -> bytes:
    return json.dumps({"session": session, "rating": rating, "key": desk.key, **extra}).encode()


def post(httpd, body: bytes, path: str = f"/{TOKEN}/rating", source: str = "127.0.0.1", **changes: str | None):
    port = httpd.server_address[1]
    return exchange(port, "POST", path, body, page_headers(port, body, **changes), source)


def rows(log: PracticeLog) -> list[tuple]:
    if not log.path.exists():
        return []
    with closing(sqlite3.connect(log.path)) as db, db:
        return db.execute("SELECT routine, title, finished, source, rating, played_s, planned_s FROM plays").fetchall()


# --------------------------------------------------------------------------- what the page does


def test_the_key_is_json_kept_by_no_cache_and_readable_by_no_other_origin(served):
    httpd, desk, _ = served
    status, headers, body = exchange(httpd.server_address[1], "GET", f"/{TOKEN}/rating-key",
                                     headers={"Origin": "http://evil.example"})
    assert status == 200 and json.loads(body) == {"key": desk.key} and len(desk.key) == 32
    assert headers["content-type"] == "application/json" and headers["cache-control"] == "no-store"
    assert not [h for h in headers if h.startswith("access-control-")]


def test_a_rating_from_the_page_is_204_and_a_row_from_the_phone_in_the_sqlite_file(served):
    httpd, desk, log = served
    status, headers, body = post(httpd, rating_body(desk, rating=3))
    assert (status, body) == (204, b"")
    assert rows(log) == [("standing-reset", "Standing reset", 1, "phone", 3, None, 120.25)]
    entry = log.entries()[0]
    assert entry.finished and entry.stopped_step is None


def test_without_origin_same_origin_fetch_metadata_is_enough(served):
    httpd, desk, log = served
    assert post(httpd, rating_body(desk, rating=0), Origin=None, Sec_Fetch_Site="same-origin")[0] == 204
    assert post(httpd, rating_body(desk), Content_Type="application/json; charset=UTF-8")[0] == 204
    assert [r[4] for r in rows(log)] == [0, 7]


def test_sql_in_a_served_sessions_name_is_stored_as_data(served):
    httpd, desk, log = served
    assert post(httpd, rating_body(desk, session=SQL))[0] == 204
    assert rows(log) == [(SQL, "Robert'); DROP TABLE plays;--", 1, "phone", 7, None, 120.25)]


# --------------------------------------------------------------------------- what it refuses, writing nothing


BAD_JSON = [
    b"", b"{", b"null", b"[]", b"7", b'"rating"', b"\xff\xfe{}", b'{"session": "standing-reset"}',
    b'{"session": "standing-reset", "rating": 7, "key": "K", "extra": 1}',
    b'{"session": "standing-reset", "rating": "7", "key": "K"}',
    b'{"session": "standing-reset", "rating": 7.0, "key": "K"}',
    b'{"session": "standing-reset", "rating": true, "key": "K"}',
    b'{"session": "standing-reset", "rating": 11, "key": "K"}',
    b'{"session": "standing-reset", "rating": -1, "key": "K"}',
    b'{"session": "standing-reset", "rating": NaN, "key": "K"}',
    b'{"session": "standing-reset", "rating": null, "key": "K"}',
    b'{"session": ["standing-reset"], "rating": 7, "key": "K"}',
    b'{"session": "standing-reset", "rating": 7, "key": 5}',
    b'{"session": "x", "session": "standing-reset", "rating": 7, "key": "K"}',
    b"[" * 200 + b"]" * 200,
]


@pytest.mark.parametrize("body", BAD_JSON, ids=range(len(BAD_JSON)))
def test_bad_json_or_the_wrong_shape_is_400(served, body):
    httpd, desk, log = served
    assert post(httpd, body.replace(b'"K"', json.dumps(desk.key).encode()))[0] == 400
    assert rows(log) == []


@pytest.mark.parametrize("changes", [
    {"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": "https://127.0.0.1:{port}"},
    {"Origin": "http://127.0.0.1:{port}.evil.example"}, {"Origin": "http://localhost:{port}"},
    {"Origin": None}, {"Origin": None, "Sec-Fetch-Site": "cross-site"}, {"Origin": None, "Sec-Fetch-Site": "same-site"},
    {"Origin": "http://evil.example", "Sec-Fetch-Site": "same-origin"},
], ids=["other", "null", "https", "suffix", "other-name", "none", "cross-site", "same-site", "other-but-fetch-says-same"])
def test_another_origin_or_none_is_403(served, changes):
    httpd, desk, log = served
    port = httpd.server_address[1]
    changes = {k.replace("-", "_"): v.format(port=port) if v else v for k, v in changes.items()}
    assert post(httpd, rating_body(desk), **changes)[0] == 403
    assert rows(log) == []


def test_a_wrong_token_or_key_is_403(served):
    httpd, desk, log = served
    port = httpd.server_address[1]
    for token in (TOKEN[:-1], TOKEN + "x", "-", TOKEN.upper(), "%72ating-test-token-0123"):
        assert post(httpd, rating_body(desk), path=f"/{token}/rating")[0] == 403
        assert exchange(port, "GET", f"/{token}/rating-key")[0] == 403
    for path in ("/rating", "//rating", f"/x/{TOKEN}/rating"):  # no token where it goes: another path
        assert post(httpd, rating_body(desk), path=path)[0] == 405
    for key in ("", desk.key[:-1], desk.key + "x", desk.key.upper(), TOKEN):
        assert post(httpd, rating_body(desk) .replace(desk.key.encode(), key.encode()))[0] == 403
    assert rows(log) == []


@pytest.mark.parametrize("session", [SQL.replace("x", "y"), "standing-reset.mp3", "../standing-reset", "", "STANDING-RESET"])
def test_a_session_the_server_does_not_serve_is_404_and_sql_there_is_only_data(served, session):
    httpd, desk, log = served
    assert post(httpd, rating_body(desk, session=session))[0] == 404
    assert rows(log) == []
    assert post(httpd, rating_body(desk))[0] == 204  # the table is there, whole
    assert len(rows(log)) == 1


def test_a_body_over_512_bytes_is_413_before_it_is_read(served):
    httpd, desk, log = served
    padded = rating_body(desk)[:-1] + b" " * (MAX_BODY_BYTES + 1 - len(rating_body(desk))) + b"}"
    assert len(padded) == MAX_BODY_BYTES + 1
    assert post(httpd, padded)[0] == 413
    assert post(httpd, padded[:-2] + b"}")[0] == 204  # 512 bytes: taken
    with socket.create_connection(("127.0.0.1", httpd.server_address[1]), timeout=5) as client:  # a gigabyte promised
        client.sendall(f"POST /{TOKEN}/rating HTTP/1.1\r\nHost: 127.0.0.1:{httpd.server_address[1]}\r\n"
                       f"Origin: http://127.0.0.1:{httpd.server_address[1]}\r\nContent-Type: application/json\r\n"
                       "Content-Length: 1000000000\r\n\r\n".encode())
        answer = client.recv(4096)  # at once, with nothing of the body sent
    assert answer.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in answer
    assert len(rows(log)) == 1


def test_no_length_is_411_and_a_length_that_is_not_a_number_is_400(served):
    httpd, desk, log = served
    port = httpd.server_address[1]
    body = rating_body(desk)
    assert exchange(port, "POST", f"/{TOKEN}/rating", None, page_headers(port, body, Content_Length=None))[0] == 411
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    headers = page_headers(port, body, Content_Length=None, Transfer_Encoding="chunked")
    assert exchange(port, "POST", f"/{TOKEN}/rating", chunked, headers)[0] == 411
    for length in ("-1", "7x", "0x20", " ", "1" * 30):
        assert exchange(port, "POST", f"/{TOKEN}/rating", body, page_headers(port, body, Content_Length=length))[0] \
            == 400
    assert rows(log) == []


@pytest.mark.parametrize("kind", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                  "application/json; charset=latin-1", "application/jsonp", "text/json"])
def test_a_body_that_is_not_json_by_its_type_is_415(served, kind):
    httpd, desk, log = served
    assert post(httpd, rating_body(desk), Content_Type=kind)[0] == 415
    assert rows(log) == []


@pytest.mark.parametrize("method, path", [
    ("GET", "rating"), ("HEAD", "rating"), ("PUT", "rating"), ("DELETE", "rating"), ("PATCH", "rating"),
    ("OPTIONS", "rating"), ("POST", "rating-key"), ("POST", ""), ("POST", "index.html"), ("POST", "rating/"),
    ("POST", "rating?x=1"), ("PUT", "rating-key"),
])
def test_other_methods_and_paths_are_405_without_cors(served, method, path):
    httpd, desk, log = served
    body = rating_body(desk)
    status, headers, _ = exchange(httpd.server_address[1], method, f"/{TOKEN}/{path}", body,
                                  page_headers(httpd.server_address[1], body, Access_Control_Request_Method="POST"))
    assert status == 405 and "allow" in headers
    assert not [h for h in headers if h.startswith("access-control-")]
    assert rows(log) == []


def test_a_flood_is_429_past_the_limits_per_address_and_per_server(tmp_path, log_home):
    """A bounded loop from one address, then from others: the per-address limit, then the server's."""
    httpd, desk = start(tmp_path / "site")
    try:
        statuses = [post(httpd, rating_body(desk))[0] for _ in range(3 * PER_MINUTE_PER_CLIENT)]
        assert statuses == [204] * PER_MINUTE_PER_CLIENT + [429] * (2 * PER_MINUTE_PER_CLIENT)
        others = [post(httpd, rating_body(desk), source=f"127.0.0.{n}")[0] for n in range(2, 2 + PER_MINUTE)]
        assert others == [204] * (PER_MINUTE - PER_MINUTE_PER_CLIENT) + [429] * PER_MINUTE_PER_CLIENT
        assert len(rows(log_home)) == PER_MINUTE
        assert post(httpd, b"{", source="127.0.0.99")[0] == 429  # before its body is read
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_rate_limit_forgets_after_its_window():
    now = [0.0]
    limit = RateLimit(total=3, per_client=2, window_s=60.0, clock=lambda: now[0])
    assert [limit.allow("a") for _ in range(3)] == [True, True, False]
    assert [limit.allow("b") for _ in range(2)] == [True, False]  # the server's 3
    now[0] = 59.9
    assert not limit.allow("c")
    now[0] = 60.0
    assert [limit.allow("a"), limit.allow("a"), limit.allow("b")] == [True, True, True]


def test_a_log_that_cannot_take_the_rating_is_503_one_line_and_untouched(tmp_path, log_home, capfd):
    log_home.path.parent.mkdir(parents=True)
    log_home.path.write_bytes(b"not a database\n" * 50)
    before = log_home.path.read_bytes()
    httpd, desk = start(tmp_path / "site")
    try:
        assert "ratings from the phone will not be kept" in capfd.readouterr().err
        assert post(httpd, rating_body(desk))[0] == 503
        err = capfd.readouterr().err
        assert err.count("\n") == 1 and "a rating from the phone was not kept: the practice log " in err
        assert TOKEN not in err
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert log_home.path.read_bytes() == before


def test_with_the_log_off_a_rating_is_taken_and_kept_nowhere(tmp_path, log_home, monkeypatch):
    monkeypatch.setenv("VOICEGUIDE_LOG", "off")
    httpd, desk = start(tmp_path / "site")
    try:
        assert post(httpd, rating_body(desk))[0] == 204
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert not log_home.path.parent.exists()


# --------------------------------------------------------------------------- voiceguide serve, as a user runs it


def test_voiceguide_serve_takes_a_rating_into_the_log_and_refuses_a_forged_one(tmp_path):
    data = tmp_path / "data"
    script = tmp_path / "short.yaml"  # the rating is the point, not the session: a short one is made quickly
    script.write_text("title: Short\ncaution: false\nsteps:\n  - name: Hold it\n    hold: 3\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "serve", str(script), "--voice", "test", "--host", "127.0.0.1",
         "--port", "0", "--site", str(tmp_path / "site")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "XDG_DATA_HOME": str(data)})
    try:
        url = ""
        while not url:
            line = process.stdout.readline()
            assert line, process.stderr.read()
            url = line.strip() if line.strip().startswith("http://") else ""
        port, token = int(url.split(":")[2].split("/")[0]), url.rstrip("/").rsplit("/", 1)[1]
        status, _, body = exchange(port, "GET", f"/{token}/rating-key")
        key = json.loads(body)["key"]
        deadline = time.monotonic() + 120
        while True:  # serve answers at once and makes the session meanwhile: only a finished one is rated
            library = json.loads(exchange(port, "GET", f"/{token}/library.json")[2])
            if not library["sessions"][0].get("making"):
                break
            assert time.monotonic() < deadline, library
            time.sleep(0.1)
        stem = library["sessions"][0]["stem"]
        good = json.dumps({"session": stem, "rating": 2, "key": key}).encode()
        forged = json.dumps({"session": stem, "rating": 9, "key": "x" * 32}).encode()
        assert exchange(port, "POST", f"/{token}/rating", forged, page_headers(port, forged))[0] == 403
        assert exchange(port, "POST", f"/{token}/rating", good, page_headers(port, good, Origin="http://evil"))[0] == 403
        assert exchange(port, "POST", f"/{token}/rating", good, page_headers(port, good))[0] == 204
        got = PracticeLog(data / "voiceguide" / "practice.sqlite3").entries()
        assert [(e.routine, e.title, e.rating, e.source, e.finished) for e in got] == [
            ("short", "Short", 2, "phone", True)]
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_the_page_asks_on_the_terminals_scale_so_every_rating_in_the_log_means_the_same():
    """One log, two places to rate: 0 must be no pain on the phone as on the terminal."""
    from voiceguide.log import RATING_QUESTION
    from voiceguide.phone.site import WEB_DIR

    assert "0 (no pain)" in RATING_QUESTION
    page = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    question = page.split('<p id="rate-question">', 1)[1].split("</p>", 1)[0]
    assert "back" in question and "0 is no pain" in question
