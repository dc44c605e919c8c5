"""How quickly the command line answers: each command against the floor of importing Flask and
SQLAlchemy, in the same run.

    python -m benchmarks.cli [--runs 9]

Every timing is a fresh interpreter started as a user's shell starts it (the installed
`foitrack` script, or `python -m foitrack.cli` when there is none), waited for to the end;
the figure is the median of --runs. The commands take turns, so that a busy moment of the
machine falls on all of them alike. `requests event` records one event each run, each on a
request of its own, in a scratch SQLite database made for the run (the 48 police forces and a
campaign to the 43 of England and Wales).

Goals (issue 15): `--help` at most 1.2x the floor, the others at most 1.5x, on the wall clock
(`ok` judges that); the CPU time each used is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = "python -c 'import flask, sqlalchemy'"
GOALS = {"foitrack --help": 1.2}
DEFAULT_GOAL = 1.5


def foitrack_command() -> list[str]:
    """The installed script beside this interpreter, or the module when there is none."""
    script = Path(sys.executable).with_name("foitrack")
    return [str(script)] if script.exists() else [sys.executable, "-m", "foitrack.cli"]


def scratch_database(folder: Path) -> tuple[dict[str, str], list[str]]:
    """A migrated SQLite database with the forces and a draft campaign; its environment and the
    slugs of the campaign's authorities."""
    from foitrack import migrate
    from foitrack.db import Database, make_engine
    from foitrack.services.audit import Actor
    from foitrack.services.campaigns import create_campaign
    from foitrack.services.registry import REGISTRY_FILE, load_registry

    url = f"sqlite:///{folder / 'foitrack.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    actor = Actor.system("benchmarks.cli")
    with Database(engine).session() as session:
        load_registry(session, actor, REGISTRY_FILE)
        campaign = create_campaign(session, actor, title="Benchmark", slug="bench",
                                   request_text="Dear {{ authority.name }}, how many?",
                                   set_slug="england-wales")
        slugs = sorted(request.authority.slug for request in campaign.requests)
        session.commit()
    engine.dispose()
    env = {**os.environ, "FOITRACK_DATABASE_URL": url, "FOITRACK_INSTANCE_PATH": str(folder)}
    # A user's Python keeps the bytecode of what it compiled (pip compiles an installed wheel);
    # with PYTHONDONTWRITEBYTECODE set, as in some sandboxes and CI images, every run would
    # compile foitrack's sources again and time the compiler, not the command.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env, slugs


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from start to exit of one fresh process, and the CPU seconds it used (user and
    system: less disturbed than the wall clock by whatever else the machine is doing).

    :raises RuntimeError: when it fails.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each command (median; "
                        "at most 42: `requests event` takes a request of its own each time)")
    args = parser.parse_args(argv)
    runs = max(1, min(args.runs, 42))
    foitrack = foitrack_command()
    with tempfile.TemporaryDirectory(prefix="foitrack-bench-cli-") as folder:
        env, slugs = scratch_database(Path(folder))
        commands = {
            FLOOR: lambda _i: [sys.executable, "-c", "import flask, sqlalchemy"],
            "foitrack --help": lambda _i: [*foitrack, "--help"],
            "foitrack deadline 2023-04-28": lambda _i: [*foitrack, "deadline", "2023-04-28"],
            "foitrack campaigns list": lambda _i: [*foitrack, "campaigns", "list"],
            "foitrack requests event bench FORCE sent 2019-05-01": lambda i: [
                *foitrack, "requests", "event", "bench", slugs[i], "sent", "2019-05-01"],
            # Issue 21: the queue's commands (Celery is imported only by worker and scheduler).
            "foitrack jobs": lambda _i: [*foitrack, "jobs"],
            "foitrack worker --help": lambda _i: [*foitrack, "worker", "--help"],
        }
        # One untimed run of each (on the 43rd request), so that the bytecode caches are
        # written before timing.
        for command in commands.values():
            timed(command(runs), env)
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(runs):
            for name, command in commands.items():
                took, used = timed(command(i), env)
                wall[name].append(took)
                cpu[name].append(used)
    medians = {name: statistics.median(values) for name, values in wall.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    floor, cpu_floor = medians[FLOOR], cpu_medians[FLOOR]
    width = max(len(name) for name in commands)
    print(f"{'command':<{width}}  {'median_ms':>9}  {'ratio':>5}  {'cpu_ms':>6}  {'cpu_ratio':>9}"
          f"  {'goal':>4}  ok")
    for name, median in medians.items():
        ratio = median / floor
        goal = None if name == FLOOR else GOALS.get(name, DEFAULT_GOAL)
        verdict = "" if goal is None else ("yes" if ratio <= goal else "NO")
        print(f"{name:<{width}}  {median * 1000:>9.0f}  {ratio:>5.2f}  "
              f"{cpu_medians[name] * 1000:>6.0f}  {cpu_medians[name] / cpu_floor:>9.2f}  "
              f"{'' if goal is None else f'{goal:.1f}x':>4}  {verdict}")
    print(f"({runs} runs each, median; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f} at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
