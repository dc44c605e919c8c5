"""Backups: the database and the stored files in one zip file, and restoring them.

A backup holds ``manifest.json`` (foitrack version, Alembic revision, database kind, rows per
table, the files' SHA-256s, checksums), the database (``database.sqlite3``, a copy made with
SQLite's online backup API, or ``database.pgdump``, ``pg_dump --format=custom`` of the schema
foitrack uses), every stored file as ``files/<sha256>`` and every message in the outbox folder
(mail written there when no mail server is set) as ``outbox/<name>``. Nothing here knows about
Flask.

Restoring checks the whole file first (zip CRCs, checksums, row counts of the SQLite copy), so
a damaged backup changes nothing; then puts the files back (content-addressed: adding them
never harms), then replaces the database in one step, and upgrades it if the backup is older.

Stored files go through in pieces both ways (a store of 700 MB once took 884 MB of memory to
restore): each is hashed as it is read from the zip, and written beside its place in the store
and renamed only when its SHA-256 matches, so memory stays at a piece whatever the store holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.engine import URL

from foitrack import migrate
from foitrack.db import Base
from foitrack.models import StoredFile
from foitrack.paths import migrations_dir
from foitrack.storage import FileStore

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
# An outbox file's name as OutboxTransport writes it: one plain name, never a path.
_OUTBOX_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,250}")


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass
class Manifest:
    """What a backup holds, written as manifest.json inside it."""

    foitrack_version: str
    alembic_revision: str
    database: str  # "sqlite" or "postgresql"
    created_at: str
    tables: dict[str, int]
    files: list[str]
    database_sha256: str
    missing_files: list[str] = field(default_factory=list)
    schema: str | None = None
    # Outbox file name -> SHA-256 of its bytes; absent from backups made before it was kept.
    outbox: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """:raises BackupError: when it is not a manifest this version can read."""
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise BackupError(f"the backup is in format {data.get('format')!r}; this foitrack "
                                  f"reads format {FORMAT}")
            manifest = cls(**data)
        except (ValueError, TypeError, AttributeError) as error:
            raise BackupError(f"its manifest cannot be read ({error})") from None
        if manifest.database not in ("sqlite", "postgresql") or not all(
            _DIGEST.match(digest) for digest in manifest.files
        ) or not isinstance(manifest.outbox, dict) or not all(
            isinstance(name, str) and _OUTBOX_NAME.fullmatch(name) and isinstance(digest, str)
            and _DIGEST.match(digest) for name, digest in manifest.outbox.items()
        ):
            raise BackupError("its manifest is not one foitrack wrote")
        return manifest


def _foitrack_version() -> str:
    try:
        return version("foitrack")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _table_names() -> list[str]:
    return [table.name for table in Base.metadata.sorted_tables]


def count_rows(connection: Connection) -> dict[str, int]:
    """Rows in each of foitrack's tables that exist in the database."""
    existing = set(inspect(connection).get_table_names())
    quote = connection.dialect.identifier_preparer.quote
    return {
        name: connection.scalar(text(f"SELECT count(*) FROM {quote(name)}")) or 0
        for name in _table_names() if name in existing
    }


def _outbox_files(outbox: Path | None) -> list[Path]:
    """The messages in the outbox folder: its plain files, not hidden ones half-written."""
    if outbox is None or not outbox.is_dir():
        return []
    return sorted(path for path in outbox.iterdir()
                  if path.is_file() and _OUTBOX_NAME.fullmatch(path.name))


def _stored_digests(connection: Connection) -> list[str]:
    if "stored_file" not in inspect(connection).get_table_names():
        return []
    return sorted(set(connection.scalars(select(StoredFile.sha256))))


# ---- making a backup ----------------------------------------------------------------------

def create_backup(engine: Engine, store: FileStore, path: Path,
                  now: dt.datetime | None = None, outbox: Path | None = None) -> Manifest:
    """Write a backup of the database behind ``engine``, the files in ``store`` and the
    messages in the ``outbox`` folder to ``path``.

    Safe while foitrack is running: the database is read from one consistent snapshot, and
    the zip is written beside ``path`` and renamed into place only when complete.
    :raises BackupError: when ``path`` exists, the database is empty or a tool fails.
    """
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new name (backups are never overwritten)")
    created_at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="foitrack-backup-") as work:
        work_dir = Path(work)
        if engine.dialect.name == "sqlite":
            member, dump, revision, tables, digests, schema = _dump_sqlite(engine, work_dir)
        else:
            member, dump, revision, tables, digests, schema = _dump_postgres(engine, work_dir)
        missing = [digest for digest in digests if not store.exists(digest)]
        # Read once, so the bytes zipped are the bytes the manifest's checksum describes.
        outbox_files = {item.name: item.read_bytes() for item in _outbox_files(outbox)}
        manifest = Manifest(
            foitrack_version=_foitrack_version(), alembic_revision=revision,
            database=engine.dialect.name, created_at=created_at, tables=tables,
            files=[digest for digest in digests if digest not in missing],
            database_sha256=_sha256_file(dump), missing_files=missing, schema=schema,
            outbox={name: hashlib.sha256(data).hexdigest() for name, data in outbox_files.items()},
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        os.close(fd)
        try:
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED,
                                 allowZip64=True) as archive:
                # A pg_dump custom archive is compressed already.
                archive.write(dump, member, compress_type=zipfile.ZIP_STORED
                              if member == POSTGRES_MEMBER else zipfile.ZIP_DEFLATED)
                for digest in manifest.files:
                    _zip_stored_file(archive, store, digest)
                for name, data in outbox_files.items():
                    archive.writestr(f"outbox/{name}", data)
                # Last, so a backup cut short has no manifest and is refused as a whole.
                archive.writestr(MANIFEST, manifest.to_json())
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    return manifest


_PIECE = 1 << 20  # what is read, hashed and written at a time


def _zip_stored_file(archive: zipfile.ZipFile, store: FileStore, digest: str) -> None:
    """Copy one stored file into the zip a piece at a time (never the whole file in memory)."""
    location = store._path(digest)  # noqa: SLF001 - the store's own layout, read by its backup
    info = zipfile.ZipInfo(f"files/{digest}", date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    # Its size, so that zipfile writes the ZIP64 fields a file over 2 GB needs.
    info.file_size = store.fs.size(location)
    with store.fs.open(location, "rb") as source, archive.open(info, "w") as target:
        shutil.copyfileobj(source, target, _PIECE)


def _require_revision(revision: str | None) -> str:
    if revision is None:
        raise BackupError("the database has no foitrack tables: there is nothing to back up")
    return revision


def _sqlite_path(url: URL) -> Path:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("only an SQLite database in a file can be backed up or restored")
    return Path(database)


def _dump_sqlite(engine: Engine, work: Path) -> tuple[str, Path, str, dict[str, int], list[str], None]:
    source_path = _sqlite_path(engine.url)
    if not source_path.exists():
        raise BackupError(f"there is no SQLite database at {source_path}")
    copy = work / SQLITE_MEMBER
    # The online backup API copies a consistent snapshot even while others write.
    _sqlite_copy(source_path, copy)
    # Everything in the manifest is read from the copy, so it describes exactly what is kept.
    copy_engine = _engine_for_file(copy)
    try:
        with copy_engine.connect() as connection:
            revision = _require_revision(_revision(connection))
            return SQLITE_MEMBER, copy, revision, count_rows(connection), \
                _stored_digests(connection), None
    finally:
        copy_engine.dispose()


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """Copy one SQLite database onto another with SQLite's online backup API."""
    source = sqlite3.connect(_read_only(source_path), uri=True)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _read_only(path: Path) -> str:
    """An SQLite URI opening ``path`` read-only (quoted, so '?' or '#' in a folder name is safe)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _engine_for_file(path: Path) -> Engine:
    from foitrack.db import make_engine

    # A scratch copy, read and thrown away: its journal mode is left as the copy made it.
    return make_engine(f"sqlite:///{path}", sqlite_wal=False)


def _revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _libpq_env(url: URL) -> dict[str, str]:
    """The URL as libpq environment variables, so no password appears on a command line."""
    env = dict(os.environ)
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[name] = str(value)
    for key, name in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if key in url.query:
            env[name] = str(url.query[key])
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(command: list[str], env: dict[str, str], **kwargs: Any) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{Path(command[0]).name} failed: {detail[-1] if detail else result.returncode}")


def _dump_postgres(engine: Engine, work: Path) -> tuple[str, Path, str, dict[str, int], list[str], str]:
    dump = work / POSTGRES_MEMBER
    pg_dump = _tool("pg_dump")
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        # One snapshot for the counts, the revision and pg_dump, so they describe the same data.
        snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
        schema = connection.scalar(text("SELECT current_schema()"))
        if schema is None:
            raise BackupError("the database URL's search_path names no schema that exists")
        revision = _require_revision(_revision(connection))
        tables = count_rows(connection)
        digests = _stored_digests(connection)
        _run([pg_dump, "--format=custom", f"--schema={schema}", f"--snapshot={snapshot}",
              "--no-owner", "--no-privileges", f"--file={dump}"], _libpq_env(engine.url))
        connection.rollback()
    return POSTGRES_MEMBER, dump, revision, tables, digests, schema


# ---- restoring ----------------------------------------------------------------------------

def read_manifest(path: Path) -> Manifest:
    """The manifest of the backup at ``path``, after checking every member's CRC.

    :raises BackupError: when the file is missing, cut short, damaged or not a backup.
    """
    with _open_backup(path) as archive:
        return _checked_manifest(path, archive)


@contextmanager
def _open_backup(path: Path) -> Iterator[zipfile.ZipFile]:
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"there is no backup at {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise BackupError(f"{path} is damaged or not a complete foitrack backup ({error})") from None


def _checked_manifest(path: Path, archive: zipfile.ZipFile) -> Manifest:
    names = set(archive.namelist())
    if MANIFEST not in names:
        raise BackupError(f"{path} is not a complete foitrack backup (it has no {MANIFEST})")
    bad = archive.testzip()
    if bad is not None:
        raise BackupError(f"{path} is damaged: {bad} does not match its checksum")
    manifest = Manifest.from_json(archive.read(MANIFEST))
    member = SQLITE_MEMBER if manifest.database == "sqlite" else POSTGRES_MEMBER
    missing = [name for name in (member, *(f"files/{d}" for d in manifest.files),
                                 *(f"outbox/{n}" for n in manifest.outbox)) if name not in names]
    if missing:
        raise BackupError(f"{path} is not a complete foitrack backup (missing {missing[0]})")
    return manifest


def restore_backup(engine: Engine, store: FileStore, path: Path, *, force: bool = False,
                   outbox: Path | None = None) -> Manifest:
    """Replace the database behind ``engine`` with the backup at ``path``, and restore its files
    (and its outbox messages into the ``outbox`` folder, when one is given).

    :raises BackupError: when the backup is damaged, was made from another kind of database or
        by a newer foitrack, or the database has data and ``force`` is not set. Nothing is
        changed in those cases.
    """
    path = Path(path)
    with _open_backup(path) as archive, tempfile.TemporaryDirectory(prefix="foitrack-restore-") as work:
        manifest = _checked_manifest(path, archive)
        if manifest.database != engine.dialect.name:
            raise BackupError(f"the backup is of a {manifest.database} database; this one is "
                              f"{engine.dialect.name} (restore into the same kind)")
        known = {script.revision for script in ScriptDirectory(str(migrations_dir())).walk_revisions()}
        if manifest.alembic_revision not in known:
            raise BackupError(f"the backup is at revision {manifest.alembic_revision}, which this "
                              "foitrack does not know: it was made by a newer foitrack; upgrade foitrack")
        member = SQLITE_MEMBER if manifest.database == "sqlite" else POSTGRES_MEMBER
        dump = Path(work) / member
        with archive.open(member) as source, dump.open("wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        if _sha256_file(dump) != manifest.database_sha256:
            raise BackupError(f"{path} is damaged: its database does not match the manifest")
        # Every file hashed as it is read, nothing kept: a damaged backup changes nothing.
        for digest in manifest.files:
            if _member_sha256(archive, f"files/{digest}") != digest:
                raise BackupError(f"{path} is damaged: file {digest[:12]} does not match its name")
        for name, digest in manifest.outbox.items():
            if _member_sha256(archive, f"outbox/{name}") != digest:
                raise BackupError(f"{path} is damaged: outbox message {name} does not match the manifest")
        if manifest.database == "sqlite":
            _check_sqlite_copy(dump, manifest)
        _refuse_unless_empty(engine, force)

        for digest in manifest.files:
            _restore_stored_file(archive, store, digest, path)
        if outbox is not None:
            _restore_outbox(archive, outbox, manifest.outbox, path)
        if manifest.database == "sqlite":
            _restore_sqlite(engine, dump)
        else:
            _restore_postgres(engine, dump, manifest)
    with engine.connect() as connection:
        restored = count_rows(connection)
    if {name: restored.get(name) for name in manifest.tables} != manifest.tables:
        raise BackupError("the restored database does not have the rows the backup lists; "
                          "restore again with --force, or from another backup")
    if manifest.alembic_revision != migrate.head_revision():
        try:
            migrate.upgrade(engine)
        except CommandError as error:
            raise BackupError(f"restored, but upgrading it failed: {error}") from None
    return manifest


def _member_sha256(archive: zipfile.ZipFile, name: str) -> str:
    """The SHA-256 of a zip member, read a piece at a time (its CRC is checked at the end)."""
    digest = hashlib.sha256()
    with archive.open(name) as source:
        while piece := source.read(_PIECE):
            digest.update(piece)
    return digest.hexdigest()


def _extract_checked(archive: zipfile.ZipFile, name: str, target: Path, digest: str,
                     prefix: str) -> bool:
    """Copy a zip member beside ``target``, hashing as it goes, and rename it into place when
    its SHA-256 is ``digest``; otherwise delete the copy and return False. The folder must
    exist. A reader (or a crash) never sees half a file, nor a file that does not match."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=prefix)
    try:
        found = hashlib.sha256()
        with os.fdopen(fd, "wb") as handle, archive.open(name) as source:
            while piece := source.read(_PIECE):
                found.update(piece)
                handle.write(piece)
        if found.hexdigest() != digest:
            Path(temporary).unlink()
            return False
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def _restore_stored_file(archive: zipfile.ZipFile, store: FileStore, digest: str,
                         path: Path) -> None:
    """Put one file of the backup into the store, streamed and checked as it goes."""
    if store.exists(digest):
        return  # content-addressed: the same bytes are there already
    location = store._path(digest)  # noqa: SLF001 - the store's own layout, written by its restore
    member = f"files/{digest}"
    if store.local:
        target = Path(location)
        target.parent.mkdir(parents=True, exist_ok=True)
        # The prefix FileStore.put writes with: a leftover of a killed restore is one that
        # `foitrack files prune` knows to remove.
        matched = _extract_checked(archive, member, target, digest, ".incoming.")
    else:
        # An object store writes the object whole when it is closed; one that does not match
        # is removed again.
        found = hashlib.sha256()
        with archive.open(member) as source, store.fs.open(location, "wb") as target_object:
            while piece := source.read(_PIECE):
                found.update(piece)
                target_object.write(piece)
        matched = found.hexdigest() == digest
        if not matched:
            store.fs.rm(location)
    if not matched:  # it matched a moment ago: the backup file changed while it was read
        raise BackupError(f"{path} changed while it was restored: file {digest[:12]} no longer "
                          "matches its name; restore again")


def _restore_outbox(archive: zipfile.ZipFile, folder: Path, messages: dict[str, str],
                    path: Path) -> None:
    """Put the backup's outbox messages back; messages written since stay (like stored files,
    an extra one never harms, and deleting mail a person may still need is not a restore's job)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, digest in messages.items():
        # Names were checked against _OUTBOX_NAME: one plain name, so this stays in the folder.
        if not _extract_checked(archive, f"outbox/{name}", folder / name, digest, ".restoring."):
            raise BackupError(f"{path} changed while it was restored: outbox message {name} no "
                              "longer matches the manifest; restore again")


def _refuse_unless_empty(engine: Engine, force: bool) -> None:
    with engine.connect() as connection:
        counts = count_rows(connection)
    filled = {name: rows for name, rows in counts.items() if rows}
    if filled and not force:
        total = sum(filled.values())
        raise BackupError(
            f"the database already holds data ({total} rows in {len(filled)} tables, e.g. "
            f"{next(iter(filled))}); restoring would replace all of it. Use --force to replace it"
        )


def _check_sqlite_copy(copy: Path, manifest: Manifest) -> None:
    copy_engine = _engine_for_file(copy)
    try:
        with copy_engine.connect() as connection:
            if connection.scalar(text("PRAGMA integrity_check")) != "ok":
                raise BackupError("the backup's database fails SQLite's integrity check")
            if count_rows(connection) != manifest.tables:
                raise BackupError("the backup's database does not have the rows its manifest lists")
    except BackupError:
        raise
    except Exception as error:  # a damaged file reads as anything from "not a database" on
        raise BackupError(f"the backup's database cannot be read ({error})") from None
    finally:
        copy_engine.dispose()


def _restore_sqlite(engine: Engine, copy: Path) -> None:
    target_path = _sqlite_path(engine.url)
    # Pooled connections must not keep pages of the database being replaced.
    engine.dispose()
    target_path.parent.mkdir(parents=True, exist_ok=True)
    # The backup API writes the whole database in one locked step: readers see old or new.
    # It writes through SQLite, never over the file's bytes, so the target's -wal and -shm
    # files (WAL mode, foitrack.db) are SQLite's to settle: a -wal left by a crashed process
    # is recovered or replaced, never laid over the restored pages.
    _sqlite_copy(copy, target_path)


def _restore_postgres(engine: Engine, dump: Path, manifest: Manifest) -> None:
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    with engine.connect() as connection:
        schema = connection.scalar(text("SELECT current_schema()"))
        if schema is None:
            raise BackupError("the database URL's search_path names no schema that exists; create it")
        existing = set(inspect(connection).get_table_names())
    env = _libpq_env(engine.url)
    env.pop("PGOPTIONS", None)
    # Everything, the drop of what is there included, runs in one transaction: a failure
    # part-way (or rows that do not match the manifest) leaves the database as it was.
    drops = [name for name in (*_table_names(), "alembic_version", *manifest.tables) if name in existing]
    preamble = "".join(f"DROP TABLE IF EXISTS {_quote(schema)}.{_quote(name)} CASCADE;\n"
                       for name in dict.fromkeys(drops))
    checks = "".join(
        f"DO $$ BEGIN IF (SELECT count(*) FROM {_quote(schema)}.{_quote(name)}) <> {rows} THEN "
        f"RAISE EXCEPTION 'table {name} has not the {rows} rows the backup lists'; END IF; END $$;\n"
        for name, rows in manifest.tables.items()
    )
    source_schema = manifest.schema or "public"
    engine.dispose()
    with tempfile.TemporaryFile("w+") as errors_out:
        restore = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(dump)],
            stdout=subprocess.PIPE, stderr=errors_out, text=True, env=env,
        )
        load = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
             "--file=-"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors_out, text=True, env=env,
        )
        assert restore.stdout is not None and load.stdin is not None
        try:
            load.stdin.write(preamble)
            _copy_renaming_schema(restore.stdout, load.stdin, source_schema, schema)
            load.stdin.write(checks)
        except BrokenPipeError:
            pass  # psql stopped at an error; its message is in errors_out
        finally:
            with suppress(BrokenPipeError):
                load.stdin.close()
        restore_code, load_code = restore.wait(), load.wait()
        if restore_code or load_code:
            errors_out.seek(0)
            lines = [line for line in errors_out.read().splitlines() if line.strip()]
            raise BackupError("the database was not changed: "
                              + (lines[-1] if lines else "pg_restore or psql failed"))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _copy_renaming_schema(source: IO[str], target: IO[str], old: str, new: str) -> None:
    """Copy pg_restore's SQL, putting objects of schema ``old`` into ``new``.

    pg_dump qualifies every name with its schema, and the target (a PostgreSQL schema per
    site or per test) may be called differently. Data rows (between ``COPY ... FROM stdin;``
    and ``\\.``) are passed through untouched; the schema's own CREATE/ALTER/COMMENT are dropped
    because the target schema exists already.
    """
    qualified = re.compile(r'(?<![\w"$])(?:' + re.escape(old) + "|" + re.escape(_quote(old)) + r")(?=\.)")
    own = re.compile(r"^(CREATE|ALTER|COMMENT ON) SCHEMA (" + re.escape(old) + "|"
                     + re.escape(_quote(old)) + r")\b")
    in_copy = False
    for line in source:
        if in_copy:
            target.write(line)
            if line.rstrip("\n") == "\\.":
                in_copy = False
            continue
        if own.match(line):
            continue
        if old != new:
            line = qualified.sub(_quote(new).replace("\\", "\\\\"), line)
        if line.startswith("COPY ") and line.rstrip().endswith("FROM stdin;"):
            in_copy = True
        target.write(line)
