"""Serving benchmark (``make bench``): how soon ``voiceguide serve`` answers, and how fast it reads; not a test.

Everything runs on 127.0.0.1 and prints figures against baselines measured in the same run:

- first answer: from starting ``voiceguide serve`` (every session already exported) to the first
  200 for the page, against ``python -m http.server`` serving the same folder (target: within 1 s);
- ranged reads: the MP3 fetched in 256 KiB ``Range`` requests over one keep-alive connection, in
  MB/s, against reading the same file from disk in 256 KiB blocks;
- 20 clients at once, each fetching the whole MP3: all must get every byte.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUTINES = ("standing-reset", "lower-back-and-hips")
REPEATS = 3
BLOCK = 256 * 1024
READ_MB = 200
CLIENTS = 20


def serve(folder: Path, cache: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "voiceguide", "--cache-dir", str(cache), "serve", *ROUTINES,
                                "--voice", "test", "--host", "127.0.0.1", "--port", "0", "--site", str(folder)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        if line.strip().startswith("http://"):
            return process, line.strip()
    raise SystemExit("voiceguide serve gave no address")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


def answers(port: int, path: str) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False


def first_answer_s(command: list[str], port: int, path: str) -> float:
    """Seconds from starting ``command`` to a 200 for ``path`` on ``port``."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not answers(port, path):
            if process.poll() is not None:
                raise SystemExit(f"{command[:4]} ended without answering")
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        stop(process)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ranged_mb_s(url: str, size: int) -> float:
    host, port = url.split("/")[2].split(":")
    path = "/" + url.split("/", 3)[3]
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    done, started = 0, time.perf_counter()
    while done < READ_MB * 1e6:
        for first in range(0, size, BLOCK):
            connection.request("GET", path, headers={"Range": f"bytes={first}-{min(first + BLOCK, size) - 1}"})
            answer = connection.getresponse()
            assert answer.status == 206
            done += len(answer.read())
    return done / 1e6 / (time.perf_counter() - started)


def whole_mb_s(port: int, path: str) -> float:
    """The whole file again and again over one connection (http.server closes it: a new one each time)."""
    done, started = 0, time.perf_counter()
    while done < READ_MB * 1e6:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", path)
        done += len(connection.getresponse().read())
        connection.close()
    return done / 1e6 / (time.perf_counter() - started)


def disk_mb_s(path: Path) -> float:
    done, started = 0, time.perf_counter()
    while done < READ_MB * 1e6:
        with open(path, "rb") as f:
            while block := f.read(BLOCK):
                done += len(block)
    return done / 1e6 / (time.perf_counter() - started)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder, cache = Path(tmp) / "site", Path(tmp) / "cache"
        process, url = serve(folder, cache)  # exports everything once
        token_path = "/" + url.split("/", 3)[3]
        mp3 = folder / f"{ROUTINES[1]}.mp3"
        size = mp3.stat().st_size
        want = hashlib.sha256(mp3.read_bytes()).hexdigest()

        port = int(url.split("/")[2].split(":")[1])
        ranged = ranged_mb_s(url + mp3.name, size)
        whole_ours, disk = whole_mb_s(port, token_path + mp3.name), disk_mb_s(mp3)
        other = free_port()
        baseline = subprocess.Popen([sys.executable, "-m", "http.server", str(other), "--bind", "127.0.0.1",
                                     "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not answers(other, "/"):
                time.sleep(0.01)
            whole_theirs = whole_mb_s(other, "/" + mp3.name)
        finally:
            stop(baseline)
        print(f"reading the {size / 1e6:.1f} MB MP3 on loopback (MB/s):")
        print(f"  voiceguide serve, 256 KiB ranges {ranged:7.0f}   whole file {whole_ours:7.0f}")
        print(f"  python -m http.server, whole file {whole_theirs:6.0f}   (ours {whole_ours / whole_theirs:.2f}x)")
        print(f"  the file from disk (page cache)  {disk:7.0f}")

        def fetch(_: int) -> tuple[int, str]:
            host, port = url.split("/")[2].split(":")
            connection = http.client.HTTPConnection(host, int(port), timeout=60)
            connection.request("GET", token_path + mp3.name)
            answer = connection.getresponse()
            return answer.status, hashlib.sha256(answer.read()).hexdigest()

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(fetch, range(CLIENTS)))
        took = time.perf_counter() - started
        whole = sum(r == (200, want) for r in results)
        print(f"{CLIENTS} clients at once, each the whole {size / 1e6:.1f} MB MP3: {whole} of {CLIENTS} got every "
              f"byte in {took:.2f} s ({CLIENTS * size / 1e6 / took:.0f} MB/s together)")
        stop(process)

        ours, theirs = [], []
        for _ in range(REPEATS):  # best of: other work on a shared machine only ever adds time
            port = free_port()
            ours.append(first_answer_s([sys.executable, "-m", "voiceguide", "--cache-dir", str(cache), "serve",
                                        *ROUTINES, "--voice", "test", "--host", "127.0.0.1", "--port", str(port),
                                        "--site", str(folder)], port, token_path))
            port = free_port()
            theirs.append(first_answer_s([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                          "--directory", str(folder)], port, "/"))
        print(f"first answer, all exported: voiceguide serve {min(ours):.2f} s   python -m http.server "
              f"{min(theirs):.2f} s ({min(ours) / min(theirs):.1f}x; target: within 1 s)")
        if whole != CLIENTS:
            raise SystemExit("not every client got the whole file")


if __name__ == "__main__":
    os.environ.pop("VOICEGUIDE_CACHE", None)
    main()
