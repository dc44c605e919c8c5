"""Fixtures: a migrated database (SQLite, or PostgreSQL when FOITRACK_TEST_DATABASE_URL is set),
the app, a test client, a CLI runner and a session. Each test starts with empty tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from foitrack import broker, create_app, migrate
from foitrack.db import Base, Database, make_engine
from foitrack.services import users
from tests.databases import ScratchDatabases

# Modules whose tests share one costly module-scoped fixture (the load test's run): under xdist
# all their tests go to one worker, so the fixture is built once. pytest-xdist's xdist_group
# marker would say this, but under pytest 9 it has no effect (xdist 3.8 renames item._nodeid,
# which pytest 9 no longer reads), so the scheduler below groups these modules by path.
SHARED_FIXTURE_MODULES = {"tests/test_load_smoke.py"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadgroup`, with SHARED_FIXTURE_MODULES each kept on one worker."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SharedFixtureModules(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in SHARED_FIXTURE_MODULES else super()._split_scope(nodeid)

    return SharedFixtureModules(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser and slow tests first, so that under xdist the workers start on them and none is
    left running alone at the end; the order within each group stays as collected."""
    items.sort(key=lambda item: not (item.get_closest_marker("browser")
                                     or item.get_closest_marker("slow")))


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[PasswordHasher | None]:
    """argon2id at its lowest cost while the tests run in this process.

    The production cost (64 MiB, three passes) is the point of argon2 and takes 0.1-0.3 s a hash
    here; the suite hashes or verifies a password for nearly every user it makes and every
    sign-in, which cost minutes. The hashes are still argon2id, in the same format, verified by
    the same code; only the work per hash is smaller. Commands run as subprocesses keep the
    real cost. Yields the app's own hasher (None if it is no longer where this looks).
    """
    real = getattr(users, "_hasher", None)
    if not isinstance(real, PasswordHasher):
        # services/users no longer keeps its hasher there: the tests run at the real cost, and
        # test_real_password_hashes_are_memory_hard says so.
        yield None
        return
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    patch = pytest.MonkeyPatch()
    patch.setattr(users, "_hasher", cheap)
    patch.setattr(users, "_DUMMY_HASH", cheap.hash("not a real password, used for timing only"))
    yield real
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def head_revision_read_once() -> Iterator[None]:
    """Every app the tests build checks its database against the newest migration; the
    migration scripts do not change while the tests run, so they are read once, not per app."""
    head = migrate.head_revision()
    patch = pytest.MonkeyPatch()
    patch.setattr(migrate, "head_revision", lambda: head)
    yield
    patch.undo()


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept in memory for the whole test process.

    Every test builds its own app, and so its own Jinja environment, which would parse and
    compile every template it renders again (a seventh of the suite's time). Jinja checks each
    template's source against the checksum kept with its code, so an edited template is compiled
    afresh; the key also names the environment's settings that change the compiled code, so an
    app set up differently (the commands' app without the web side) never gets another's code.
    """

    def __init__(self) -> None:
        self.codes: dict[tuple[object, ...], bytes] = {}

    @staticmethod
    def _key(bucket: Bucket) -> tuple[object, ...]:
        env = bucket.environment
        return (bucket.key, env.block_start_string, env.block_end_string,
                env.variable_start_string, env.variable_end_string, env.comment_start_string,
                env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
                env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
                env.keep_trailing_newline, env.optimized, env.is_async,
                env.finalize is not None, repr(env.autoescape), tuple(sorted(env.extensions)))

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.codes.get(self._key(bucket))
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.codes[self._key(bucket)] = bucket.bytecode_to_string()


@pytest.fixture(scope="session", autouse=True)
def templates_compiled_once() -> Iterator[None]:
    """Every app the tests build shares one store of compiled templates (_CompiledTemplates)."""
    patch = pytest.MonkeyPatch()
    patch.setattr(Flask, "jinja_options", {**Flask.jinja_options,
                                           "bytecode_cache": _CompiledTemplates()})
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def url_builders_compiled_once() -> Iterator[None]:
    """Werkzeug writes and compiles two Python functions for each URL rule of each app it
    builds: for ~80 routes, most of what building an app costs, paid by nearly every test. The
    function depends only on what is read below (it reaches the rule itself through its first
    argument), so one made for an equal rule is reused. If werkzeug's Rule no longer has the
    method, nothing is patched and apps cost what they did."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:
        yield
        return
    made: dict[tuple[object, ...], Callable[..., tuple[str, str]]] = {}

    def reused(rule: Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        defaults = rule.defaults or {}
        dynamic = {data for is_dynamic, data in rule._trace if is_dynamic}
        key = (append_unknown, rule.rule, tuple(rule._trace),
               tuple((name, rule._converters[name].to_url(value) if name in dynamic else None)
                     for name, value in defaults.items()))
        if key not in made:
            made[key] = compile_builder(rule, append_unknown)
        return made[key]

    patch = pytest.MonkeyPatch()
    patch.setattr(Rule, "_compile_builder", reused)
    yield
    patch.undo()


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchDatabases]:
    databases = ScratchDatabases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def database_url(scratch: ScratchDatabases) -> str:
    url = scratch.new_url()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def _empty_tables(app: Flask) -> None:
    engine = app.extensions["foitrack.db"].engine
    tables = list(reversed(Base.metadata.sorted_tables))
    if engine.dialect.name != "postgresql":
        with engine.begin() as connection:
            for table in tables:
                connection.execute(table.delete())
        return
    names = ", ".join(f'"{table.name}"' for table in tables)
    # PostgreSQL's autovacuum holds a table's lock while it takes its TOAST table's, and
    # TRUNCATE takes them in its own order: now and then the two deadlock, PostgreSQL cancels
    # the TRUNCATE (a CI run failed so), and trying again finds autovacuum gone.
    for attempt in range(1, 6):
        try:
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as error:
            if attempt == 5 or getattr(error.orig, "sqlstate", None) != "40P01":
                raise


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    """One engine (and session factory) on the test database for every `app` of this process.

    SQLAlchemy keeps the SQL it compiled per engine, so a fresh engine per test compiled every
    statement again (a seventh of the suite's time). The engine is made exactly as the app makes
    its own, and its connections are closed after each test, as before; the app's own engine
    still checks the schema when the app is built.
    """
    shared = Database(make_engine(database_url))
    yield shared
    shared.engine.dispose()


@pytest.fixture
def app(database_url: str, database: Database, instance_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance_path),
            "SECRET_KEY": uuid.uuid4().hex,
            "TESTING": True,
        }
    )
    app.extensions["foitrack.db"].engine.dispose()
    app.extensions["foitrack.db"] = database
    broker.watch(database, app.config)  # jobs asked for through it go to this app's queue
    yield app
    _empty_tables(app)
    app.extensions["foitrack.db"].engine.dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.extensions["foitrack.db"].session() as session:
        yield session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def cli_env(database_url: str, instance_path: Path) -> dict[str, str]:
    return {"FOITRACK_DATABASE_URL": database_url, "FOITRACK_INSTANCE_PATH": str(instance_path)}


@pytest.fixture
def runner(app: Flask, cli_env: dict[str, str]) -> CliRunner:
    """Runs `foitrack ...` against the test database (the app fixture empties it afterwards)."""
    return CliRunner(env=cli_env)
