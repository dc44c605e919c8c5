"""Where the files that live beside the package are: templates, migrations, shipped data.

In a checkout (and an editable install) ``templates/`` and ``migrations/`` sit at the top of
the repository; a built wheel carries them inside the package. Both layouts are supported.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


def _beside_package(name: str) -> Path:
    inside = PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    checkout = PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"foitrack cannot find its {name}/ folder (looked in {inside} and {checkout})")


def templates_dir() -> Path:
    """The Jinja templates folder."""
    return _beside_package("templates")


def migrations_dir() -> Path:
    """The Alembic script folder."""
    return _beside_package("migrations")
