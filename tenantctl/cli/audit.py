"""``tenantctl audit``: every tenant checked for completeness and isolation."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from typing import cast

import click
from rich.text import Text

from tenantctl import audit
from tenantctl.adapters.gitlab import GitLab
from tenantctl.adapters.keycloak import Keycloak
from tenantctl.adapters.vault import Vault
from tenantctl.cli.app import App, pass_app
from tenantctl.console import Console

STYLES = {"info": "dim", "low": "cyan", "medium": "yellow", "high": "bold red"}


@click.command("audit")
@click.option(
    "--group",
    "-g",
    "groups",
    multiple=True,
    metavar="G",
    help="Audit only this tenant (repeatable) [default: every tenant].",
)
@click.option(
    "--fail-on",
    type=click.Choice(audit.SEVERITIES),
    default="high",
    show_default=True,
    help="Exit 3 when a finding is at or above this severity.",
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json", "junit"]),
    default="text",
    show_default=True,
    help="text for people; json prints one JSON document; junit prints JUnit "
    "XML (one testcase per check per tenant) for CI test reports.",
)
@pass_app
def audit_command(app: App, groups: tuple[str, ...], fail_on: str, output: str) -> None:
    """Audit every tenant: complete, isolated, tokens sound; changes nothing.

    Tenants are the groups with a playbook, a live Vault record or a
    dashboard allow-list entry. For each: the GitLab group and members,
    the Keycloak group, role and a member's groups claim, the pipeline
    file and include rule, runner isolation (tags, untagged jobs, locked,
    protected, other runners with its tag, last contact), label drift, the
    dashboard entry and variable, and the token (working, within its
    lifetime, no broader than the tier, GL_TOKEN masked and protected, the
    same value in Vault and both variables, compared by fingerprint). Site
    wide: CI lint of the shared pipeline, the groups mapper, playbooks.

    Each finding has a severity: info, low, medium or high. Exit status: 0
    when none is at or above --fail-on, 3 otherwise.

    \b
    Examples:
      tenantctl audit
      tenantctl audit --group contractors --fail-on medium
      tenantctl audit --output junit > audit.xml
    """
    level = cast(audit.Severity, fail_on)
    app.console.output = "json" if output == "json" else "text"
    config = app.config()
    credentials = app.credentials(config)
    site = audit.Site(
        config=config,
        gitlab=GitLab(config.gitlab, credentials.gitlab_token),
        keycloak=Keycloak(config.keycloak, credentials),
        vault=Vault(config.vault, credentials.vault_token),
    )

    def progress(tenant: str) -> None:
        app.console.info(f"auditing {tenant} ...")

    report = audit.run_audit(site, list(groups), progress)
    app.console.document(report.as_dict(level))
    if output == "junit":
        app.console.result(Text(junit_xml(report, level)))
    elif output == "text":
        render(app.console, report, level)
    if report.at_or_above(level):
        sys.exit(3)


def render(
    console: Console, report: audit.AuditReport, fail_on: audit.Severity
) -> None:
    """A table per tenant, then the counts and the verdict."""
    for one in report.audits:
        title = f"{one.tenant} ({one.tier})" if one.tenant != audit.SHARED else "site"
        table = console.table(title)
        for column in ("check", "severity", "finding"):
            table.add_column(column)
        for finding in sorted(one.findings, key=lambda f: -audit.rank(f.severity)):
            severity = Text(finding.severity, style=STYLES[finding.severity])
            table.add_row(finding.check, severity, finding.message)
        if not one.findings:
            table.add_row(f"{len(one.checks)} checks", "", "no findings")
        console.result(table)
    counts = ", ".join(f"{n} {sev}" for sev, n in report.counts().items())
    failing = len(report.at_or_above(fail_on))
    verdict = f"{failing} finding(s) at or above {fail_on}" if failing else "passed"
    console.result(Text(f"Findings: {counts}. Audit {verdict}."))


def junit_xml(report: audit.AuditReport, fail_on: audit.Severity) -> str:
    """JUnit XML: a testsuite per tenant, a testcase per check, a failure
    for each finding at or above ``fail_on`` (the rest in system-out)."""
    suites = ET.Element("testsuites", name="tenantctl audit")
    for one in report.audits:
        suite = ET.SubElement(suites, "testsuite", name=one.tenant)
        failures = 0
        for check in one.checks:
            case = ET.SubElement(
                suite, "testcase", name=check, classname=f"tenantctl.audit.{one.tenant}"
            )
            failures += _findings_of(case, one.of(check), fail_on)
        suite.set("tests", str(len(one.checks)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("timestamp", report.checked_at.isoformat())
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def _findings_of(
    case: ET.Element, findings: list[audit.Finding], fail_on: audit.Severity
) -> int:
    failing = [f for f in findings if audit.rank(f.severity) >= audit.rank(fail_on)]
    if failing:
        worst = max(failing, key=lambda f: audit.rank(f.severity))
        failure = ET.SubElement(
            case, "failure", message=worst.message, type=worst.severity
        )
        failure.text = "\n".join(f"[{f.severity}] {f.message}" for f in failing)
    rest = [f for f in findings if f not in failing]
    if rest:
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(f"[{f.severity}] {f.message}" for f in rest)
    return 1 if failing else 0
