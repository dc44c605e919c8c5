"""The text of a reply's attachment, where it can be read without another library.

Word (.docx) and OpenDocument (.odt) files are XML inside a zip, read here with the standard
library's zipfile and defusedxml (already a dependency for uploaded spreadsheets, as it refuses
entity-expansion bombs); .csv is text. PDF needs a PDF library the app does not carry, so a PDF's
text is not read: a person reads it, and the body of the message is still read.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from defusedxml import ElementTree

# More than any letter: a part larger than this when unzipped is a zip bomb, not a reply.
MAX_UNZIPPED = 20 * 2**20
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
READABLE = (".docx", ".odt", ".csv", ".txt")


def attachment_text(filename: str, data: bytes) -> str:
    """The attachment's text, paragraphs separated by blank lines; '' when it cannot be read."""
    suffix = PurePath(filename).suffix.lower()
    try:
        if suffix == ".docx":
            return _xml_paragraphs(data, "word/document.xml", f"{_W}p", f"{_W}t")
        if suffix == ".odt":
            return _odt(data)
        if suffix in (".csv", ".txt"):
            return data.decode("utf-8-sig", "replace")
    except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError, OSError):
        return ""
    except Exception:  # noqa: BLE001 - defusedxml's refusals (entities, DTDs) and the like
        return ""
    return ""


def _member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
        if info.file_size > MAX_UNZIPPED:
            raise ValueError(f"{name} is larger than {MAX_UNZIPPED} bytes unzipped")
        return archive.read(info)


def _xml_paragraphs(data: bytes, member: str, paragraph: str, text: str) -> str:
    root = ElementTree.fromstring(_member(data, member))
    lines = ("".join(node.text or "" for node in p.iter(text)) for p in root.iter(paragraph))
    return "\n\n".join(line for line in lines if line.strip())


def _odt(data: bytes) -> str:
    root = ElementTree.fromstring(_member(data, "content.xml"))
    lines = []
    for element in root.iter():
        if element.tag in (f"{_TEXT}p", f"{_TEXT}h"):
            line = "".join(element.itertext())
            if line.strip():
                lines.append(line)
    return "\n\n".join(lines)
