"""Configuration from the environment, the secret key, and refusing to start on a bad database."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from foitrack import ConfigError, create_app, migrate
from foitrack.db import make_engine


def test_secret_key_is_generated_once_and_kept_in_the_instance_folder(tmp_path, database_url, monkeypatch):
    monkeypatch.delenv("FOITRACK_SECRET_KEY", raising=False)
    instance = tmp_path / "inst"
    first = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance)})
    second = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance)})
    key_file = instance / "secret_key"
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_two_instances_get_different_secret_keys(tmp_path, database_url, monkeypatch):
    monkeypatch.delenv("FOITRACK_SECRET_KEY", raising=False)
    one = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "a")})
    two = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "b")})
    assert one.config["SECRET_KEY"] != two.config["SECRET_KEY"]


def test_environment_variables_configure_the_app(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("FOITRACK_DATABASE_URL", database_url)
    monkeypatch.setenv("FOITRACK_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("FOITRACK_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("FOITRACK_SESSION_COOKIE_SECURE", "1")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.instance_path == str((tmp_path / "inst").resolve())
    assert not (tmp_path / "inst" / "secret_key").exists()


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("FOITRACK_DATABASE_URL", raising=False)
    instance = tmp_path / "inst"
    with pytest.raises(ConfigError, match="foitrack db upgrade"):
        create_app({"INSTANCE_PATH": str(instance)})
    app = create_app({"INSTANCE_PATH": str(instance), "CHECK_SCHEMA": False})
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance.resolve() / 'foitrack.sqlite3'}"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://root@localhost/foitrack", "supports sqlite and postgresql"),
    ],
)
def test_bad_database_url_stops_start_up_with_a_clear_line(tmp_path, url, message):
    with pytest.raises(ConfigError, match=message) as caught:
        create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path)})
    assert "\n" not in str(caught.value)


def test_unreachable_database_stops_start_up_with_a_clear_line(tmp_path):
    url = "postgresql://nobody@127.0.0.1:1/nothing"
    with pytest.raises(ConfigError, match="cannot connect to the database") as caught:
        create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path)})
    assert "\n" not in str(caught.value)


def test_database_behind_the_migrations_stops_start_up(scratch, tmp_path):
    url = scratch.new_url()
    engine = make_engine(url)
    with pytest.raises(ConfigError, match="no foitrack tables yet: run `foitrack db upgrade`"):
        create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path)})
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    with pytest.raises(ConfigError, match="newer foitrack"):
        create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path)})
    engine.dispose()


def test_postgresql_url_without_driver_uses_psycopg3():
    from foitrack.db import parse_database_url

    assert parse_database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


def test_gunicorn_entry_point_exits_with_one_line_on_an_unmigrated_database(scratch, tmp_path):
    env = {
        **os.environ,
        "FOITRACK_DATABASE_URL": scratch.new_url(),
        "FOITRACK_INSTANCE_PATH": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", "import foitrack.wsgi"], env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "foitrack: the database has no foitrack tables yet: run `foitrack db upgrade` "
        "(then `foitrack authorities load`)"
    ]


def test_an_empty_secret_key_file_is_reported_not_replaced(tmp_path, database_url, monkeypatch):
    monkeypatch.delenv("FOITRACK_SECRET_KEY", raising=False)
    (tmp_path / "inst").mkdir()
    (tmp_path / "inst" / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="secret_key is empty"):
        create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "inst")})


def test_an_unwritable_instance_folder_is_one_line(tmp_path, database_url, monkeypatch):
    monkeypatch.delenv("FOITRACK_SECRET_KEY", raising=False)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot keep the secret key in"):
        create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(blocker / "inst")})


def test_workers_starting_together_share_one_secret_key(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from foitrack.config import secret_key_from_instance

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: secret_key_from_instance(tmp_path / "inst"), range(32)))
    assert len(keys) == 1
    assert (tmp_path / "inst" / "secret_key").read_text().strip() in keys
    assert [p.name for p in (tmp_path / "inst").iterdir()] == ["secret_key"]


@pytest.mark.postgres
def test_prepare_threshold_in_the_url_reaches_the_driver():
    """Behind PgBouncer in transaction pooling (before 1.21) psycopg's server-side prepared
    statements break: `?prepare_threshold=none` in FOITRACK_DATABASE_URL turns them off
    (docs/deployment.md)."""
    from sqlalchemy import text

    from foitrack.config import ConfigError
    from foitrack.db import make_engine

    base = os.environ.get("FOITRACK_TEST_DATABASE_URL") or \
        "postgresql://postgres@127.0.0.1:5432/postgres"
    joiner = "&" if "?" in base else "?"
    for given, expected in (("none", None), ("0", 0), ("12", 12)):
        engine = make_engine(f"{base}{joiner}prepare_threshold={given}")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
            assert connection.connection.dbapi_connection.prepare_threshold == expected
        engine.dispose()
    with pytest.raises(ConfigError, match="prepare_threshold must be a whole number or none"):
        make_engine(f"{base}{joiner}prepare_threshold=soon")


def test_the_invitation_lifetime_comes_from_the_environment(tmp_path, monkeypatch):
    from foitrack.config import load_config

    monkeypatch.setenv("FOITRACK_SECRET_KEY", "k")
    assert load_config(tmp_path)["INVITATION_DAYS"] == 7
    monkeypatch.setenv("FOITRACK_INVITATION_DAYS", "3")
    assert load_config(tmp_path)["INVITATION_DAYS"] == 3
    monkeypatch.setenv("FOITRACK_INVITATION_DAYS", "0")
    with pytest.raises(ConfigError, match="FOITRACK_INVITATION_DAYS must be at least 1"):
        load_config(tmp_path)
