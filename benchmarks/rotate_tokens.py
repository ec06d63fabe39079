"""Benchmark ``tenantctl rotate-tokens``: many tenants due at once, under
GitLab's rate limit.

Seeds an in-process sandbox with T tenants as onboarding's step 7 leaves
them (group, token, Vault record, ``GL_TOKEN`` and dashboard variable),
moves the clock 80 days on (every token then expires within the 14-day
window: all are due, and still rotatable), turns GitLab's rate limit on,
and runs the rotation through the CLI. Reports the requests GitLab served per tenant
(those counted against the operator's token, and all of them), the 429s,
the wall time, and the floor: the operator's requests divided by the rate
limit. The target is under 1.2 x the floor, with no failures.

    .venv/bin/python benchmarks/rotate_tokens.py                  # 200 at 600/min
    .venv/bin/python benchmarks/rotate_tokens.py --tenants 20 --per-minute 120
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gitlab
import hvac
from click.testing import CliRunner

from tenantctl.cli.main import cli
from tenantctl.sandbox.core import ApiError
from tenantctl.sandbox.server import Sandbox


def seed(sandbox: Sandbox, env: dict[str, str], tenants: int) -> None:
    gl = gitlab.Gitlab(env["GITLAB_URL"], private_token=env["GITLAB_TOKEN"])
    kv = hvac.Client(url=env["VAULT_ADDR"], token=env["VAULT_TOKEN"]).secrets.kv.v2
    dashboard = gl.projects.get("administrators/dashboard")
    expires = (sandbox.gitlab.today() + dt.timedelta(days=90)).isoformat()
    for n in range(tenants):
        name = f"tenant-{n:03d}"
        group = gl.groups.create({"name": name, "path": name})
        made = group.access_tokens.create(
            {
                "name": "tenantctl",
                "scopes": ["read_api"],
                "access_level": 30,
                "expires_at": expires,
            }
        )
        kv.create_or_update_secret(
            path=f"tenantctl/tenants/{name}/token",
            mount_point="secret",
            secret={
                "token": made.token,
                "token_id": made.id,
                "name": "tenantctl",
                "scopes": ["read_api"],
                "access_level": 30,
                "created_at": made.created_at,
                "expires_at": made.expires_at,
                "group_id": group.id,
                "tenant": name,
            },
        )
        value = {"value": made.token, "masked": True, "raw": True}
        group.variables.create({"key": "GL_TOKEN", "protected": True, **value})
        key = "GITLAB_TOKEN_" + name.upper().replace("-", "_")
        dashboard.variables.create({"key": key, "protected": False, **value})


def operator_requests(sandbox: Sandbox) -> int:
    """Requests made with the operator's token: every route but the tokens'
    self look-ups (made with the tenants' own tokens, each its own limit)."""
    return sum(
        count
        for key, count in sandbox.gitlab.counts.items()
        if "personal_access_tokens/self" not in key
    )


def count_refusals(sandbox: Sandbox) -> list[int]:
    """Counts the 429s the rate limiter answers (in a one-item list)."""
    refused = [0]
    throttle = sandbox.gitlab.throttle

    def counting(request: Any, value: str | None) -> None:
        try:
            throttle(request, value)
        except ApiError as exc:
            refused[0] += exc.status == 429
            raise

    sandbox.gitlab.throttle = counting  # type: ignore[method-assign]
    return refused


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--per-minute", type=int, default=600)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        sandbox = Sandbox()
        sandbox.start()
        config = sandbox.write_config(Path(folder) / "tenantctl.yaml")
        env = sandbox.env(config)
        os.environ.update(env)
        seed(sandbox, env, args.tenants)
        sandbox.clock.advance(80 * 86400)
        sandbox.gitlab.rate_limit = args.per_minute
        refused = count_refusals(sandbox)
        sandbox.reset_counts()

        started = time.monotonic()
        result = CliRunner().invoke(
            cli,
            ["rotate-tokens", "--jobs", str(args.jobs), "--output", "json"],
            env=dict(os.environ),
        )
        wall = time.monotonic() - started
        sandbox.gitlab.rate_limit = None
        counts = dict(sandbox.gitlab.counts)
        operator = operator_requests(sandbox) - refused[0]
        sandbox.stop()

    doc = json.loads(result.stdout)
    failed = doc["failed"]
    total = sum(counts.values())
    floor = operator / args.per_minute * 60
    say(f"tenants            {args.tenants} (jobs {args.jobs})")
    say(f"outcomes           {sorted({t['outcome'] for t in doc['tenants']})}")
    say(f"failed             {len(failed)}  exit {result.exit_code}")
    say(f"GitLab requests    {total} ({total / args.tenants:.1f} per tenant)")
    say(f"  operator token   {operator} ({operator / args.tenants:.1f} per tenant)")
    say(f"  answered 429     {refused[0]}")
    say(f"rate limit         {args.per_minute}/min -> floor {floor:.1f} s")
    say(f"wall time          {wall:.1f} s = {wall / floor:.2f} x floor")


if __name__ == "__main__":
    main()
