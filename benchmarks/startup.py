"""How fast ``tenantctl --help`` and ``--version`` start, against bare Python.

Run: ``.venv/bin/python benchmarks/startup.py [--runs N]``. Prints the median
wall time of each command over N runs, its ratio to ``python -c pass``, and
the slowest imports of ``--version`` (from ``python -X importtime``). The
target (issue 4) is under 3x bare Python, with no API client imported.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CLI = [sys.executable, "-m", "tenantctl.cli.main"]
HEAVY = ("gitlab", "keycloak", "hvac", "requests", "pydantic", "rich.console")


def wall(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def imports(args: list[str]) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) for every top-level import."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tenantctl.cli.main", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line[12:].split("|"))
        if cumulative.isdigit():
            rows.append((int(cumulative), name))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs

    bare = wall([sys.executable, "-c", "pass"], runs)
    sys.stdout.write(f"python -c pass       {bare * 1000:7.1f} ms\n")
    for args in (["--version"], ["--help"]):
        took = wall([*CLI, *args], runs)
        label = "tenantctl " + " ".join(args)
        sys.stdout.write(f"{label:20} {took * 1000:7.1f} ms  ({took / bare:.1f}x)\n")

    rows = imports(["--version"])
    loaded = {name.strip() for _, name in rows}
    heavy = [module for module in HEAVY if module in loaded]
    sys.stdout.write(f"heavy modules imported by --version: {heavy or 'none'}\n")
    sys.stdout.write("slowest imports of --version (cumulative):\n")
    for micros, name in sorted(rows, reverse=True)[:8]:
        sys.stdout.write(f"  {micros / 1000:7.1f} ms  {name.strip()}\n")


if __name__ == "__main__":
    main()
