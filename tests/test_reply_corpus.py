"""The test corpus's PDF replies (tests/fixtures/reply_corpus.py) are the same bytes on every
run: drawn by reportlab with no creation date or random document id, so a PDF reply's SHA-256
(which proposals, crops and stored files carry) does not change between runs. (Its Word and
XLSX replies carry their writers' timestamps, as real ones do.)"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import time
from pathlib import Path

import pdfplumber

from tests.fixtures.reply_corpus import PdfPage, pdf_bytes, scanned_pdf

ROOT = Path(__file__).resolve().parent.parent
DIGEST = ("import hashlib; from tests.fixtures.reply_corpus import corpus; "
          "pdfs = [r.data for r in corpus(11, seed=5) if r.filename.endswith('.pdf')]; "
          "print(len(pdfs), hashlib.sha256(b''.join(pdfs)).hexdigest())")


def test_the_corpus_pdfs_are_the_same_bytes_in_two_separate_runs():
    runs = []
    for _ in range(2):
        runs.append(subprocess.run([sys.executable, "-c", DIGEST], cwd=ROOT, capture_output=True,
                                   text=True, check=True).stdout.strip())
        time.sleep(1.1)  # a timestamp would differ: a new second (and PDF dates have seconds)
    assert runs[0].startswith("7 ") and runs[0] == runs[1]  # 7 of the 11 layouts are PDFs


def test_text_is_placed_from_the_top_and_aligned_in_its_width():
    page = PdfPage()
    page.text(60, 100, "left", 10)
    page.text(60, 120, "right", 10, "right", 200)
    page.text(60, 140, "centre", 10, "centre", 200)
    with pdfplumber.open(io.BytesIO(pdf_bytes([page]))) as pdf:
        assert (pdf.pages[0].width, pdf.pages[0].height) == (595, 842)
        words = {w["text"]: w for w in pdf.pages[0].extract_words()}
    assert round(words["left"]["x0"], 1) == 60
    assert round(words["right"]["x1"], 1) == 260
    assert round(words["centre"]["x0"] + words["centre"]["x1"], 1) == 320
    # The baseline sits one font size below ``top``.
    assert [round(words[w]["bottom"]) for w in ("left", "right", "centre")] == [112, 132, 152]


def test_the_scanned_reply_has_no_text_layer():
    data = scanned_pdf()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert pdf.pages[0].chars == [] and len(pdf.pages[0].rects) == 1
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(scanned_pdf()).hexdigest()
