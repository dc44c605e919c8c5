"""Files kept as sources (imported spreadsheets, email attachments): content-addressed.

A file is stored once under the SHA-256 of its bytes, at FOITRACK_STORAGE_PATH: a folder
(default ``files/`` in the instance folder) or, for several servers, any fsspec URL such as
``s3://bucket/foitrack`` (with that filesystem's package installed). The same bytes stored twice
are kept once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from pathlib import Path, PurePath

import fsspec
from fsspec.implementations.local import LocalFileSystem


class FileStore:
    def __init__(self, location: str | Path) -> None:
        self.fs, root = fsspec.core.url_to_fs(str(location))
        self.root = root.rstrip("/")
        self.local = isinstance(self.fs, LocalFileSystem)

    def _path(self, digest: str) -> str:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError("not a SHA-256 digest")
        return f"{self.root}/{digest[:2]}/{digest}"

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if self.fs.exists(path):
            if self.local:
                # Freshly wanted again: `foitrack files prune` judges a file's age by when it
                # was last written, and must not take one an import is about to record.
                os.utime(path)
            return digest
        if self.local:
            # Written beside its final name and renamed, so a reader never sees half a file.
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write_whole(Path(path), data, ".incoming.")
        else:
            self.fs.pipe_file(path, data)  # object stores write whole objects
        return digest

    def read(self, digest: str) -> bytes:
        return self.fs.cat_file(self._path(digest))

    def exists(self, digest: str) -> bool:
        return self.fs.exists(self._path(digest))

    def prune(self, keep: set[str], older_than: dt.datetime, remove: bool = True) -> list[str]:
        """Remove the stored files whose digest is not in ``keep`` and that were last written
        before ``older_than`` (and half-written leftovers of an interrupted write); returns the
        names removed (with ``remove`` false: that would be).

        Files are written before the transaction that records them commits, so an import that
        failed, timed out or was never confirmed (a template preview) leaves files nothing
        refers to. The age limit spares a file whose import is still running.
        """
        removed = []
        for path in self.fs.find(self.root):
            name = path.rsplit("/", 1)[-1]
            if name in keep:
                continue
            if not (_DIGEST.fullmatch(name) or name.startswith(".incoming.")):
                continue  # not ours: left alone
            modified = self.fs.modified(path)
            if modified.tzinfo is None:
                modified = modified.replace(tzinfo=dt.UTC)
            if modified < older_than:
                if remove:
                    self.fs.rm_file(path)
                removed.append(name)
        return removed


_DIGEST = re.compile(r"[0-9a-f]{64}")


def write_whole(target: Path, data: bytes, prefix: str) -> None:
    """Write ``data`` beside ``target`` and rename it into place: a reader (or a crash) never
    sees half a file. The folder must exist."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def safe_filename(name: str, default: str) -> str:
    """The last part of an uploaded or attached name, without anything that could climb
    folders or upset a file system; ``default`` when nothing is left. Shown and offered on
    download, never used as a path (files are stored by their hash)."""
    base = PurePath(str(name).replace("\\", "/")).name
    kept = "".join(c for c in base if c.isprintable() and c not in '<>:"|?*')
    # Leading dots and spaces go after the filtering: "\x00.." must not become "..".
    return re.sub(r"^[ .]+", "", kept)[:200].rstrip() or default
