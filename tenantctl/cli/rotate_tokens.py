"""``tenantctl rotate-tokens``: rotate tenants' tokens that are due."""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from tenantctl import rotation
from tenantctl.cli.app import App, pass_app
from tenantctl.cli.options import (
    dry_run_option,
    lock_timeout_option,
    output_option,
)
from tenantctl.console import Console
from tenantctl.errors import InputError, TenantctlError
from tenantctl.rotation import Options, Policy, RotationReport, TenantResult


class Duration(click.ParamType[dt.timedelta, Any]):
    """``90d``, ``12h``, ``2w``: a number and a unit (s, m, h, d, w)."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.timedelta:
        if isinstance(value, dt.timedelta):
            return value
        try:
            return rotation.parse_duration(str(value))
        except InputError as exc:
            self.fail(str(exc), param, ctx)


@click.command("rotate-tokens")
@click.option(
    "--group",
    "-g",
    "groups",
    multiple=True,
    metavar="GROUP",
    help="Rotate only this tenant's token (repeatable) [default: every tenant "
    "with a token in Vault].",
)
@click.option(
    "--older-than",
    type=Duration(),
    default="90d",
    show_default=True,
    help="Rotate tokens at least this old (90d, 12h, 2w).",
)
@click.option(
    "--expiring-within",
    type=Duration(),
    default="14d",
    show_default=True,
    help="Rotate tokens that expire within this time.",
)
@click.option("--force", is_flag=True, help="Rotate every selected token, due or not.")
@dry_run_option
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Tenants rotated in parallel (GitLab's rate limit is obeyed).",
)
@lock_timeout_option
@output_option
@pass_app
def rotate_tokens(
    app: App,
    groups: tuple[str, ...],
    older_than: dt.timedelta,
    expiring_within: dt.timedelta,
    force: bool,
    dry_run: bool,
    jobs: int,
    lock_timeout: float,
    output: str,
) -> None:
    """Rotate tenants' GitLab tokens that are due, and repair half-done ones.

    A token is due when it is older than --older-than, expires within
    --expiring-within, no longer works, or --force is given. Each is rotated
    through GitLab with an explicit expiry (tokens.lifetime_days), written to
    Vault, then to the group's GL_TOKEN and the dashboard's variable, and
    checked. A run that was interrupted is finished by the next one. Needs
    GITLAB_TOKEN (a group Owner's token) and VAULT_TOKEN in the environment
    (or, in a CI job, VAULT_AUTH=jwt with VAULT_ROLE and VAULT_JWT).

    Exit status: 0 when every due token was rotated or none was due, 1 when
    any tenant failed or was locked by another run.

    \b
    Examples:
      tenantctl rotate-tokens --dry-run
      tenantctl rotate-tokens --group contractors --force
      tenantctl rotate-tokens --older-than 60d --jobs 8 --output json
    """
    app.console.output = "json" if output == "json" else "text"
    config = app.config()
    conn = rotation.connection_from_env(config)
    policy = Policy(older_than=older_than, expiring_within=expiring_within, force=force)
    options = Options(
        policy=policy, dry_run=dry_run, jobs=jobs, lock_timeout=lock_timeout
    )

    with ExitStack() as stack:
        on_result = _progress(app.console, stack, len(groups) or None)
        report = rotation.rotate_all(conn, list(groups), options, on_result)

    render(app.console, report)
    if report.failed:
        names = ", ".join(r.tenant for r in report.failed)
        raise TenantctlError(
            f"token rotation failed for: {names}",
            hint="see the errors above; run again to finish (nothing is lost)",
        )


def _progress(console: Console, stack: ExitStack, total: int | None) -> Any:
    """A progress bar on a terminal; one line per tenant otherwise."""
    if not console.err.is_terminal:
        return lambda result: console.info(line(result))
    bar = Progress(
        TextColumn("rotating tokens"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console.err,
        transient=True,
    )
    stack.enter_context(bar)
    task = bar.add_task("tenants", total=total)

    def advance(result: TenantResult) -> None:
        console.info(line(result))  # the live bar shares console.err
        bar.advance(task)

    return advance


def line(result: TenantResult) -> str:
    """``contractors: rotated (older than 90d)`` and the like."""
    text = f"{result.tenant}: {result.outcome}"
    if result.reasons:
        text += f" ({'; '.join(result.reasons)})"
    if result.repaired:
        text += f"; set {', '.join(result.repaired)} to Vault's token"
    if result.error:
        text += f": {result.error}"
    return text


def render(console: Console, report: RotationReport) -> None:
    """The final table on stdout, or the JSON document."""
    console.document(report.as_dict())
    title = "token rotation" + (" (dry run: nothing written)" if report.dry_run else "")
    table = console.table(title)
    for column in ("tenant", "token", "age", "new expiry", "result"):
        table.add_column(column)
    for result in report.results:
        table.add_row(
            result.tenant,
            f"{result.token_name or '-'} #{result.token_id or '-'}",
            "-" if result.age_days is None else f"{result.age_days}d",
            result.new_expires_at or "-",
            _verdict(result),
        )
    console.result(table)
    if not report.results:
        console.result(Text("No tenant has a token in Vault: nothing to rotate."))


def _verdict(result: TenantResult) -> str:
    if result.outcome == "due":
        return "due: " + "; ".join(result.reasons)
    if result.outcome == "repaired":
        return "repaired: " + ", ".join(result.repaired)
    return result.outcome
