"""Benchmark runner: prints one table. Not part of the test suite (a smoke run at the smallest size is).

    python -m benchmarks.run --sizes 1000,10000,100000 [--postgres URL] [--repeat 3]

For each size and database it generates the data, then measures, in the same run:
- aggregate: the app's national aggregate of one campaign against one hand-written SQL query
  computing the same totals (the floor), as a ratio; and of every campaign in turn against one
  query grouping every figure by campaign too;
- export: the app's CSV export of every figure, against the database's own CSV output of the
  same join (sqlite3's .mode csv, or PostgreSQL's COPY), as a ratio, with the peak memory of
  the exporting process;
- import: a tidy CSV of about as many rows as the size (one campaign of monthly periods, made
  for it) through the app's import in a child process, against a plain DB-API executemany of
  the same rows, as a ratio, with the peak memory of the importing process.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from foitrack import migrate
from foitrack.db import Database, make_engine
from foitrack.models import Authority, Campaign
from foitrack.services import aggregate
from foitrack.services.campaigns import get_campaign

ROOT = Path(__file__).resolve().parent.parent

FLOOR_SQL = """
SELECT f.measure_id, f.period_id, f.category_id,
       SUM(CASE WHEN f.kind = 'exact' THEN f.value ELSE 0 END),
       SUM(CASE WHEN f.kind = 'exact' THEN f.value WHEN f.kind = 'suppressed' THEN f.lower ELSE 0 END),
       SUM(CASE WHEN f.kind = 'exact' THEN f.value WHEN f.kind = 'suppressed' THEN f.upper ELSE 0 END),
       COUNT(DISTINCT CASE WHEN f.kind = 'exact' THEN f.request_id END)
FROM figure f JOIN request r ON r.id = f.request_id
WHERE r.campaign_id = :campaign
GROUP BY f.measure_id, f.period_id, f.category_id
"""

# The same totals for every campaign at once: one scan of every figure.
FLOOR_ALL_SQL = """
SELECT r.campaign_id, f.measure_id, f.period_id, f.category_id,
       SUM(CASE WHEN f.kind = 'exact' THEN f.value ELSE 0 END),
       SUM(CASE WHEN f.kind = 'exact' THEN f.value WHEN f.kind = 'suppressed' THEN f.lower ELSE 0 END),
       SUM(CASE WHEN f.kind = 'exact' THEN f.value WHEN f.kind = 'suppressed' THEN f.upper ELSE 0 END),
       COUNT(DISTINCT CASE WHEN f.kind = 'exact' THEN f.request_id END)
FROM figure f JOIN request r ON r.id = f.request_id
GROUP BY r.campaign_id, f.measure_id, f.period_id, f.category_id
"""

EXPORT_SQL = """
SELECT COALESCE(a.code, a.slug), a.name, m.key, p.key, p.start, p."end", COALESCE(d.key, ''),
       COALESCE(c.label, ''), f.kind, f.value, f.lower, f.upper, f.caveat, f.source
FROM figure f JOIN request r ON r.id = f.request_id JOIN authority a ON a.id = r.authority_id
JOIN measure m ON m.id = f.measure_id JOIN period p ON p.id = f.period_id
LEFT JOIN category c ON c.id = f.category_id LEFT JOIN dimension d ON d.id = c.dimension_id
ORDER BY a.name, m.position, p.position, d.position, c.position
"""


PARTS = ("aggregate", "export", "import")


def best(run: Callable[[], Any], repeat: int) -> float:
    """The median of ``repeat`` timed runs (the machine is shared: the median resists noise)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fresh_database(backend: str, size: int, postgres: str | None,
                   prefix: str = "foitrack_bench") -> str:
    if backend == "sqlite":
        path = _sqlite_path(size, prefix)
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    assert postgres
    name = f"{prefix}_{size}"
    admin = make_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return postgres.rsplit("/", 1)[0] + f"/{name}"


def existing_database(backend: str, size: int, postgres: str | None,
                      prefix: str = "foitrack_bench") -> str:
    if backend == "sqlite":
        return f"sqlite:///{_sqlite_path(size, prefix)}"
    assert postgres
    return postgres.rsplit("/", 1)[0] + f"/{prefix}_{size}"


def _sqlite_path(size: int, prefix: str) -> Path:
    """The SQLite file of a size: foitrack-bench-<size>.sqlite3 under the default prefix."""
    return Path(tempfile.gettempdir()) / f"{prefix.replace('_', '-')}-{size}.sqlite3"


def measure_size(backend: str, size: int, postgres: str | None, repeat: int,
                 parts: tuple[str, ...] = PARTS, reuse: bool = False,
                 prefix: str = "foitrack_bench") -> dict[str, Any]:
    from benchmarks.generate import generate, shape_for

    url = (existing_database(backend, size, postgres, prefix) if reuse
           else fresh_database(backend, size, postgres, prefix))
    engine = make_engine(url)
    migrate.upgrade(engine)
    database = Database(engine)
    if reuse:
        shape = shape_for(size)
    else:
        with database.session() as session:
            shape = generate(session, size)
            session.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    result: dict[str, Any] = {"backend": backend, "figures": shape.figures,
                              "campaigns": shape.campaigns, "authorities": shape.authorities}
    if "aggregate" in parts:
        with database.session() as session:
            campaign = get_campaign(session, "bench-0")
            result["aggregate_s"] = best(lambda: aggregate.build(
                session, campaign, with_authorities=False), repeat)
            result["floor_s"] = best(lambda: session.execute(
                text(FLOOR_SQL), {"campaign": campaign.id}).all(), repeat)
        result["aggregate_ratio"] = result["aggregate_s"] / result["floor_s"]

        def every_campaign() -> None:
            # A fresh session each time: loading each campaign's design is part of the work.
            with database.session() as session:
                for campaign in session.scalars(select(Campaign).where(
                        Campaign.slug.like("bench-%"), Campaign.slug != "bench-import")):
                    aggregate.build(session, campaign, with_authorities=False)

        result["aggregate_all_s"] = best(every_campaign, repeat)
        with database.session() as session:
            result["floor_all_s"] = best(lambda: session.execute(text(FLOOR_ALL_SQL)).all(),
                                         repeat)
        result["aggregate_all_ratio"] = result["aggregate_all_s"] / result["floor_all_s"]
    if "export" in parts:
        result.update(_export(url, backend, engine, repeat))
    if "import" in parts:
        result.update(_import(database, url, size, repeat))
    engine.dispose()
    return result


def _export(url: str, backend: str, engine: Any, repeat: int) -> dict[str, Any]:
    """The app's CSV export of every figure, in a child process so its peak memory is its own."""
    script = PEAK + (
        "import sys, io, datetime\n"
        "from foitrack.db import Database, make_engine\n"
        "from foitrack.exporters.dataset import Table, write_csv\n"
        "from foitrack.services.datasets import FIGURE_COLUMNS, figure_rows, figure_text_rows\n"
        "from foitrack.models import Campaign\n"
        "from sqlalchemy import select\n"
        "db = Database(make_engine(sys.argv[1]))\n"
        "import time\n"
        "start = time.perf_counter()\n"
        "with db.session() as s, open(sys.argv[2], 'w', newline='') as out:\n"
        "    campaigns = s.scalars(select(Campaign)).all()\n"
        "    rows = lambda: (r for c in campaigns for r in figure_rows(s, c))\n"
        "    text_rows = lambda: (r for c in campaigns for r in figure_text_rows(s, c))\n"
        "    write_csv(Table('figures', 'Figures', '', FIGURE_COLUMNS, rows, text_rows), out, False)\n"
        "print(time.perf_counter() - start)\n"
        "print(peak_mb())\n"
    )
    target = Path(tempfile.gettempdir()) / "foitrack-bench-export.csv"
    times, inside, peaks = [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        output, peak = _child(["-c", script, url, str(target)])
        times.append(time.perf_counter() - start)
        inside.append(float(output[-1]))
        peaks.append(peak)
    rows = sum(1 for _ in target.open()) - 1
    floor_target = Path(tempfile.gettempdir()) / "foitrack-bench-floor.csv"
    if backend == "sqlite":
        database = url.removeprefix("sqlite:///")
        command = ["sqlite3", "-csv", database, EXPORT_SQL.replace("\n", " ")]
    else:
        plain = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        command = ["psql", plain, "-c",
                   f"\\copy ({EXPORT_SQL.replace(chr(10), ' ')}) TO STDOUT WITH CSV"]
    floor_times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with floor_target.open("wb") as handle:
            subprocess.run(command, check=True, stdout=handle)
        floor_times.append(time.perf_counter() - start)
    app_s, floor_s = statistics.median(times), statistics.median(floor_times)
    # The speed counts the child's start (the interpreter and the app's imports: a second or
    # two, like the CLI's); export_query_s is the export alone, from session to last row.
    query_s = statistics.median(inside)
    return {"export_rows": rows, "export_s": app_s, "export_query_s": query_s,
            "export_floor_s": floor_s, "export_speed": floor_s / app_s,
            "export_query_speed": floor_s / query_s, "export_peak_mb": max(peaks)}


# A child's own peak memory: VmHWM starts again at exec (ru_maxrss would count the pages of
# the runner it was forked from).
PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

IMPORT_SCRIPT = PEAK + """
import sys, time
from foitrack.db import Database, make_engine
from foitrack.models import Authority
from foitrack.services.audit import Actor
from foitrack.services.campaigns import get_campaign
from foitrack.services.figures import import_csv
database = Database(make_engine(sys.argv[1]))
with database.session() as session, open(sys.argv[2], "rb") as source:
    start = time.perf_counter()
    campaign = get_campaign(session, sys.argv[3])
    report = import_csv(session, Actor.system("benchmark"), campaign, source)
    session.flush()
    print(time.perf_counter() - start, report.created)
    session.rollback()
print(peak_mb())
"""


def _child(arguments: list[str]) -> tuple[list[str], float]:
    """Run a child Python script ending with print(peak_mb()): its other output, and its peak
    resident memory in MB."""
    output = subprocess.run([sys.executable, *arguments], check=True, cwd=ROOT,
                            capture_output=True).stdout.decode().split()
    return output[:-1], float(output[-1])


def _import(database: Database, url: str, size: int, repeat: int) -> dict[str, Any]:
    """A tidy CSV of about ``size`` rows (one campaign, every cell once) through the app's
    import, in a child process (its peak memory is its own), against a plain DB-API
    executemany of the same rows; both rolled back."""
    from benchmarks.generate import IMPORT_CAMPAIGN, import_campaign, write_import_csv
    from foitrack.domain.figure_values import parse
    from foitrack.models import Period, Request

    path = Path(tempfile.gettempdir()) / f"foitrack-bench-import-{size}.csv"
    with database.session() as session:
        import_campaign(session, size)
        session.commit()
        with path.open("w", newline="") as out:
            write_import_csv(session, out)
        campaign = session.scalars(select(Campaign).where(
            Campaign.slug == IMPORT_CAMPAIGN)).one()
        requests = dict(session.execute(
            select(func.coalesce(Authority.code, Authority.slug), Request.id)
            .join(Authority, Authority.id == Request.authority_id)
            .where(Request.campaign_id == campaign.id)).all())
        periods = dict(session.execute(select(Period.key, Period.id).where(
            Period.campaign_id == campaign.id)).all())
        categories = {c.label: c.id for d in campaign.dimensions for c in d.categories}
        measure = campaign.measures[0].id
    times, peaks, created = [], [], 0
    for _ in range(repeat):
        output, peak = _child(["-c", IMPORT_SCRIPT, url, str(path), IMPORT_CAMPAIGN])
        seconds, created_text = output[-2:]
        times.append(float(seconds))
        peaks.append(peak)
        created = int(created_text)
    # The floor's rows: the same figures, already resolved to ids and parsed.
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    raw = []
    with path.open(newline="") as handle:
        for code, _measure, period, _dimension, category, text_value, _c, source in list(
                csv.reader(handle))[1:]:
            value = parse(text_value)
            raw.append((requests[code], measure, periods[period], categories.get(category),
                        value.kind.value, value.value, value.lower, value.upper, source,
                        "bench", now, now))
    columns = ("request_id", "measure_id", "period_id", "category_id", "kind", "value", "lower",
               "upper", "source", "entered_by", "entered_at", "updated_at")
    marker = "%s" if database.engine.dialect.name == "postgresql" else "?"
    insert_sql = (f"INSERT INTO figure ({', '.join(columns)}) "
                  f"VALUES ({', '.join([marker] * len(columns))})")


    def plain_import() -> None:
        connection = database.engine.raw_connection()
        try:
            cursor = connection.cursor()
            for start in range(0, len(raw), 50_000):
                cursor.executemany(insert_sql, raw[start:start + 50_000])
            connection.rollback()
        finally:
            connection.close()

    plain_s = best(plain_import, repeat)
    app_s = statistics.median(times)
    assert created == len(raw), (created, len(raw))
    return {"import_rows": len(raw), "import_s": app_s, "import_floor_s": plain_s,
            "import_ratio": app_s / plain_s, "import_peak_mb": max(peaks)}


COLUMNS = (
    ("backend", "{}"), ("figures", "{:,}"), ("aggregate_s", "{:.3f}"), ("floor_s", "{:.3f}"),
    ("aggregate_ratio", "{:.2f}"), ("aggregate_all_s", "{:.2f}"), ("floor_all_s", "{:.2f}"),
    ("aggregate_all_ratio", "{:.2f}"), ("export_rows", "{:,}"), ("export_s", "{:.2f}"),
    ("export_query_s", "{:.2f}"), ("export_floor_s", "{:.2f}"), ("export_speed", "{:.2f}"),
    ("export_query_speed", "{:.2f}"), ("export_peak_mb", "{:.0f}"),
    ("import_rows", "{:,}"), ("import_s", "{:.2f}"), ("import_floor_s", "{:.2f}"),
    ("import_ratio", "{:.1f}"), ("import_peak_mb", "{:.0f}"),
)


def table(results: list[dict[str, Any]]) -> str:
    header = [name for name, _ in COLUMNS]
    lines = [[fmt.format(r[name]) if name in r else "-" for name, fmt in COLUMNS] for r in results]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    rendered = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    rendered += ["  ".join(v.rjust(w) for v, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(rendered)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000", help="figures, comma-separated")
    parser.add_argument("--postgres", help="a PostgreSQL server URL to benchmark too")
    parser.add_argument("--repeat", type=int, default=3, help="the median of this many runs")
    parser.add_argument("--only", default=",".join(PARTS), help="measure only these, comma-separated")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the databases of a former run instead of generating them")
    parser.add_argument("--csv", help="also write the results to this CSV file")
    parser.add_argument("--prefix", default="foitrack_bench",
                        help="name the databases <prefix>_<size> (SQLite: <prefix>-<size>.sqlite3"
                        " in the temporary folder), so that runs sharing a server keep apart")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="which of sqlite,postgresql to run (postgresql needs --postgres)")
    args = parser.parse_args(argv)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        for backend in [b for b in ("sqlite", "postgresql") if b in args.backends.split(",")
                        and (b == "sqlite" or args.postgres)]:
            results.append(measure_size(backend, size, args.postgres, args.repeat,
                                        tuple(args.only.split(",")), args.reuse,
                                        args.prefix))
            print(f"done {backend} {size:,}", file=sys.stderr, flush=True)
    print(table(results))
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(results[0]))
            writer.writeheader()
            writer.writerows(results)
    if "aggregate" in args.only:
        print(f"median aggregate ratio "
              f"{statistics.median(r['aggregate_ratio'] for r in results):.2f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
