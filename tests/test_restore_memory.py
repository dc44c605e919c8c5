"""Restore streams stored files (issue 23, point 8): memory stays bounded however large the
store. A 699 MB store once took 884 MB to restore, every file held in memory at once."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from foitrack import backups
from foitrack.db import make_engine
from foitrack.models import StoredFile
from foitrack.storage import FileStore
from tests.factories import load_forces

pytestmark = pytest.mark.slow

MB = 2**20
FILE_SIZE = 64 * MB  # each larger than the whole bound below
FILES = 3
BOUND = 50 * MB


def _write_stored_file(store: FileStore, seed: int) -> tuple[str, int]:
    """A 64 MB file put straight into the store a piece at a time (the test never holds it):
    a random 16 KB block repeated, so it zips small but is no run of zeros."""
    block = hashlib.shake_256(f"block {seed}".encode()).digest(16 * 1024)
    digest = hashlib.sha256()
    for _ in range(FILE_SIZE // len(block)):
        digest.update(block)
    name = digest.hexdigest()
    target = Path(store.root) / name[:2] / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        for _ in range(FILE_SIZE // len(block)):
            handle.write(block)
    return name, FILE_SIZE


@pytest.fixture
def big_store(app, session):
    store = FileStore(app.config["STORAGE_PATH"])
    load_forces(session)
    digests = []
    for seed in range(FILES):
        digest, size = _write_stored_file(store, seed)
        session.add(StoredFile(sha256=digest, filename=f"reply-{seed}.pdf",
                               content_type="application/pdf", size=size, created_by="tests"))
        digests.append(digest)
    session.commit()
    return store, digests


@pytest.fixture
def fresh(scratch, tmp_path):
    engine = make_engine(scratch.new_url())
    yield engine, FileStore(tmp_path / "restored-files")
    engine.dispose()


def _peak(call) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(MB):
            digest.update(piece)
    return digest.hexdigest()


def test_backup_and_restore_of_a_large_store_stay_within_bounded_memory(app, big_store, fresh,
                                                                         tmp_path):
    store, digests = big_store
    path = tmp_path / "backup.zip"
    source = app.extensions["foitrack.db"].engine
    manifest, backup_peak = _peak(lambda: backups.create_backup(source, store, path))
    assert sorted(manifest.files) == sorted(digests)
    with zipfile.ZipFile(path) as archive:
        assert sum(archive.getinfo(f"files/{d}").file_size for d in digests) == FILES * FILE_SIZE

    engine, target_store = fresh
    restored, restore_peak = _peak(lambda: backups.restore_backup(engine, target_store, path))
    assert restored == manifest
    # Bounded: far less than one stored file, let alone the 192 MB of them.
    assert restore_peak < BOUND, f"restore peaked at {restore_peak / MB:.1f} MB"
    assert backup_peak < BOUND, f"backup peaked at {backup_peak / MB:.1f} MB"
    for digest in digests:
        kept = Path(target_store.root) / digest[:2] / digest
        assert kept.stat().st_size == FILE_SIZE and _file_sha256(kept) == digest
    # Nothing half-written left beside them.
    assert sorted(p.name for p in Path(target_store.root).rglob("*") if p.is_file()) == \
        sorted(digests)


def test_a_file_that_does_not_match_its_name_is_refused_and_leaves_nothing(app, big_store, fresh,
                                                                           tmp_path):
    """Streamed or not, a file whose bytes are not its name is refused before anything is
    written: the store is not even created."""
    store, digests = big_store
    path = tmp_path / "backup.zip"
    backups.create_backup(app.extensions["foitrack.db"].engine, store, path)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(tampered, "w") as out:
        for item in archive.infolist():
            if item.filename == f"files/{digests[1]}":
                with archive.open(item) as source, out.open(item.filename, "w") as target:
                    target.write(b"changed" + source.read(MB)[7:])
                    while piece := source.read(MB):
                        target.write(piece)
            else:
                with archive.open(item) as source, out.open(item, "w") as target:
                    while piece := source.read(MB):
                        target.write(piece)
    engine, target_store = fresh
    with pytest.raises(backups.BackupError, match=f"file {digests[1][:12]} does not match"):
        backups.restore_backup(engine, target_store, tampered)
    assert not Path(target_store.root).exists()
    assert not os.path.exists(Path(target_store.root) / digests[0][:2])
