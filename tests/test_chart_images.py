"""Charts drawn in a process apart (foitrack.exporters.chart_images): the same image as drawn
here, without holding this process's interpreter lock, and never missing when the child dies."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from foitrack.exporters import chart_images

# A chart heavy enough to take a while to draw: 30 small panels with their own axes.
HEAVY: dict[str, Any] = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {"values": [{"who": f"force {i}", "year": y, "n": (i * 7 + y) % 50}
                        for i in range(30) for y in range(2015, 2022)]},
    "facet": {"field": "who", "type": "nominal"}, "columns": 6,
    "spec": {"mark": "line", "width": 110, "height": 70,
             "encoding": {"x": {"field": "year", "type": "ordinal"},
                          "y": {"field": "n", "type": "quantitative"}}},
    "resolve": {"scale": {"y": "independent"}},
}


def test_drawn_apart_is_the_image_drawn_here_from_another_process():
    assert chart_images.draw_apart(HEAVY, "svg") == chart_images.draw(HEAVY, "svg")
    png = chart_images.draw_apart(HEAVY, "png")
    assert png.startswith(b"\x89PNG")
    assert chart_images.drawer_pid() != os.getpid()


def test_a_format_other_than_svg_or_png_is_refused_by_name():
    with pytest.raises(ValueError, match="'gif'"):
        chart_images.draw_apart(HEAVY, "gif")


def counted_while(drawing) -> int:
    """How far a thread of this process counts while another draws the heavy chart thrice."""
    done = threading.Event()
    count = 0

    def draw() -> None:
        for _ in range(3):
            drawing(HEAVY, "svg")
        done.set()

    thread = threading.Thread(target=draw)
    thread.start()
    while not done.is_set():
        count += 1
    thread.join()
    return count


def test_drawing_apart_leaves_this_processs_threads_running():
    """vl-convert holds the interpreter lock while it draws: a thread of the same process
    barely moves meanwhile. Drawn apart, it goes on (measured counts, not a time)."""
    chart_images.draw_apart(HEAVY, "svg")  # the child started, vl-convert loaded, in both
    chart_images.draw(HEAVY, "svg")
    here = counted_while(chart_images.draw)
    apart = counted_while(chart_images.draw_apart)
    assert apart > 10 * max(here, 1), (here, apart)


def test_a_child_that_died_costs_a_drawing_here_then_a_new_child():
    first = chart_images.drawer_pid()
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the pool notices its child's death on its own
        try:
            os.kill(first, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    assert chart_images.draw_apart(HEAVY, "svg") == chart_images.draw(HEAVY, "svg")
    second = chart_images.drawer_pid()
    assert second not in (first, os.getpid())


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_a_process_allowed_two_drawers_draws_two_charts_at_once():
    """A worker (foitrack.worker.tasks) allows two: two drawings asked for at once go to two
    processes, side by side; a web process keeps one."""
    before = chart_images.drawers()
    chart_images.allow_drawers(2)
    chart_images._forget(broken=False)  # the next pool is started with the new count
    try:
        pool = chart_images._drawer()
        both = [pool.submit(_pid_after, 1.0) for _ in range(2)]
        assert len({f.result() for f in both}) == 2
    finally:
        chart_images.allow_drawers(before)
        chart_images._forget(broken=False)


def test_after_its_pool_is_shut_down_as_at_exit_a_drawing_is_made_here():
    """At exit every pool is shut down before a daemon warm-up thread stops: its drawing is
    made here, quietly, rather than failing and logging while the interpreter finalises."""
    chart_images._drawer().shutdown(wait=True)
    try:
        assert chart_images.draw_apart(HEAVY, "svg") == chart_images.draw(HEAVY, "svg")
    finally:
        chart_images._forget(broken=False)
