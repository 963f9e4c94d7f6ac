"""An encoder on a thread of its own, a few blocks behind the mixer: the two cores both busy.

LAME lets go of the GIL while it encodes, so the mixer can master the next blocks meanwhile.  Handed
one block at a time (submit block k, wait for block k - 1), the encoder idled whenever the mixer was
late with a block (another process on the core, a block with more limiting to do); with a few
blocks queued it never waits on the mixer, and the mixer, about four times faster, is done early.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Final

QUEUED_BLOCKS: Final = 4
"""Blocks mixed ahead of the encoder (ten seconds each, 441 kB at 22050 Hz): enough to ride out
a mixer held up for a few blocks' time, and memory that does not grow with the session."""


def encode_behind(blocks: Iterable[bytes], encode: Callable[[bytes], bytes], write: Callable[[bytes], object],
                  queued: int = QUEUED_BLOCKS) -> None:
    """``write(encode(block))`` for every block, in order, on a thread of its own, while ``blocks`` makes
    the next ones (up to ``queued`` ahead).

    An error of the encoder or of ``write`` stops the blocks and is raised here; an error or an
    interrupt while making the blocks stops the encoder after the blocks already queued, and is raised
    as it was.  Either way the thread has ended when this returns.
    """
    todo: queue.Queue[bytes | None] = queue.Queue(queued)
    failed: list[BaseException] = []

    def work() -> None:
        try:
            while (block := todo.get()) is not None:
                write(encode(block))
        except BaseException as exc:  # handed to the caller below
            failed.append(exc)
            while todo.get() is not None:  # the mixer never waits on a queue nobody empties
                pass

    thread = threading.Thread(target=work, name="encoder", daemon=True)
    thread.start()
    try:
        for block in blocks:
            if failed:
                break
            todo.put(block)
    finally:
        todo.put(None)
        thread.join()
    if failed:
        raise failed[0]
