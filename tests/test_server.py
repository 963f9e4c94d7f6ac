"""The server as a phone and a stranger on the network meet it: a real server on 127.0.0.1, real HTTP."""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.client
import os
import select
import socket
import struct
import time

import pytest

from voiceguide.phone import server, site

TOKEN = "k3y-Of_the_test_0123"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The page's files as the site writer writes them, plus a 3 MB file of random bytes as an MP3."""
    folder = tmp_path_factory.mktemp("site")
    files = site.write_site(folder, [])
    blob = os.urandom(3 * 1024 * 1024 + 17)
    (folder / "blob.mp3").write_bytes(blob)
    files["blob.mp3"] = folder / "blob.mp3"
    httpd = server.make_server(server.Site(folder, files, TOKEN), "127.0.0.1", 0)
    server.serve_in_thread(httpd)
    yield httpd, folder, blob
    httpd.shutdown()
    httpd.server_close()


def request(httpd, method: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One request with the path sent exactly as given (http.client does not normalise it)."""
    connection = http.client.HTTPConnection("127.0.0.1", httpd.server_address[1], timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def test_a_full_get_is_the_exact_file_with_its_headers(served):
    httpd, folder, blob = served
    status, headers, body = request(httpd, "GET", f"/{TOKEN}/blob.mp3")
    assert status == 200 and body == blob
    assert headers["content-type"] == "audio/mpeg"
    assert headers["content-length"] == str(len(blob))
    assert headers["accept-ranges"] == "bytes"
    assert headers["etag"].startswith('"') and headers["last-modified"].endswith("GMT")
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"].startswith("private")


@pytest.mark.parametrize("asked, first, last", [
    ("bytes=0-0", 0, 0),
    ("bytes=100-199", 100, 199),
    ("bytes=1000-", 1000, None),
    ("bytes=-500", -500, None),
    ("bytes=3000000-99999999", 3000000, None),  # past the end: cut to the end
    ("bytes=10-" + "9" * 40, 10, None),  # however far past
    ("bytes=-" + "9" * 40, 0, None),  # more than the whole file: the whole file
])
def test_a_ranged_get_is_206_with_exactly_those_bytes(served, asked, first, last):
    httpd, _, blob = served
    status, headers, body = request(httpd, "GET", f"/{TOKEN}/blob.mp3", {"Range": asked})
    expected = blob[first:] if last is None else blob[first : last + 1]
    start = first if first >= 0 else len(blob) + first
    assert status == 206 and body == expected
    assert headers["content-range"] == f"bytes {start}-{start + len(expected) - 1}/{len(blob)}"
    assert headers["content-length"] == str(len(expected))


@pytest.mark.parametrize("asked", ["bytes=99999999-", "bytes=-0", "bytes=" + "9" * 40 + "-"])
def test_a_range_outside_the_file_is_416_with_its_size(served, asked):
    httpd, _, blob = served
    status, headers, _ = request(httpd, "GET", f"/{TOKEN}/blob.mp3", {"Range": asked})
    assert status == 416 and headers["content-range"] == f"bytes */{len(blob)}"


def test_several_ranges_a_stale_if_range_or_absurd_numbers_get_the_whole_file(served):
    httpd, _, blob = served
    status, _, body = request(httpd, "GET", f"/{TOKEN}/blob.mp3", {"Range": "bytes=" + "9" * 101 + "-"})
    assert status == 200 and body == blob  # numbers past any file's size, beyond reason: ignored, as one we do not parse
    status, _, body = request(httpd, "GET", f"/{TOKEN}/blob.mp3", {"Range": "bytes=0-1,5-6"})
    assert status == 200 and body == blob
    status, _, body = request(httpd, "GET", f"/{TOKEN}/blob.mp3", {"Range": "bytes=0-9", "If-Range": '"old"'})
    assert status == 200 and body == blob
    _, headers, _ = request(httpd, "HEAD", f"/{TOKEN}/blob.mp3")
    status, _, body = request(httpd, "GET", f"/{TOKEN}/blob.mp3", {"Range": "bytes=0-9", "If-Range": headers["etag"]})
    assert status == 206 and body == blob[:10]


def test_head_has_the_headers_and_no_body_and_an_etag_gives_304(served):
    httpd, _, blob = served
    status, headers, body = request(httpd, "HEAD", f"/{TOKEN}/blob.mp3")
    assert status == 200 and body == b"" and headers["content-length"] == str(len(blob))
    status, again, body = request(httpd, "GET", f"/{TOKEN}/blob.mp3", {"If-None-Match": headers["etag"]})
    assert status == 304 and body == b"" and again["etag"] == headers["etag"]


@pytest.mark.parametrize("path, kind", [
    ("", "text/html; charset=utf-8"), ("index.html", "text/html; charset=utf-8"),
    ("app.js", "text/javascript; charset=utf-8"), ("style.css", "text/css; charset=utf-8"),
    ("library.json", "application/json"), ("feed.xml", "application/rss+xml; charset=utf-8"),
])
def test_the_page_and_its_files_have_their_types_and_are_never_stored_by_shared_caches(served, path, kind):
    httpd, folder, _ = served
    status, headers, body = request(httpd, "GET", f"/{TOKEN}/{path}")
    assert status == 200 and headers["content-type"] == kind
    assert body == (folder / (path or "index.html")).read_bytes()
    assert headers["cache-control"] == "private, no-store"


def test_the_token_without_a_slash_is_sent_to_the_page(served):
    httpd, _, _ = served
    status, headers, _ = request(httpd, "GET", f"/{TOKEN}")
    assert status == 301 and headers["location"] == f"/{TOKEN}/"


@pytest.mark.parametrize("path", ["/", "/index.html", "/blob.mp3", f"/{TOKEN[:-1]}/blob.mp3", f"/{TOKEN}x/",
                                  "/favicon.ico", f"/x/{TOKEN}/blob.mp3", f"/%2f{TOKEN}/blob.mp3"])
def test_without_the_token_it_is_403(served, path):
    httpd, _, _ = served
    status, _, body = request(httpd, "GET", path)
    assert status == 403 and TOKEN.encode() not in body


@pytest.mark.parametrize("path", [
    "../../../../etc/passwd", "%2e%2e/%2e%2e/%2e%2e/etc/passwd", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "..%2f..%2fetc%2fpasswd", "/etc/passwd", "%2fetc%2fpasswd", "./index.html", "web/index.html",
    ".voiceguide-token", ".voiceguide-site.json", "blob.mp3/", "nothing.mp3", "%ff", "index.html%00",
    "..\\..\\etc\\passwd",
])
def test_anything_but_a_file_it_wrote_is_404(served, path):
    httpd, _, _ = served
    status, _, body = request(httpd, "GET", f"/{TOKEN}/{path}")
    assert status == 404 and b"root:" not in body


def test_a_file_swapped_for_a_link_out_of_the_folder_is_404(tmp_path):
    folder, outside = tmp_path / "site", tmp_path / "secret.txt"
    folder.mkdir()
    outside.write_text("secret")
    files = site.write_site(folder, [])
    (folder / "style.css").unlink()
    (folder / "style.css").symlink_to(outside)
    httpd = server.make_server(server.Site(folder, files, TOKEN), "127.0.0.1", 0)
    server.serve_in_thread(httpd)
    try:
        assert request(httpd, "GET", f"/{TOKEN}/style.css")[0] == 404
        assert request(httpd, "GET", f"/{TOKEN}/app.js")[0] == 200
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_writing_is_405(served, method):
    httpd, folder, _ = served
    before = (folder / "index.html").read_bytes()
    status, headers, _ = request(httpd, method, f"/{TOKEN}/index.html")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert (folder / "index.html").read_bytes() == before


def test_downloads_dropped_halfway_leave_it_serving(served):
    httpd, _, blob = served
    for _ in range(5):
        client = socket.create_connection(("127.0.0.1", httpd.server_address[1]), timeout=10)
        client.sendall(f"GET /{TOKEN}/blob.mp3 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset, not a goodbye
        client.close()
    status, _, body = request(httpd, "GET", f"/{TOKEN}/blob.mp3", {"Range": "bytes=5-9"})
    assert status == 206 and body == blob[5:10]


def test_twenty_clients_at_once_all_get_the_whole_file(served):
    httpd, _, blob = served
    want = hashlib.sha256(blob).hexdigest()
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: request(httpd, "GET", f"/{TOKEN}/blob.mp3"), range(20)))
    assert [(s, hashlib.sha256(b).hexdigest()) for s, _, b in answers] == [(200, want)] * 20


def test_a_taken_port_moves_to_a_free_one():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        httpd, moved = server.bind(server.Site(server.Path("."), {}, TOKEN), "127.0.0.1", port)
        with httpd:
            assert moved and httpd.server_address[1] not in (port, 0)
        httpd, moved = server.bind(server.Site(server.Path("."), {}, TOKEN), "127.0.0.1", 0)
        with httpd:
            assert not moved


@pytest.mark.parametrize("host", ["192.0.2.250", "::1"])  # not on this machine; IPv6 (IPv4 only)
def test_an_address_it_cannot_listen_on_is_one_clear_error(host):
    from voiceguide.errors import ServeError

    with pytest.raises(ServeError, match=f"cannot listen on {host!r} port 0: .*; give --host"):
        server.bind(server.Site(server.Path("."), {}, TOKEN), host, 0)


@pytest.mark.parametrize("header, size, expected", [
    (None, 10, None), ("bytes=2-4", 10, (2, 4)), ("bytes=2-", 10, (2, 9)), ("bytes=-3", 10, (7, 9)),
    ("bytes=-30", 10, (0, 9)), ("bytes=8-30", 10, (8, 9)), ("bytes=10-", 10, "unsatisfiable"),
    ("bytes=0-", 0, "unsatisfiable"), ("bytes=5-2", 10, None), ("items=0-1", 10, None), ("bytes=-", 10, None),
    ("bytes=0-1,3-4", 10, None),
])
def test_byte_range_reads_the_header_as_rfc_9110_says(header, size, expected):
    assert server.byte_range(header, size) == expected


def test_the_lan_address_is_found_without_the_network_and_is_an_ipv4_address():
    import ipaddress

    assert isinstance(ipaddress.ip_address(server.lan_address()), ipaddress.IPv4Address)


# --------------------------------------------------------------------------- hostile and odd requests


def raw_exchange(httpd, data: bytes) -> bytes:
    """Send bytes as they are and read every byte the server sends until it closes (or goes quiet)."""
    with socket.create_connection(("127.0.0.1", httpd.server_address[1]), timeout=5) as client:
        client.sendall(data)
        received = b""
        try:
            while chunk := client.recv(65536):
                received += chunk
        except TimeoutError:
            pass  # the connection stayed open: what came is the answer
        return received


@pytest.mark.parametrize("path", ["/\u00e9/", f"/{TOKEN[:-1]}\u00e9/blob.mp3", "/\u00e9"])
def test_a_path_with_non_ascii_bytes_is_refused_with_an_answer(served, path):
    httpd, _, _ = served
    answer = raw_exchange(httpd, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
    assert answer.startswith(b"HTTP/1.1 403 ")


@pytest.mark.parametrize("asked", [f"bytes={'9' * 5000}-", f"bytes=0-{'9' * 5000}", f"bytes=-{'9' * 5000}"])
def test_a_range_with_a_huge_number_gets_an_answer_not_a_dropped_connection(served, asked):
    httpd, _, blob = served
    status, headers, body = request(httpd, "GET", f"/{TOKEN}/blob.mp3", {"Range": asked})
    assert (status, body) == (200, blob)  # a range it does not read is ignored, as RFC 9110 allows


@pytest.mark.parametrize("head", ["POST /{t}/ HTTP/1.1", "PUT /{t}/blob.mp3 HTTP/1.1", "GET /{t}/ HTTP/1.1"])
def test_a_request_body_is_never_read_as_a_second_request(served, head):
    httpd, _, _ = served
    smuggled = f"GET /{TOKEN}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    request_head = f"{head.format(t=TOKEN)}\r\nHost: x\r\nContent-Length: {len(smuggled)}\r\n\r\n".encode()
    answer = raw_exchange(httpd, request_head + smuggled)
    assert answer.count(b"HTTP/1.") == 1
    assert b"\r\nConnection: close\r\n" in answer


def test_a_chunked_post_is_refused_and_the_connection_closed(served):
    httpd, _, _ = served
    body = f"GET /{TOKEN}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    answer = raw_exchange(httpd, f"POST /{TOKEN}/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                          + chunked)
    assert answer.startswith(b"HTTP/1.1 405 ") and answer.count(b"HTTP/1.") == 1


def test_keep_alive_still_serves_two_gets_on_one_connection(served):
    httpd, _, _ = served
    one = f"GET /{TOKEN}/library.json HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    answer = raw_exchange(httpd, one + one.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    assert answer.count(b"HTTP/1.1 200 ") == 2


@pytest.mark.parametrize("method, path, headers, status", [
    ("GET", "/", {}, 403),
    ("GET", f"/{TOKEN}/nothing.mp3", {}, 404),
    ("POST", f"/{TOKEN}/", {}, 405),
    ("GET", f"/{TOKEN}/blob.mp3", {"Range": "bytes=99999999-"}, 416),
    ("GET", f"/{TOKEN}", {}, 301),
    ("GET", f"/{TOKEN}/", {}, 200),
])
def test_every_answer_is_kept_by_no_cache(served, method, path, headers, status):
    httpd, _, _ = served
    got, answer_headers, _ = request(httpd, method, path, headers)
    assert got == status and answer_headers["cache-control"] == "private, no-store"


def test_an_mp3_may_be_kept_by_the_phone_but_checked_first(served):
    httpd, _, _ = served
    for headers in ({}, {"Range": "bytes=0-9"}):
        status, answer_headers, _ = request(httpd, "GET", f"/{TOKEN}/blob.mp3", headers)
        assert status in (200, 206) and answer_headers["cache-control"] == "private, no-cache"


def test_a_fault_in_the_server_is_one_line_on_stderr_without_the_path_and_it_goes_on(served, capfd):
    httpd, _, _ = served

    class Faulty(httpd.RequestHandlerClass):
        def do_GET(self) -> None:
            if "fault" in self.path:
                raise ValueError(f"broken while serving {self.path}")
            if "gone" in self.path:
                raise ConnectionResetError("the client went away")
            super().do_GET()

    usual = httpd.RequestHandlerClass
    httpd.RequestHandlerClass = Faulty
    try:
        capfd.readouterr()
        raw_exchange(httpd, f"GET /{TOKEN}/gone HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert capfd.readouterr().err == ""  # a client that goes away is nothing to report
        raw_exchange(httpd, f"GET /{TOKEN}/fault HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        err = capfd.readouterr().err
        assert len(err.splitlines()) == 1 and "ValueError" in err and TOKEN not in err
        assert request(httpd, "GET", f"/{TOKEN}/")[0] == 200  # still serving
    finally:
        httpd.RequestHandlerClass = usual


def test_two_hundred_clients_connecting_at_once_are_all_queued_and_answered(tmp_path):
    """A household's phones and a podcast app's parallel downloads, all at the moment the server is
    busy: with a listen backlog of 5 only six finished connecting, the rest waited on the kernel's
    SYN retries (1, 3, 7, 15 s ...); now all 200 connect at once and each gets its answer."""
    files = site.write_site(tmp_path, [])
    httpd = server.make_server(server.Site(tmp_path, files, TOKEN), "127.0.0.1", 0)
    clients: list[socket.socket] = []
    serving = False
    try:
        for _ in range(200):  # connecting while the server accepts nothing: the backlog holds them
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            client.setblocking(False)
            client.connect_ex(httpd.server_address)
            clients.append(client)
        connected: set[socket.socket] = set()
        deadline = time.monotonic() + 0.8  # under the kernel's first SYN retry (1 s)
        while len(connected) < len(clients) and time.monotonic() < deadline:
            _, writable, _ = select.select([], [c for c in clients if c not in connected], [], 0.05)
            connected.update(c for c in writable if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
        assert len(connected) == 200
        server.serve_in_thread(httpd)
        serving = True
        for client in clients:
            client.sendall(f"GET /{TOKEN}/library.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answers = {c: b"" for c in clients}
        open_ = set(clients)
        deadline = time.monotonic() + 30  # bounded: stops by itself
        while open_ and time.monotonic() < deadline:
            readable, _, _ = select.select(list(open_), [], [], 0.2)
            for client in readable:
                data = client.recv(65536)
                answers[client] += data
                if not data:
                    open_.discard(client)
        assert all(answer.startswith(b"HTTP/1.1 200 ") for answer in answers.values())
    finally:
        for client in clients:
            client.close()
        if serving:  # shutdown() waits for serve_forever, which never started otherwise
            httpd.shutdown()
        httpd.server_close()


def test_a_server_stops_at_once_when_asked(served):
    """``shutdown()`` (Ctrl-C on ``serve``, and every test's server) waits for the serving loop to look; it
    looks every ``SHUTDOWN_WAIT_S``.  socketserver's own half second made each stop wait up to that long."""
    _, folder, _ = served
    waited = []
    for _ in range(5):
        httpd = server.make_server(server.Site(folder, {}, TOKEN), "127.0.0.1", 0)
        server.serve_in_thread(httpd)
        time.sleep(0.12)  # the loop is well into a wait, as a server is when Ctrl-C comes
        started = time.monotonic()
        httpd.shutdown()
        waited.append(time.monotonic() - started)
        httpd.server_close()
    assert max(waited) < 0.3, waited
