"""A built wheel carries the templates, migrations, registry and population estimates, and
serves pages from them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import foitrack
    from foitrack import create_app, migrate, paths
    from foitrack.db import make_engine

    site = Path(sys.argv[1]).resolve()
    assert Path(foitrack.__file__).resolve().is_relative_to(site), foitrack.__file__
    assert paths.templates_dir().is_relative_to(site), paths.templates_dir()
    assert paths.migrations_dir().is_relative_to(site), paths.migrations_dir()
    url = sys.argv[2]
    migrate.upgrade(make_engine(url))
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": sys.argv[3]})
    from foitrack.services.registry import load_registry
    from foitrack.services.audit import Actor
    with app.extensions["foitrack.db"].session() as session:
        report = load_registry(session, Actor.system("wheel test"))
        print("loaded", len(report.created), report.populations.created)
        session.commit()
    page = app.test_client().get("/auth/sign-in")
    print(page.status_code, "<h1>Sign in</h1>" in page.get_data(as_text=True))
    """
)


def test_a_built_wheel_renders_pages_and_migrates(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, timeout=300,
    )
    wheel = next((tmp_path / "dist").glob("foitrack-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {"foitrack/templates/base.html", "foitrack/migrations/env.py",
                "foitrack/data/police-forces.csv", "foitrack/data/police-force-area-population.csv",
                "foitrack/data/SOURCES.md", "foitrack/static/foitrack.css"} <= names
        assert any(name.startswith("foitrack/migrations/versions/") for name in names)
        archive.extractall(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    env.pop("FOITRACK_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "site"),
         f"sqlite:///{tmp_path / 'wheel.sqlite3'}", str(tmp_path / "instance")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["loaded", "48", "315", "200", "True"]
