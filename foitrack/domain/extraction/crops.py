"""A PDF cell's neighbourhood drawn as a PNG, for a person checking a proposal beside it.

pdfplumber draws pages with pypdfium2, and PDFium is not thread-safe: two drawings at once in
one process, even of different documents, can crash it (a threaded server drawing two crops of a
review page did: a segmentation fault). Every drawing here holds one process-wide lock.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

# Points around the cell: its row and column headers are usually within reach.
CROP_PADDING = 36
CROP_RESOLUTION = 144  # twice the PDF's 72 points an inch

_PDFIUM = threading.Lock()


def crop_png(data: bytes, page_number: int, bbox: Sequence[float]) -> bytes | None:
    """The region of page ``page_number`` (1 = first) around ``bbox`` (x0, top, x1, bottom in
    points), as PNG bytes; None when the file has no such page."""
    import pdfplumber  # only this draws PDFs: not every importer pays for it

    x0, top, x1, bottom = bbox
    with _PDFIUM, pdfplumber.open(io.BytesIO(data)) as pdf:
        if not 1 <= page_number <= len(pdf.pages):
            return None
        page = pdf.pages[page_number - 1]
        box = (max(0, x0 - CROP_PADDING * 3), max(0, top - CROP_PADDING),
               min(float(page.width), x1 + CROP_PADDING * 3),
               min(float(page.height), bottom + CROP_PADDING))
        image = page.crop(box).to_image(resolution=CROP_RESOLUTION).original
        out = io.BytesIO()
        image.save(out, format="PNG")
    return out.getvalue()
