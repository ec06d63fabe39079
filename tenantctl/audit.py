"""Auditing every tenant: still complete, still isolated?

An audit only reads. The tenants are the groups that have a playbook, a
live Vault record, or a dashboard allow-list entry. Each check yields
findings with a severity (info < low < medium < high); a scheduled run
fails (exit 3) when one is at or above a chosen level. Comparisons against
the playbook reuse ``tenantctl status`` (the onboarding steps' dry-run
plans), labels come from the same plan as ``labels diff``, and the groups
claim from ``tenantctl.claims``. Token values are compared by fingerprint
and never leave this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from tenantctl import status as tenant_status
from tenantctl import tokens
from tenantctl.adapters.gitlab import GitLab
from tenantctl.adapters.keycloak import Keycloak
from tenantctl.adapters.vault import Vault
from tenantctl.claims import check_claims
from tenantctl.config import SiteConfig
from tenantctl.errors import InputError, TenantctlError
from tenantctl.playbook import Playbook, Tier, load_playbook
from tenantctl.secrets import Secret
from tenantctl.steps.base import Context
from tenantctl.steps.dashboard import dashboard_variable
from tenantctl.steps.keycloak_group import MAPPER_CONFIG, MAPPER_NAME, MAPPER_TYPE
from tenantctl.steps.pipeline import CI_FILE
from tenantctl.textedit import allowlist, ci_include
from tenantctl.tiers import TierSettings, tier_defaults

Json = dict[str, Any]
Severity = Literal["info", "low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high")
SHARED = "(shared)"
GROUP_FILES = ".gitlab-ci/groups/"

# A runner silent for longer than this is reported (issue 7).
STALE_RUNNER = dt.timedelta(days=7)
# A token this close to its expiry is reported before it breaks pipelines.
EXPIRY_WARNING = dt.timedelta(days=14)
# Scopes that only read; any other scope the tier lacks widens the token.
READ_ONLY_SCOPES = {"read_api", "read_repository", "read_registry"}


def rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    message: str

    def as_dict(self) -> Json:
        return {"check": self.check, "severity": self.severity, "message": self.message}


@dataclass
class TenantAudit:
    """One tenant's checks (those that ran) and what they found."""

    tenant: str
    tier: str = "unknown"
    sources: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def add(self, check: str, severity: Severity, message: str) -> None:
        self.findings.append(Finding(check, severity, message))

    def of(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def as_dict(self) -> Json:
        return {
            "tenant": self.tenant,
            "tier": self.tier,
            "sources": self.sources,
            "checks": self.checks,
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass
class AuditReport:
    checked_at: dt.datetime
    shared: TenantAudit
    tenants: list[TenantAudit]

    @property
    def audits(self) -> list[TenantAudit]:
        """The site-wide checks first, then each tenant's."""
        return [self.shared, *self.tenants]

    def at_or_above(self, level: Severity) -> list[Finding]:
        return [
            f
            for a in self.audits
            for f in a.findings
            if rank(f.severity) >= rank(level)
        ]

    def counts(self) -> dict[str, int]:
        found = [f.severity for a in self.audits for f in a.findings]
        return {severity: found.count(severity) for severity in SEVERITIES}

    def as_dict(self, fail_on: Severity) -> Json:
        return {
            "checked_at": self.checked_at.isoformat(),
            "fail_on": fail_on,
            "failed": bool(self.at_or_above(fail_on)),
            "counts": self.counts(),
            "shared": self.shared.as_dict(),
            "tenants": [audit.as_dict() for audit in self.tenants],
        }


# -- the run -----------------------------------------------------------------


@dataclass
class Site:
    """The clients and what every tenant's checks share, read once."""

    config: SiteConfig
    gitlab: GitLab
    keycloak: Keycloak
    vault: Vault
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    playbooks: dict[str, tuple[Playbook, Path]] = field(default_factory=dict)
    entries: list[str] = field(default_factory=list)
    ci_text: str = ""


def run_audit(
    site: Site,
    groups: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> AuditReport:
    """Audit the site's tenants (or only ``groups``), telling ``progress``
    of each tenant as it starts; reads only (CI lint is a POST that writes
    nothing)."""
    site.now = site.gitlab.server_time()
    shared = TenantAudit(SHARED, tier="-", sources=["site"])
    # The site checks also load the playbooks that discover() reads.
    _run_checks(shared, SHARED_CHECKS, lambda check: check(site, shared))
    found = discover(site)
    wanted = list(dict.fromkeys(groups)) if groups else sorted(found)
    unknown = [name for name in wanted if name not in found]
    if unknown:
        raise InputError(
            f"{', '.join(unknown)}: not a tenant (no playbook, no Vault "
            "record, no allow-list entry)",
            hint="name a tenant, or leave out --group to audit them all",
        )
    _run_checks(
        shared,
        [("pipeline includes", check_other_includes)],
        lambda check: check(site, shared, set(found) | set(wanted)),
    )
    audits = []
    for name in wanted:
        if progress is not None:
            progress(name)
        audits.append(audit_tenant(site, name, found.get(name, ["named"])))
    return AuditReport(site.now, shared, audits)


def discover(site: Site) -> dict[str, list[str]]:
    """Tenant name -> where it was found: playbook, vault, allow-list."""
    found: dict[str, list[str]] = {}
    for name in site.playbooks:
        found.setdefault(name, []).append("playbook")
    for name in _vault_tenants(site.vault):
        found.setdefault(name, []).append("vault")
    for name in site.entries:
        found.setdefault(name, []).append("allow-list")
    return found


def _vault_tenants(vault: Vault) -> list[str]:
    """Tenants with a live (not soft-deleted) record: offboarded ones have
    none left."""
    names = [n.rstrip("/") for n in vault.list_folder(vault.path("tenants"))]
    return [
        name
        for name in names
        if any(
            vault.read(vault.path("tenants", name, leaf)) is not None
            for leaf in ("token", "runner")
        )
    ]


def load_playbooks(site: Site, shared: TenantAudit) -> None:
    """Every playbook of ``playbooks_dir``; a broken one is a finding."""
    for path in sorted(Path(site.config.playbooks_dir).glob("*.yml")):
        try:
            book = load_playbook(path)
        except TenantctlError as exc:
            shared.add("playbooks", "medium", f"{path}: {exc.message}")
            continue
        site.playbooks[book.tenant] = (book, path)


Check = Callable[..., None]


def _run_checks(
    audit: TenantAudit, checks: list[tuple[str, Check]], call: Callable[[Check], None]
) -> None:
    """Run each check; one whose reads fail is a finding, not the end."""
    for name, check in checks:
        audit.checks.append(name)
        try:
            call(check)
        except TenantctlError as exc:
            audit.add(name, "high", f"could not check: {exc.message}")


# -- site-wide checks ----------------------------------------------------------


def check_allowlist(site: Site, shared: TenantAudit) -> None:
    """Reads the allow-list every tenant's dashboard check uses."""
    dash = site.config.dashboard
    found = site.gitlab.read_file(dash.project, dash.allowlist.file, dash.branch)
    if found is None:
        shared.add("dashboard", "high", f"{dash.project} has no {dash.allowlist.file}")
        return
    spec = dash.allowlist
    site.entries = allowlist.read_entries(found.content, spec.format, spec.locator)


def check_pipeline_lint(site: Site, shared: TenantAudit) -> None:
    """The shared pipeline passes GitLab's CI lint; includes have files."""
    pipe = site.config.pipeline
    ci = site.gitlab.read_file(pipe.project, CI_FILE, pipe.branch)
    if ci is None:
        shared.add("ci lint", "high", f"{pipe.project} has no {CI_FILE}")
        return
    site.ci_text = ci.content
    answer = site.gitlab.lint(pipe.project, ci.content, pipe.branch)
    if not answer.get("valid"):
        errors = "; ".join(str(e) for e in answer.get("errors") or [])
        shared.add("ci lint", "high", f"{CI_FILE} fails GitLab's CI lint: {errors}")


def check_other_includes(site: Site, shared: TenantAudit, tenants: set[str]) -> None:
    """Include rules of groups that are no tenant still need their file:
    lint skips an include whose rule does not match, so it cannot tell."""
    pipe = site.config.pipeline
    for path in _group_includes(site.ci_text):
        name = path.removeprefix(GROUP_FILES).removesuffix(".yml")
        if name in tenants:
            continue  # the tenant's own pipeline check covers it
        if site.gitlab.read_file(pipe.project, path, pipe.branch) is None:
            shared.add(
                "pipeline includes", "high", f"include rule without its file {path}"
            )


def _group_includes(text: str) -> list[str]:
    """The ``local`` paths under ``.gitlab-ci/groups/`` that ``include:`` names."""
    doc = yaml.safe_load(text) if text else None
    entries = doc.get("include") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        entries = [entries] if entries else []
    paths = [e if isinstance(e, str) else (e or {}).get("local") for e in entries]
    return [
        str(p).lstrip("/") for p in paths if str(p).lstrip("/").startswith(GROUP_FILES)
    ]


def check_mapper(site: Site, shared: TenantAudit) -> None:
    """The dashboard client's ``groups`` mapper, with every flag as wanted."""
    kc = site.keycloak
    client = kc.client_uuid(site.config.keycloak.dashboard_client_id)
    named = [m for m in kc.client_mappers(client) if m.get("name") == MAPPER_NAME]
    if not named:
        shared.add(
            "keycloak mapper",
            "medium",
            f"the dashboard client has no {MAPPER_NAME!r} mapper: tokens carry no "
            "groups claim (only the realm-role fallback admits); onboard repairs it",
        )
        return
    mapper = named[0]
    if mapper.get("protocolMapper") != MAPPER_TYPE:
        kind = mapper.get("protocolMapper")
        shared.add("keycloak mapper", "medium", f"mapper {MAPPER_NAME!r} is a {kind}")
        return
    config = mapper.get("config") or {}
    wrong = [
        f"{k}={config.get(k)}" for k, v in MAPPER_CONFIG.items() if config.get(k) != v
    ]
    if wrong:
        shared.add(
            "keycloak mapper",
            "medium",
            f"mapper {MAPPER_NAME!r} has {', '.join(wrong)}; onboard repairs it",
        )


SHARED_CHECKS: list[tuple[str, Check]] = [
    ("playbooks", load_playbooks),
    ("dashboard", check_allowlist),
    ("ci lint", check_pipeline_lint),
    ("keycloak mapper", check_mapper),
]


# -- one tenant -----------------------------------------------------------------


@dataclass
class Subject:
    """A tenant under audit: its playbook (if any), tier and GitLab group."""

    site: Site
    audit: TenantAudit
    book: Playbook | None
    path: str
    settings: TierSettings
    group: Json | None
    ctx: Context
    status: tenant_status.TenantStatus | None = None

    @property
    def tenant(self) -> str:
        return self.audit.tenant

    def add(self, check: str, severity: Severity, message: str) -> None:
        self.audit.add(check, severity, message)

    def step(self, name: str) -> tenant_status.StepStatus | None:
        """The status of an onboarding step next to the playbook (cached)."""
        if self.book is None:
            return None
        if self.status is None:
            self.status = tenant_status.check(self.ctx, self.path)
        return next((s for s in self.status.steps if s.name == name), None)


def audit_tenant(site: Site, tenant: str, sources: list[str]) -> TenantAudit:
    audit = TenantAudit(tenant, sources=sources)
    try:
        subject = _subject(site, audit)
    except TenantctlError as exc:
        audit.add("gitlab group", "high", f"could not check: {exc.message}")
        return audit
    if subject.group is None and sources == ["allow-list"]:
        audit.checks.append("dashboard")
        audit.add(
            "dashboard",
            "medium",
            f"allow-list entry {tenant!r} names no tenant (no group, playbook or "
            "Vault record): remove it from the allow-list",
        )
        return audit
    _run_checks(audit, TENANT_CHECKS, lambda check: check(subject))
    return audit


def _subject(site: Site, audit: TenantAudit) -> Subject:
    tenant = audit.tenant
    book, path = site.playbooks.get(tenant, (None, Path("-")))
    bare = book or Playbook(tenant=tenant, tier=Tier.standard)
    group = site.gitlab.find_group(bare.full_path)
    settings = book.settings() if book is not None else _inferred(site, group)
    audit.tier = book.tier.value if book is not None else _tier_name(settings)
    ctx = Context(
        config=site.config,
        playbook=bare,
        settings=settings,
        gitlab=site.gitlab,
        keycloak=site.keycloak,
        vault=site.vault,
        dry_run=True,
        group_id=int(group["id"]) if group is not None else None,
    )
    return Subject(site, audit, book, str(path), settings, group, ctx)


def _inferred(site: Site, group: Json | None) -> TierSettings:
    """Without a playbook: strict when the runner is locked and protected."""
    runners = site.gitlab.group_runners(int(group["id"])) if group else []
    strict = any(
        r.get("locked") and r.get("access_level") == "ref_protected" for r in runners
    )
    return tier_defaults("strict" if strict else "standard")


def _tier_name(settings: TierSettings) -> str:
    strict = settings == tier_defaults("strict")
    return ("strict" if strict else "standard") + " (inferred: no playbook)"


def check_group(s: Subject) -> None:
    if s.group is None:
        s.add(
            "gitlab group",
            "high",
            f"GitLab group {s.ctx.playbook.full_path} is missing",
        )
        return
    step = s.step("group")
    for change in step.changes if step is not None else []:
        if change.kind == "group":
            s.add(
                "gitlab group",
                "low",
                f"group settings differ: {change.old} -> {change.new}",
            )


def check_members(s: Subject) -> None:
    step = s.step("group")
    if step is None:
        s.add("members", "info", "no playbook: members not compared")
        return
    for change in step.changes:
        if change.kind == "member":
            have = change.old or "not a member"
            s.add(
                "members",
                "medium",
                f"{change.target}: {have}, playbook says {change.new}",
            )
    for warning in step.warnings:
        s.add("members", "low", warning)


def check_keycloak(s: Subject) -> None:
    kc = s.site.keycloak
    group = kc.find_group(s.tenant)
    if group is None:
        s.add("keycloak group", "high", f"Keycloak group /{s.tenant} is missing")
        return
    roles = kc.group_realm_role_names(str(group["id"]))
    if s.tenant not in roles:
        s.add(
            "keycloak group",
            "medium",
            f"realm role {s.tenant!r} is not mapped to the group: no fallback "
            "through realm_access.roles",
        )
    step = s.step("keycloak")
    for change in step.changes if step is not None else []:
        if change.kind == "keycloak member":
            s.add("keycloak group", "medium", f"{change.target} is not a member")


def check_claim(s: Subject) -> None:
    """A member's example access token names the tenant in ``groups``, or
    at least in ``realm_access.roles``."""
    kc = s.site.keycloak
    group = kc.find_group(s.tenant)
    members = sorted(kc.group_member_names(str(group["id"]))) if group else []
    if not members:
        s.add("keycloak claim", "low", "no Keycloak member to check the claim with")
        return
    user = members[0]
    client = s.site.config.keycloak.dashboard_client_id
    found = check_claims(kc, client, user, s.tenant)
    if found.in_groups:
        return
    if found.in_realm_roles:
        s.add(
            "keycloak claim",
            "medium",
            f"{user}'s token has no {s.tenant!r} in groups (it has: "
            f"{', '.join(found.groups) or 'none'}); only realm_access.roles admits",
        )
        return
    s.add(
        "keycloak claim",
        "high",
        f"{user}'s token names {s.tenant!r} neither in groups nor in "
        "realm_access.roles: the dashboard refuses them",
    )


def check_pipeline(s: Subject) -> None:
    pipe = s.site.config.pipeline
    path = ci_include.group_file_path(s.tenant)
    entry = (
        ci_include.find_include(s.site.ci_text, s.tenant) if s.site.ci_text else None
    )
    present = s.site.gitlab.read_file(pipe.project, path, pipe.branch) is not None
    if entry is not None and not present:
        s.add("pipeline", "high", f"include rule without its file {path}")
    elif entry is None and present:
        s.add("pipeline", "medium", f"{path} exists but no include rule reads it")
    elif entry is None:
        s.add("pipeline", "high", "the tenant is not in the shared pipeline")
    elif not entry.has_rule:
        s.add("pipeline", "medium", f"the include of {path} has no rule for the tenant")
    _check_ci_group(s)
    step = s.step("pipeline")
    for change in step.changes if step is not None else []:
        if change.kind == "file" and change.action == "update":
            s.add("pipeline", "medium", f"{path} differs from the tier's settings")


def _check_ci_group(s: Subject) -> None:
    if s.group is None:
        return
    variable = s.site.gitlab.get_variable("group", int(s.group["id"]), "CI_GROUP")
    if variable is None or variable.get("value") != s.tenant:
        s.add(
            "pipeline",
            "high",
            "CI_GROUP is not the tenant's name: its include rule never matches",
        )


def check_runner(s: Subject) -> None:
    if s.group is None:
        return
    runners = s.site.gitlab.group_runners(int(s.group["id"]))
    tagged = [r for r in runners if s.tenant in (r.get("tag_list") or [])]
    if not tagged:
        what = "has runners without its tag" if runners else "has no runner"
        s.add("runner", "high", f"the group {what}")
        return
    for runner in tagged:
        _check_flags(s, runner)
        _check_contact(s, runner)


def _check_flags(s: Subject, runner: Json) -> None:
    name = f"runner {runner.get('id')}"
    if runner.get("run_untagged"):
        s.add("runner", "high", f"{name} runs untagged jobs (run_untagged true)")
    protected = runner.get("access_level") == "ref_protected"
    if s.settings.runner_locked and not runner.get("locked"):
        s.add("runner", "high", f"{name} is not locked; the tier wants it locked")
    if s.settings.runner_protected and not protected:
        s.add(
            "runner", "high", f"{name} takes unprotected refs; the tier wants protected"
        )


def _check_contact(s: Subject, runner: Json) -> None:
    name = f"runner {runner.get('id')}"
    contacted = tokens.parse_time(runner.get("contacted_at"))
    if contacted is None:
        s.add("runner", "low", f"{name} has never contacted GitLab")
    elif s.site.now - contacted > STALE_RUNNER:
        # GitLab's Date has whole seconds: round, so 8 days reads as 8.
        days = round((s.site.now - contacted) / dt.timedelta(days=1))
        s.add("runner", "medium", f"{name} not seen for {days} days")


def check_runner_tag(s: Subject) -> None:
    """No runner outside the tenant's group carries the tenant's tag."""
    group_id = int(s.group["id"]) if s.group is not None else None
    for runner in s.site.gitlab.runners_tagged(s.tenant):
        owners = [g.get("id") for g in runner.get("groups") or []]
        if group_id in owners and runner.get("runner_type") == "group_type":
            continue
        names = ", ".join(str(g.get("name")) for g in runner.get("groups") or [])
        where = f"of {names}" if names else f"({runner.get('runner_type')})"
        s.add(
            "runner tag",
            "high",
            f"runner {runner.get('id')} {where} carries the tag {s.tenant!r}: "
            "it can take this tenant's jobs",
        )


def check_labels(s: Subject) -> None:
    step = s.step("labels")
    if step is None:
        s.add("labels", "info", "no playbook: labels not compared")
        return
    differing = int(step.facts.get("differing") or 0)
    if differing:
        s.add(
            "labels",
            "low",
            f"{differing} label(s) differ from {step.facts.get('source')} "
            f"({step.facts.get('missing', 0)} missing); labels sync repairs them",
        )


def check_dashboard(s: Subject) -> None:
    if s.tenant not in s.site.entries:
        s.add("dashboard", "medium", "the tenant is not in the dashboard allow-list")
    key = dashboard_variable(s.site.config, s.tenant)
    project = s.site.config.dashboard.project
    if s.site.gitlab.get_variable("project", project, key) is None:
        s.add("dashboard", "medium", f"{project} has no {key}")


def check_token(s: Subject) -> None:
    """A working token within its lifetime, no broader than the tier."""
    if s.group is None:
        return
    listed = [
        t for t in s.site.gitlab.group_tokens(int(s.group["id"])) if tokens.is_active(t)
    ]
    if not listed:
        s.add("token", "high", "the group has no working access token")
    for token in listed:
        _check_breadth(s, token)
    record = tokens.read_record(s.site.vault, s.tenant)
    if record is None:
        s.add("token", "medium", "Vault holds no token record: not minted by tenantctl")
        return
    _check_lifetime(s, record.data)


def _check_breadth(s: Subject, token: Json) -> None:
    name = f"token {token.get('name')!r} (id {token.get('id')})"
    allowed = set(s.settings.token_scopes)
    wider = sorted(set(token.get("scopes") or []) - allowed - READ_ONLY_SCOPES)
    if wider:
        s.add(
            "token",
            "high",
            f"{name} has scope {', '.join(wider)}; the {s.audit.tier} tier allows "
            f"{', '.join(sorted(allowed))}",
        )
    level = int(token.get("access_level") or 0)
    if level > s.settings.token_access_level:
        s.add(
            "token",
            "high",
            f"{name} has access level {level}; the tier allows "
            f"{s.settings.token_access_level}",
        )


def _check_lifetime(s: Subject, data: Json) -> None:
    expires = tokens.expiry_moment(data.get("expires_at"))
    created = tokens.parse_time(data.get("created_at"))
    lifetime = int(data.get("lifetime_days") or s.site.config.tokens.lifetime_days)
    if expires is not None and expires <= s.site.now:
        s.add(
            "token", "high", f"the recorded token expired on {data.get('expires_at')}"
        )
    elif expires is not None and expires - s.site.now < EXPIRY_WARNING:
        s.add(
            "token", "medium", f"the recorded token expires on {data.get('expires_at')}"
        )
    if created is not None and s.site.now - created > dt.timedelta(days=lifetime):
        s.add("token", "medium", f"the recorded token is older than {lifetime} days")


def check_token_values(s: Subject) -> None:
    """GL_TOKEN masked and protected; Vault, GL_TOKEN and the dashboard
    variable hold the same working token (compared by fingerprint)."""
    values: dict[str, Secret] = {}
    record = tokens.read_record(s.site.vault, s.tenant)
    if record is not None and isinstance(record.data.get("token"), Secret):
        values["Vault"] = record.data["token"]
    if s.group is not None:
        _gl_token(s, int(s.group["id"]), values)
    project = s.site.config.dashboard.project
    key = dashboard_variable(s.site.config, s.tenant)
    variable = s.site.gitlab.get_variable("project", project, key)
    if variable is not None and variable.get("value"):
        values[key] = Secret(str(variable["value"]))
    _compare(s, values)


def _gl_token(s: Subject, group_id: int, values: dict[str, Secret]) -> None:
    variable = s.site.gitlab.get_variable("group", group_id, "GL_TOKEN")
    if variable is None:
        s.add("token variables", "high", "the group has no GL_TOKEN")
        return
    if not variable.get("masked"):
        s.add("token variables", "high", "GL_TOKEN is not masked: job logs show it")
    if not variable.get("protected"):
        s.add("token variables", "medium", "GL_TOKEN is not protected")
    if variable.get("value"):
        values["GL_TOKEN"] = Secret(str(variable["value"]))


def _compare(s: Subject, values: dict[str, Secret]) -> None:
    prints = {where: value.fingerprint() for where, value in values.items()}
    if len(set(prints.values())) > 1:
        shown = ", ".join(f"{where} {fp}" for where, fp in prints.items())
        s.add("token variables", "high", f"the token differs by place: {shown}")
    tried: set[str] = set()
    for where, value in values.items():
        if prints[where] in tried:
            continue
        tried.add(prints[where])
        info = s.site.gitlab.token_self(value)
        if info is None or not info.get("active"):
            s.add("token variables", "high", f"the token in {where} does not work")


TENANT_CHECKS: list[tuple[str, Check]] = [
    ("gitlab group", check_group),
    ("members", check_members),
    ("keycloak group", check_keycloak),
    ("keycloak claim", check_claim),
    ("pipeline", check_pipeline),
    ("runner", check_runner),
    ("runner tag", check_runner_tag),
    ("labels", check_labels),
    ("dashboard", check_dashboard),
    ("token", check_token),
    ("token variables", check_token_values),
]
