"""``tenantctl sandbox demo``: the whole job, in one command."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from rich.text import Text

from tenantctl import onboarding
from tenantctl.cli.app import App, pass_app
from tenantctl.cli.report import LiveView, summary
from tenantctl.config import Credentials, SiteConfig
from tenantctl.engine import RunReport
from tenantctl.playbook import Playbook, load_playbook
from tenantctl.sandbox.server import Sandbox
from tenantctl.secrets import Secret
from tenantctl.steps import onboarding_steps
from tenantctl.steps.base import Context
from tenantctl.steps.dashboard import dashboard_variable
from tenantctl.textedit import allowlist, ci_include


@click.command()
@click.option(
    "--playbook",
    "-p",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=Path("playbooks/contractors.yml"),
    show_default=True,
    help="The playbook to onboard.",
)
@pass_app
def demo(app: App, playbook: Path) -> None:
    """Onboard a tenant in a throw-away sandbox, twice, and show the result.

    Starts a sandbox in this process, onboards the playbook, runs it again to
    show that nothing changes the second time, prints what now exists, and
    stops. Nothing outside this process is touched.
    """
    book = load_playbook(playbook)
    sandbox = Sandbox()
    sandbox.start()
    try:
        with tempfile.TemporaryDirectory(prefix="tenantctl-demo-") as tmp:
            ctx = _context(sandbox, book, Path(tmp))
            first = _run(app, sandbox, ctx, "first run")
            second = _run(app, sandbox, ctx, "second run")
            if not first.failed:
                _show_state(app, ctx)
    finally:
        sandbox.stop()
    if first.failed or second.failed or second.changed:
        app.console.error("the demo did not converge (see above)")
        sys.exit(1)


def _context(sandbox: Sandbox, book: Playbook, tmp: Path) -> Context:
    config = SiteConfig.model_validate(sandbox.site_config(tmp / "journal.jsonl"))
    credentials = Credentials(
        gitlab_token=Secret(sandbox.gitlab.admin_token),
        vault_token=Secret(sandbox.vault.root_token),
        keycloak_client_secret=Secret(sandbox.keycloak.admin_client_secret),
        keycloak_username=None,
        keycloak_password=None,
    )
    return onboarding.build_context(
        config,
        credentials,
        book,
        dry_run=False,
        runner_config_path=str(tmp / f"{book.tenant}-runner.toml"),
    )


def _run(app: App, sandbox: Sandbox, ctx: Context, label: str) -> RunReport:
    sandbox.reset_counts()
    title = f"\n== {label}: onboarding {ctx.tenant} =="
    app.console.result(Text(title, style="bold"))
    view = LiveView(app.console, len(onboarding_steps()), dry_run=False)
    report = onboarding.onboard(ctx, view)
    summary(app.console, report)
    totals = sandbox.request_totals()
    parts = [f"{name} {totals[name]}" for name in sorted(totals)]
    app.console.result("API requests made: " + (", ".join(parts) or "none"))
    return report


def _show_state(app: App, ctx: Context) -> None:
    """What the platform holds for the tenant now, read back from it."""
    gl, kc, vault = ctx.gitlab, ctx.keycloak, ctx.vault
    tenant = ctx.tenant
    group = gl.find_group(ctx.playbook.full_path)
    assert group is not None
    group_id = int(group["id"])
    members = sorted(m["username"] for m in gl.list_members(group_id))
    kc_group = kc.find_group(tenant)
    runners = gl.group_runners(group_id)
    pipeline = ctx.config.pipeline
    ci = gl.read_file(pipeline.project, ".gitlab-ci.yml", pipeline.branch)
    dash = ctx.config.dashboard
    allow = gl.read_file(dash.project, dash.allowlist.file, dash.branch)
    record = vault.read(ctx.vault_path("token"), secret_keys=("token",))
    variable = dashboard_variable(ctx.config, tenant)
    lines = [
        f"GitLab group     {group['full_path']} (id {group_id}), members: "
        + ", ".join(members),
        f"Keycloak group   /{tenant}: "
        + ("present" if kc_group else "MISSING")
        + f", members {sorted(kc.group_member_names(str(kc_group['id'])))}"
        if kc_group
        else "Keycloak group   MISSING",
        "Pipeline         include entry "
        + (
            "present"
            if ci and ci_include.find_include(ci.content, tenant)
            else "MISSING"
        )
        + f", {ci_include.group_file_path(tenant)}",
        "Runner           "
        + ", ".join(
            f"#{r['id']} tags={r.get('tag_list')} locked={r.get('locked')} "
            f"access={r.get('access_level')}"
            for r in runners
        ),
        f"Labels           {len(gl.group_labels(group_id))} own labels",
        "Dashboard        allow-list "
        + str(
            allow
            and allowlist.read_entries(
                allow.content, dash.allowlist.format, dash.allowlist.locator
            )
        )
        + f", variable {variable}",
        "Token            "
        + (
            f"id {record.data.get('token_id')}, scopes {record.data.get('scopes')}, "
            f"expires {record.data.get('expires_at')}, kept in Vault at "
            f"{ctx.config.vault.mount}/{ctx.vault_path('token')}"
            if record
            else "MISSING"
        ),
    ]
    app.console.result(Text("\n== what now exists ==", style="bold"))
    for line in lines:
        app.console.result(Text(line))
