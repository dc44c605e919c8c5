"""The database: declarative Base, engine and sessions per app, and start-up checks."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, DateTime, Enum, MetaData, Table, Update, create_engine, event
from sqlalchemy.engine import URL, CursorResult, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from foitrack.config import ConfigError

# Named constraints, so Alembic (batch mode on SQLite) can drop and alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def str_enum(cls: type[enum.Enum], name: str, length: int = 40) -> Enum:
    """A column type storing an enum's values as text, with a named CHECK on every backend."""
    return Enum(
        cls, name=name, native_enum=False, create_constraint=True, length=length,
        values_callable=lambda members: [member.value for member in members],
    )


def utcnow() -> dt.datetime:
    """Now, in UTC; used as a column default callable so each row gets its own time."""
    return dt.datetime.now(dt.UTC)


def parse_database_url(raw: str) -> URL:
    """Parse and normalise a database URL, or raise ConfigError with a one-line reason.

    ``postgresql://`` is taken to mean psycopg 3, the driver foitrack installs.
    """
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"FOITRACK_DATABASE_URL {raw!r} is not a database URL; "
            "use e.g. sqlite:////path/to/foitrack.sqlite3 or postgresql://user@host/dbname"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"FOITRACK_DATABASE_URL uses {url.get_backend_name()!r}; "
            "foitrack supports sqlite and postgresql"
        )
    return url


# How long an SQLite statement waits for another connection's write lock before failing with
# "database is locked" (pysqlite's default is 5 s). Long enough for an import's batch or a
# download's snapshot to finish, short of gunicorn's 30 s worker timeout.
SQLITE_BUSY_TIMEOUT_MS = 15_000


def _sqlite_connection_settings(wal: bool) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # SQLite ignores foreign keys unless asked on every connection.
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if wal:
                # Write-ahead logging: readers (every page, a download's snapshot) go on while a
                # long import writes, and writers only wait for each other. Kept in the file, so
                # this only changes anything on the first connection to a database; the backup
                # (SQLite's online backup API) and restore go through SQLite and handle the
                # -wal and -shm files. A database on a network file system cannot use WAL; the
                # pragma then answers another mode, and SQLite goes on as before.
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    return on_connect


def make_engine(raw_url: str, *, sqlite_wal: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``raw_url``; raises ConfigError when the URL or its driver is unusable.

    SQLite files are put in WAL mode (``sqlite_wal=False`` leaves the mode alone, for scratch
    copies) and wait up to SQLITE_BUSY_TIMEOUT_MS for a lock.
    """
    url = parse_database_url(raw_url)
    if "prepare_threshold" in url.query:
        # psycopg prepares a statement on the server after it has run this often on a
        # connection (5). Behind PgBouncer in transaction pooling before 1.21, a connection's
        # prepared statements are another client's next time: `?prepare_threshold=none` turns
        # preparing off. The driver wants a number or None, which a URL cannot carry as such.
        raw = url.query["prepare_threshold"]
        value = raw if isinstance(raw, str) else raw[-1]
        url = url.difference_update_query(["prepare_threshold"])
        if value.strip().lower() in ("none", "off", ""):
            threshold = None
        elif value.strip().isdigit():
            threshold = int(value)
        else:
            raise ConfigError("FOITRACK_DATABASE_URL's prepare_threshold must be a whole number "
                              f"or none, not {value!r}")
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}),
                                  "prepare_threshold": threshold}
    try:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    except (NoSuchModuleError, ArgumentError, ImportError) as error:
        raise ConfigError(f"FOITRACK_DATABASE_URL cannot be used: {error}") from None
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        in_file = database not in ("", ":memory:") and not database.startswith("file:")
        if in_file:
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise ConfigError(
                    f"cannot create the folder for the SQLite database {database}: {error.strerror}"
                ) from None
        event.listen(engine, "connect", _sqlite_connection_settings(wal=sqlite_wal and in_file))
    return engine


class Database:
    """One app's engine and session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for CLI commands and scripts: committed by the caller, always closed."""
        session = self.sessionmaker()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only session whose statements all see one state of the database, for work
        that reads it in several statements and must agree with itself (a download holding the
        aggregate and the figures it sums). Rolled back and closed at the end.

        PostgreSQL: REPEATABLE READ, read only, set on this session's connection alone (the
        pool puts it back as it was). SQLite: one explicit transaction, as pysqlite starts none
        for reads (each statement would see the latest commit). On SQLite that transaction
        holds the read lock that makes writers wait, so keep the work inside short: build, then
        send (foitrack.web.downloads).
        """
        session = self.sessionmaker()
        try:
            if self.engine.dialect.name == "postgresql":
                session.connection(execution_options={
                    "isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
            else:
                session.connection().exec_driver_sql("BEGIN")
            yield session
        finally:
            session.close()


# ---- bulk writes straight to the driver -------------------------------------------------------
# For a million-row import SQLAlchemy's per-row parameter processing was the largest cost: rows
# go to the driver's own executemany instead, each value converted as its column type would.

def driver_converter(table: Table, column: str, dialect: Dialect) -> Callable[[Any], Any]:
    """How the driver takes a value for ``column``: its type's own conversion, or none."""
    process = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return process or (lambda value: value)


def driver_insert(connection: Connection, table: Table, columns: Sequence[str],
                  rows: list[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (values already in the driver's terms) with the driver's executemany."""
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})", rows)


def rows_updated(session: Session, statement: Update) -> int:
    """Run an UPDATE and say how many rows it changed: a conditional update's answer."""
    # The driver answers an UPDATE with a CursorResult, which Session.execute's types do not say.
    return cast(CursorResult[Any], session.execute(statement)).rowcount
