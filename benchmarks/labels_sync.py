"""Benchmark ``tenantctl labels sync``: requests, wall time and peak memory.

Builds a sandbox GitLab holding a source group of N labels and T target
groups that hold the same labels with a share of drift (a third missing, a
third with another color, a third with another description), serves it from
a child process on 127.0.0.1, runs the sync, and reports the requests the
sandbox counted against the minimum (the pages listing each group's labels,
100 a page, plus one write per drifted label), the wall time and the peak
memory of the syncing process.

    .venv/bin/python benchmarks/labels_sync.py                 # 50 x 300, 5 %
    .venv/bin/python benchmarks/labels_sync.py --labels 1200   # memory growth
    .venv/bin/python benchmarks/labels_sync.py --gitlabracadabra PATH/TO/gitlabracadabra

With ``--gitlabracadabra``, the same sync is also run by that tool (from a
separate virtual environment) against a fresh copy of the same state.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml
from click.testing import CliRunner

from tenantctl.cli.main import cli
from tenantctl.sandbox.gitlab import GitLabEmulator
from tenantctl.sandbox.gitlab_groups import create_group
from tenantctl.sandbox.gitlab_labels import create_label
from tenantctl.sandbox.server import Sandbox

SOURCE = "labels-source"


@dataclass(frozen=True)
class Shape:
    targets: int
    labels: int
    drift: float

    @property
    def drifted(self) -> int:
        return round(self.labels * self.drift)

    @property
    def missing(self) -> int:
        return self.drifted // 3

    def target_names(self) -> list[str]:
        return [f"bench-{i:03}" for i in range(1, self.targets + 1)]

    def source_labels(self) -> list[tuple[str, str, str]]:
        return [
            (f"area::{i:04}", f"#{(i * 2654435761) % 0xFFFFFF:06X}", f"Label {i}")
            for i in range(self.labels)
        ]

    def minimum_requests(self) -> int:
        """Source pages + per target: its pages and one write per drift."""
        per_target = math.ceil((self.labels - self.missing) / 100) + self.drifted
        return math.ceil(self.labels / 100) + self.targets * per_target


def build_state(shape: Shape) -> dict[str, Any]:
    """The seeded platform plus the benchmark's groups and labels."""
    emulator = GitLabEmulator()
    emulator.seed_platform()
    labels = shape.source_labels()
    with emulator.lock:
        source = create_group(emulator, SOURCE, SOURCE)
        for name, color, description in labels:
            create_label(emulator, name, color, description, group_id=source["id"])
        for offset, path in enumerate(shape.target_names()):
            group = create_group(emulator, path, path)
            for name, color, description in _drifted(shape, labels, offset):
                create_label(emulator, name, color, description, group_id=group["id"])
    return emulator.dump_state()


def _drifted(
    shape: Shape, labels: list[tuple[str, str, str]], offset: int
) -> Iterator[tuple[str, str, str]]:
    """A target's copy: ``drifted`` labels, spread out, missing or changed."""
    step = max(shape.labels // max(shape.drifted, 1), 1)
    chosen = {(offset + k * step) % shape.labels: k for k in range(shape.drifted)}
    for index, (name, color, description) in enumerate(labels):
        kind = chosen.get(index)
        if kind is None:
            yield name, color, description
        elif kind < shape.missing:
            continue
        elif kind % 2:
            yield name, "#000000" if color != "#000000" else "#FFFFFF", description
        else:
            yield name, color, description + " (old)"


# -- the sandbox in a child process ------------------------------------------------


def serve(state_file: Path, config_file: Path) -> None:
    """Child mode: serve the state until stdin closes; print the env once."""
    sandbox = Sandbox()
    sandbox.start()
    with sandbox.gitlab.lock:
        sandbox.gitlab.load_state(json.loads(state_file.read_text()))
    config = sandbox.write_config(config_file)
    sys.stdout.write(json.dumps(sandbox.env(config)) + "\n")
    sys.stdout.flush()
    sys.stdin.read()
    sandbox.stop()


@contextmanager
def sandbox_process(state_file: Path, workdir: Path) -> Iterator[dict[str, str]]:
    config = workdir / "tenantctl.yaml"
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(state_file), str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        env: dict[str, str] = json.loads(child.stdout.readline())
        requests.delete(f"{env['GITLAB_URL']}/_sandbox/counts", timeout=10)
        yield env
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def counted(env: dict[str, str]) -> dict[str, int]:
    answer = requests.get(f"{env['GITLAB_URL']}/_sandbox/counts", timeout=10)
    data: dict[str, int] = answer.json()
    return data


# -- the runs -------------------------------------------------------------------


def run_tenantctl(
    shape: Shape, env: dict[str, str], jobs: int, trace: bool
) -> dict[str, Any]:
    args = ["labels", "sync", SOURCE, *shape.target_names()]
    args += ["--jobs", str(jobs), "--output", "json"]
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    result = CliRunner().invoke(cli, args, env=env)
    wall = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.stop()
    if result.exit_code != 0:
        raise SystemExit(f"sync failed ({result.exit_code}):\n{result.stderr}")
    summary = json.loads(result.stdout)["summary"]
    return {"wall": wall, "peak": peak, "writes": summary["writes"]}


def run_gitlabracadabra(
    exe: str, shape: Shape, env: dict[str, str], workdir: Path
) -> dict[str, Any]:
    """The same sync as a gitlabracadabra action file (one group per target)."""
    labels = [
        {"name": name, "color": color, "description": description}
        for name, color, description in shape.source_labels()
    ]
    actions = {
        f"{path}/": {"type": "group", "labels": labels} for path in shape.target_names()
    }
    action_file = workdir / "gitlabracadabra.yml"
    action_file.write_text(yaml.safe_dump(actions, sort_keys=False))
    child_env = {
        **os.environ,
        "GITLAB_URL": env["GITLAB_URL"],
        "GITLAB_PRIVATE_TOKEN": env["GITLAB_TOKEN"],
        "HOME": str(workdir),
    }
    started = time.perf_counter()
    done = subprocess.run(
        [exe, "--fail-on-errors", str(action_file)],
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    return {"wall": wall, "code": done.returncode, "stderr": done.stderr[-2000:]}


def report(
    name: str, shape: Shape, counts: dict[str, int], run: dict[str, Any]
) -> None:
    total = sum(counts.values())
    lines = [
        f"{name}: {total} requests (minimum {shape.minimum_requests()}), "
        f"wall {run['wall']:.2f} s",
    ]
    for key, value in sorted(counts.items()):
        lines.append(f"    {value:6}  {key}")
    if run.get("peak") is not None:
        lines.append(f"    peak traced memory {run['peak'] / 2**20:.1f} MiB")
    for line in lines:
        sys.stdout.write(line + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--labels", type=int, default=300)
    parser.add_argument("--drift", type=float, default=0.05)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--gitlabracadabra", metavar="EXECUTABLE")
    parser.add_argument("--serve", nargs=2, metavar=("STATE", "CONFIG"))
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), Path(args.serve[1]))
        return

    shape = Shape(args.targets, args.labels, args.drift)
    with tempfile.TemporaryDirectory(prefix="labels-bench-") as tmp:
        workdir = Path(tmp)
        state_file = workdir / "gitlab.json"
        state_file.write_text(json.dumps(build_state(shape)))
        sys.stdout.write(
            f"{shape.targets} targets x {shape.labels} labels, "
            f"{shape.drifted} drifted each ({shape.missing} missing), "
            f"--jobs {args.jobs}\n"
        )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with sandbox_process(state_file, workdir) as env:
            run = run_tenantctl(shape, env, args.jobs, trace=False)
            report("tenantctl", shape, counted(env), run)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sys.stdout.write(
            f"    max RSS {rss_after / 1024:.1f} MiB "
            f"(+{(rss_after - rss_before) / 1024:.1f} MiB during the sync)\n"
        )
        with sandbox_process(state_file, workdir) as env:
            traced = run_tenantctl(shape, env, args.jobs, trace=True)
            sys.stdout.write(
                f"    peak traced memory {traced['peak'] / 2**20:.1f} MiB "
                f"(a second run, under tracemalloc: {traced['wall']:.2f} s)\n"
            )
        if args.gitlabracadabra:
            with sandbox_process(state_file, workdir) as env:
                other = run_gitlabracadabra(args.gitlabracadabra, shape, env, workdir)
                report("gitlabracadabra", shape, counted(env), other)
                sys.stdout.write(f"    exit code {other['code']}\n")
                if other["code"]:
                    sys.stdout.write(other["stderr"] + "\n")


if __name__ == "__main__":
    main()
