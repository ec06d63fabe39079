"""A tenant next to its playbook, step by step, without writing anything.

Every onboarding step's ``plan`` already reads what exists and works out each
difference from the playbook without writing (the engine's dry run). Status
runs those plans, never their changes, and sorts each step into ``ok``,
``missing`` or ``different``. It adds what the plans leave out: the token's
age and expiry (from Vault's record and GitLab's token list), the runner's
last contact and tags, and how many labels differ from the source tenant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from tenantctl.errors import TenantctlError
from tenantctl.steps import onboarding_steps
from tenantctl.steps.base import Change, Context, StepPlan
from tenantctl.tokens import parse_time

State = Literal["ok", "missing", "different", "error", "not checked"]
Json = dict[str, Any]

# The object whose creation means the step was never done. Labels have no
# single one: their step is "missing" while the tenant's group is.
MAIN_OBJECT = {
    "group": "group",
    "keycloak": "keycloak group",
    "pipeline": "file",
    "runner": "runner",
    "dashboard": "allow-list entry",
    "token": "access token",
}


@dataclass
class StepStatus:
    """One step's verdict, the differences behind it, and extra facts."""

    name: str
    title: str
    state: State = "not checked"
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: Json = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> Json:
        """JSON-ready; secrets in the differences show as ``***``."""
        data: Json = {
            "name": self.name,
            "title": self.title,
            "status": self.state,
            "differences": [change.as_dict() for change in self.changes],
            "facts": self.facts,
            "notes": self.notes,
            "warnings": self.warnings,
        }
        if self.error:
            data["error"] = self.error
        return data


@dataclass
class TenantStatus:
    """Every step's status, as GitLab's clock stood at ``checked_at``."""

    tenant: str
    playbook: str
    checked_at: dt.datetime
    steps: list[StepStatus]
    failure: TenantctlError | None = field(default=None, repr=False)

    @property
    def in_sync(self) -> bool:
        return all(step.state == "ok" for step in self.steps)

    @property
    def drifted(self) -> list[StepStatus]:
        return [s for s in self.steps if s.state in ("missing", "different")]

    def as_dict(self) -> Json:
        return {
            "tenant": self.tenant,
            "playbook": self.playbook,
            "checked_at": _iso(self.checked_at),
            "in_sync": self.in_sync,
            "steps": [step.as_dict() for step in self.steps],
        }


def check(ctx: Context, playbook: str) -> TenantStatus:
    """Plan every step without applying anything, classify each, add facts.

    Makes read requests only. A step whose reads fail is marked ``error``
    (the exception is kept in ``failure``) and the later steps are left
    ``not checked``, as the engine would stop there too.
    """
    ctx.dry_run = True
    steps = onboarding_steps()
    report = TenantStatus(
        tenant=ctx.tenant,
        playbook=playbook,
        checked_at=ctx.gitlab.server_time(),
        steps=[StepStatus(name=s.name, title=s.title) for s in steps],
    )

    for step, status in zip(steps, report.steps, strict=True):
        try:
            plan = step.plan(ctx)
            _classify(ctx, status, plan)
            FACTS.get(step.name, _no_facts)(ctx, status, report.checked_at)
        except TenantctlError as exc:
            status.state = "error"
            status.error = str(exc)
            report.failure = exc
            break
    return report


def _classify(ctx: Context, status: StepStatus, plan: StepPlan) -> None:
    status.changes = plan.changes
    status.warnings = list(plan.warnings)
    status.notes = list(plan.notes)
    if not plan.changes:
        status.state = "ok"
    elif _creates_main_object(ctx, status.name, plan.changes):
        status.state = "missing"
    else:
        status.state = "different"


def _creates_main_object(ctx: Context, step: str, changes: list[Change]) -> bool:
    if step == "labels":
        return ctx.group_id is None
    main = MAIN_OBJECT.get(step)
    return any(c.action == "create" and c.kind == main for c in changes)


# -- facts the plans do not give ---------------------------------------------

Facts = Callable[[Context, StepStatus, dt.datetime], None]


def _no_facts(ctx: Context, status: StepStatus, now: dt.datetime) -> None:
    """Steps with nothing to add beyond their plan."""


def runner_facts(ctx: Context, status: StepStatus, now: dt.datetime) -> None:
    """The tenant's runner: id, tags, status and when it last called GitLab."""
    if ctx.group_id is None:
        return
    runners = ctx.gitlab.group_runners(ctx.group_id)
    tagged = [r for r in runners if ctx.tenant in (r.get("tag_list") or [])]
    if not tagged:
        return
    runner = tagged[0]
    contacted = parse_time(runner.get("contacted_at"))
    status.facts.update(
        {
            "runner_id": runner.get("id"),
            "tags": list(runner.get("tag_list") or []),
            "runner_status": runner.get("status"),
            "contacted_at": runner.get("contacted_at"),
            "contacted_seconds_ago": _seconds(now, contacted),
        }
    )
    if len(tagged) > 1:
        others = ", ".join(str(r.get("id")) for r in tagged[1:])
        status.warnings.append(
            f"more runners of the group carry the tag {ctx.tenant!r}: {others}"
        )


def label_facts(ctx: Context, status: StepStatus, now: dt.datetime) -> None:
    """How many of the source tenant's labels the tenant lacks or has changed."""
    labels = [c for c in status.changes if c.kind == "label"]
    missing = sum(c.action == "create" for c in labels)
    status.facts.update(
        {
            "source": ctx.playbook.labels.source,
            "differing": len(labels),
            "missing": missing,
            "different": len(labels) - missing,
        }
    )


def token_facts(ctx: Context, status: StepStatus, now: dt.datetime) -> None:
    """The token as Vault records it and as GitLab lists it.

    A tenant whose token tenantctl did not mint (no Vault record) stays
    "missing", with a note on what GitLab holds; a token Vault records but
    GitLab no longer accepts is "different" rather than "missing".
    """
    path = ctx.vault_path("token")
    record = ctx.vault.read(path, secret_keys=("token",))
    listed = ctx.gitlab.group_tokens(ctx.group_id) if ctx.group_id else []

    if record is None:
        # Vault is the system of record: without one the step is undone,
        # whatever GitLab holds (the plan then rotates or creates).
        status.state = "missing"
        status.facts["gitlab_tokens"] = [_listed_facts(t) for t in listed]
        status.notes.append(_no_record_note(ctx, path, listed))
        return

    data = record.data
    status.facts.update(_record_facts(data, now))
    if status.state == "missing":
        status.state = "different"

    mine = next((t for t in listed if t.get("id") == data.get("token_id")), None)
    status.facts["gitlab"] = _gitlab_facts(mine)
    status.notes.extend(_token_notes(data, mine))


def _record_facts(data: Json, now: dt.datetime) -> Json:
    created = parse_time(data.get("created_at"))
    expires = _parse_date(data.get("expires_at"))
    age = _seconds(now, created)
    return {
        "token_id": data.get("token_id"),
        "scopes": data.get("scopes"),
        "created_at": data.get("created_at"),
        "expires_at": data.get("expires_at"),
        "age_days": None if age is None else age // 86400,
        "expires_in_days": None if expires is None else (expires - now.date()).days,
    }


def _gitlab_facts(token: Json | None) -> Json:
    if token is None:
        return {"listed": False}
    keys = ("active", "revoked", "expires_at", "last_used_at")
    return {"listed": True, **{k: token.get(k) for k in keys}}


def _listed_facts(token: Json) -> Json:
    keys = ("id", "name", "scopes", "active", "created_at", "expires_at")
    return {k: token.get(k) for k in keys}


def _token_notes(data: Json, token: Json | None) -> list[str]:
    ident = data.get("token_id")
    if token is None:
        return [f"GitLab does not list token {ident}, the one Vault records"]
    notes = []
    if token.get("revoked"):
        notes.append(f"token {ident} is revoked in GitLab; Vault still holds it")
    elif not token.get("active"):
        notes.append(f"token {ident} has expired in GitLab")
    if token.get("expires_at") != data.get("expires_at"):
        notes.append(
            f"expiry differs: Vault says {data.get('expires_at')}, "
            f"GitLab says {token.get('expires_at')}"
        )
    return notes


def _no_record_note(ctx: Context, path: str, listed: list[Json]) -> str:
    where = f"{ctx.config.vault.mount}/{path}"
    active = [t for t in listed if t.get("active")]
    held = "; ".join(
        f"{t.get('name')!r} ({', '.join(t.get('scopes') or [])}, "
        f"expires {t.get('expires_at')})"
        for t in active
    )
    gitlab = f"GitLab lists {len(active)} active group token(s)"
    return (
        f"no record in Vault at {where}: this token was not minted by "
        f"tenantctl. {gitlab}{': ' + held if held else ''}. "
        "onboard would mint one and record it"
    )


FACTS: dict[str, Facts] = {
    "runner": runner_facts,
    "labels": label_facts,
    "token": token_facts,
}


# -- time --------------------------------------------------------------------


def _parse_date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _seconds(now: dt.datetime, then: dt.datetime | None) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds()))


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
