"""Vega-Lite specs drawn as SVG or PNG by vl-convert, here or in a process of their own.

vl-convert holds Python's interpreter lock for the whole of a render: a thread counting beside
a render of a series' small multiples (43 panels, about a second) got 1% of the time it gets
alone. So a web process's warm-up thread that draws images stalls every request the process
answers meanwhile, which is why the series was once left out of that warm-up. ``draw_apart``
draws in a child process instead: the thread waits for the bytes without the lock, and the
requests go on.

Light on purpose (only vl-convert, imported when first drawing): the child imports this module
to draw, not Altair, Flask or the database.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

log = logging.getLogger(__name__)

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
# Drawing processes a process may start, each when first needed: one unless the process says
# otherwise (allow_drawers: a worker, whose warm-ups are all it does), since each holds some
# 150 MB (vl-convert's JavaScript engine and fonts) for as long as its process lives.
DRAWERS = 1

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_pid = 0


def draw(spec: dict[str, Any], image_format: str) -> bytes:
    """The chart as SVG (UTF-8) or PNG at twice the size, for print, drawn in this process.

    ``allowed_base_urls=[]`` makes vl-convert refuse any URL a spec might name, so rendering
    never waits on, or leaks to, the network.

    :raises ValueError: for a format other than svg or png.
    """
    import vl_convert  # a Rust extension: imported by whoever draws, not by every command

    if image_format == "svg":
        return vl_convert.vegalite_to_svg(spec, allowed_base_urls=[]).encode()
    if image_format == "png":
        return bytes(vl_convert.vegalite_to_png(spec, scale=2, allowed_base_urls=[]))
    raise ValueError(f"no chart format {image_format!r}")


def draw_apart(spec: dict[str, Any], image_format: str) -> bytes:
    """As ``draw``, in a child process kept for this process's later drawings (DRAWERS at
    most, for drawings asked for at once from several threads): the calling
    thread does not hold the interpreter lock meanwhile. Where the child cannot be had (or
    dies), drawn here: slower for the other threads, never missing.

    :raises ValueError: for a format other than svg or png.
    """
    if image_format not in FORMATS:
        raise ValueError(f"no chart format {image_format!r}")
    try:
        pending = _drawer().submit(draw, spec, image_format)
    except BrokenProcessPool:  # its child died since the last drawing (a RuntimeError too)
        log.warning("the chart-drawing process died; drawing here", exc_info=True)
        _forget(broken=True)
        return draw(spec, image_format)
    except RuntimeError:
        # Every pool is shut down as the interpreter exits, before a daemon thread (a warm-up)
        # is stopped: drawn here, and quietly, since a daemon thread writing to stderr while
        # the interpreter finalises can abort it.
        return draw(spec, image_format)
    try:
        return pending.result()
    except (BrokenProcessPool, OSError):
        log.warning("the chart-drawing process failed; drawing here", exc_info=True)
        _forget(broken=True)
        return draw(spec, image_format)


def allow_drawers(count: int) -> None:
    """Let this process draw ``count`` charts apart at once, from the next pool it starts (a
    worker's: two draw a warm-up's images side by side on a two-core machine)."""
    global DRAWERS
    DRAWERS = max(1, count)


def drawers() -> int:
    """How many charts this process draws apart at once."""
    return DRAWERS


def drawer_pid() -> int:
    """The child process's id (started if need be): for the tests."""
    return _drawer().submit(os.getpid).result()


def _drawer() -> ProcessPoolExecutor:
    global _pool, _pool_pid
    with _lock:
        # A pool does not survive a fork (a gunicorn worker forked from a master that drew):
        # each process starts its own.
        if _pool is None or _pool_pid != os.getpid():
            # "spawn", not fork: the parent has threads (the warm-up, a server's), and a forked
            # child would inherit their locks held.
            _pool = ProcessPoolExecutor(max_workers=DRAWERS,
                                        mp_context=multiprocessing.get_context("spawn"))
            _pool_pid = os.getpid()
        return _pool


def _forget(broken: bool) -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None and _pool_pid == os.getpid():
        pool.shutdown(wait=not broken, cancel_futures=True)
