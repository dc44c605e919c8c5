"""Crops of a PDF around a proposal's cell (foitrack.domain.extraction.crops): a PNG of the
region, and none for a page the file does not have. PDFium is not thread-safe, so drawings at
once from several threads (a review page's crops, loaded together) must not crash the process."""

from __future__ import annotations

import random
import threading

from foitrack.domain.extraction import crops
from tests.fixtures.reply_corpus import pdf_tables

PDF, _ = pdf_tables(random.Random(3), "Kent Police", True, ["platform"])
BOX = (72.0, 200.0, 220.0, 216.0)


def test_a_crop_is_a_png_of_the_region_and_none_for_a_missing_page():
    png = crops.crop_png(PDF, 1, BOX)
    assert png is not None and png.startswith(b"\x89PNG")
    assert crops.crop_png(PDF, 2, BOX) is None


def test_crops_drawn_from_many_threads_at_once_all_come_back():
    """Before the lock, two crops drawn at once crashed the test server with a segmentation
    fault inside pypdfium2; here eight threads draw four each."""
    results: list[bytes | None] = []
    failures: list[BaseException] = []

    def draw() -> None:
        try:
            for _ in range(4):
                results.append(crops.crop_png(PDF, 1, BOX))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(results) == 32 and len(set(results)) == 1 and results[0] is not None
