"""`make bench`: run the benchmark rows, print a table, write bench/results.json.

Each module `bench/rows_*.py` defines `ROWS = {"group name": function}`; a function takes the
parsed options and returns a list of `Row`s. Rows run on whatever the environment configures
(PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set)."""

import argparse
import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path

from bench.common import Row, write_results

HERE = Path(__file__).resolve().parent


def discover() -> dict:
    groups = {}
    for mod in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda m: m.name):
        if mod.name.startswith("rows_"):
            module = importlib.import_module(f"bench.{mod.name}")
            groups.update(module.ROWS)
    return groups


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--rows", default="", help="comma-separated row or group names to run")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    from django.conf import settings

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)  # worker logs and beat schedules go here
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise warns in every process without it
    wanted = {r.strip() for r in args.rows.split(",") if r.strip()}
    groups = discover()
    rows: list[Row] = []
    for group, fn in groups.items():
        if wanted and group not in wanted and not any(w.startswith(group) or group.startswith(w) for w in wanted):
            continue
        print(f"… {group}", file=sys.stderr, flush=True)
        started = time.monotonic()
        produced = fn(args)
        print(f"  done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
        rows.extend(produced)
    write_results(rows, merge=bool(wanted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
