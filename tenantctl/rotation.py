"""Rotating tenants' tokens, and repairing what an interrupted run left.

For each tenant whose token tenantctl minted (Vault is the record), under
the tenant's lock, the run first looks at what is:

* Vault's token works and is not due: any consumer (``GL_TOKEN``, the
  dashboard's variable) that holds another value is set to Vault's value;
  nothing is rotated. This finishes a run that died after writing Vault.
* Vault's token works and is due: GitLab rotates it (explicit expiry).
* Vault's token no longer works (a run died after GitLab rotated it, or it
  expired): the active token of that name is rotated again, or a new one is
  created where none is active, and stale ones are revoked.

Then, always in this order: Vault gets the new token as a new version (the
old id in its metadata), the consumers are updated, the new token is
checked to work and the old one to be dead. A crash between any two of
these leaves a state the next run recognises above.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Literal

from tenantctl import tokens
from tenantctl.adapters.gitlab import GitLab
from tenantctl.adapters.vault import Record, Vault
from tenantctl.config import SiteConfig, vault_credential, vault_token
from tenantctl.errors import InputError, TenantctlError
from tenantctl.locking import LockTimeout, TenantLock
from tenantctl.secrets import Secret

log = logging.getLogger(__name__)

Outcome = Literal[
    "rotated", "recovered", "repaired", "unchanged", "due", "locked", "failed"
]
FAILED: tuple[Outcome, ...] = ("locked", "failed")

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> dt.timedelta:
    """``90d``, ``12h``, ``2w``, ``30m`` or ``45s`` as a timedelta."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise InputError(
            f"{text!r} is not a duration",
            hint="write a number and a unit: 90d, 12h, 2w (s, m, h, d, w)",
        )
    return dt.timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def show_duration(span: dt.timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Policy:
    """When a token is due for rotation."""

    older_than: dt.timedelta = dt.timedelta(days=90)
    expiring_within: dt.timedelta = dt.timedelta(days=14)
    force: bool = False


@dataclass(frozen=True)
class Options:
    policy: Policy = Policy()
    dry_run: bool = False
    jobs: int = 4
    lock_timeout: float = 60.0


@dataclass(frozen=True)
class Connection:
    """Where the site is and what to log in with; each worker makes its own
    clients from it, so no HTTP session is shared between threads."""

    config: SiteConfig
    gitlab_token: Secret
    vault_token: Secret

    def gitlab(self) -> GitLab:
        return GitLab(self.config.gitlab, self.gitlab_token)

    def vault(self) -> Vault:
        return Vault(self.config.vault, self.vault_token)


def connection_from_env(config: SiteConfig) -> Connection:
    """GITLAB_TOKEN and VAULT_TOKEN (or a Vault JWT login, VAULT_AUTH=jwt)
    from the environment (Keycloak is not needed to rotate tokens);
    InputError naming what is missing."""
    gitlab = os.environ.get("GITLAB_TOKEN", "")
    vault, vault_name = vault_credential(config.vault)
    missing = [
        name
        for name, value in (("GITLAB_TOKEN", gitlab), (vault_name, vault))
        if not value
    ]
    if missing or vault is None:
        raise InputError(
            "missing credentials in the environment: " + ", ".join(missing),
            hint="GITLAB_TOKEN must be a group Owner's personal or service-account "
            "token with the api scope (a group access token cannot rotate tokens)",
        )
    # One login for the whole run: every worker's client shares its token.
    return Connection(config, Secret(gitlab), vault_token(config.vault, vault))


# -- one tenant ------------------------------------------------------------


@dataclass
class TenantResult:
    """What happened to one tenant's token."""

    tenant: str
    outcome: Outcome = "unchanged"
    token_name: str | None = None
    token_id: int | None = None
    age_days: int | None = None
    expires_at: str | None = None
    new_token_id: int | None = None
    new_expires_at: str | None = None
    reasons: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "outcome": self.outcome,
            "token": self.token_name,
            "token_id": self.token_id,
            "age_days": self.age_days,
            "expires_at": self.expires_at,
            "new_token_id": self.new_token_id,
            "new_expires_at": self.new_expires_at,
            "reasons": self.reasons,
            "repaired": self.repaired,
            "warnings": self.warnings,
            "error": self.error,
        }


@dataclass
class TokenState:
    """The tenant's token as Vault records it and as GitLab sees it."""

    record: Record
    token: Secret
    group_id: int
    spec: tokens.TokenSpec
    lifetime_days: int
    info: dict[str, Any] | None
    reasons: list[str]
    consumers: list[tokens.Consumer]

    @property
    def working(self) -> bool:
        return self.info is not None and bool(self.info.get("active"))

    @property
    def due(self) -> bool:
        return bool(self.reasons)


def rotate_tenant(
    conn: Connection, tenant: str, options: Options, now: tokens.Now
) -> TenantResult:
    """Rotate or repair one tenant's token; failures end up in the result.

    A first look needs no lock; only a tenant with something to do is
    locked, and then looked at again under the lock before anything is
    written, so a run with nothing to do writes nothing at all.
    """
    result = TenantResult(tenant)
    gitlab, vault = conn.gitlab(), conn.vault()

    def notify(message: str) -> None:
        result.warnings.append(message)
        log.warning("%s", message)

    try:
        look = _look(conn.config, gitlab, vault, tenant, options, now, result)
        if look is None or options.dry_run:
            return result
        lock = TenantLock(
            vault, tenant, "rotate-tokens", timeout=options.lock_timeout, notify=notify
        )
        with lock:
            look = _look(conn.config, gitlab, vault, tenant, options, now, result)
            if look is not None:
                _apply(conn.config, gitlab, vault, look, now, result)
    except LockTimeout as exc:
        result.outcome, result.error = "locked", str(exc)
    except TenantctlError as exc:
        result.outcome, result.error = "failed", str(exc)
    return result


def _look(
    config: SiteConfig,
    gitlab: GitLab,
    vault: Vault,
    tenant: str,
    options: Options,
    now: tokens.Now,
    result: TenantResult,
) -> TokenState | None:
    """Read the state and say what it needs in ``result``; the state when
    there is something to write, None when there is nothing to do."""
    state = inspect(config, gitlab, vault, tenant, options.policy, now)
    _describe(state, now, result)
    if state.due:
        result.outcome = "due"
        return state
    stale = _stale(gitlab, state.consumers, state.token)
    result.repaired = [c.key for c in stale]
    result.outcome = "repaired" if stale else "unchanged"
    return state if stale else None


def _apply(
    config: SiteConfig,
    gitlab: GitLab,
    vault: Vault,
    state: TokenState,
    now: tokens.Now,
    result: TenantResult,
) -> None:
    """Rotate when due, then record and publish; or only publish."""
    if not state.due:
        for consumer in state.consumers:
            tokens.publish(gitlab, consumer, state.token)
        return
    minted, outcome = _renew(gitlab, state, now)
    result.outcome = outcome
    result.new_token_id = _int(minted.data.get("id"))
    result.new_expires_at = minted.data.get("expires_at")
    tokens.record(
        vault,
        result.tenant,
        state.group_id,
        minted,
        reason=f"{outcome}: {'; '.join(state.reasons)}",
        lifetime_days=state.lifetime_days,
    )
    for consumer in state.consumers:
        tokens.publish(gitlab, consumer, minted.token)
    _verify(gitlab, state, minted, result)


def inspect(
    config: SiteConfig,
    gitlab: GitLab,
    vault: Vault,
    tenant: str,
    policy: Policy,
    now: tokens.Now,
) -> TokenState:
    """Read the tenant's token record and ask GitLab about the token."""
    record = tokens.read_record(vault, tenant)
    token = record.data.get("token") if record is not None else None
    if record is None or not isinstance(token, Secret):
        path = tokens.token_path(vault, tenant)
        raise TenantctlError(
            f"Vault has no token for tenant {tenant} at {config.vault.mount}/{path}",
            hint=f"onboard it first (tenantctl onboard {tenant})",
        )
    data = record.data
    group_id = _group_id(gitlab, tenant, data)
    state = TokenState(
        record=record,
        token=token,
        group_id=group_id,
        spec=_spec(config, tenant, data),
        lifetime_days=int(data.get("lifetime_days") or config.tokens.lifetime_days),
        info=gitlab.token_self(token),
        reasons=[],
        consumers=tokens.consumers(config, tenant, group_id),
    )
    state.reasons = due_reasons(state, policy, now())
    return state


def due_reasons(state: TokenState, policy: Policy, now: dt.datetime) -> list[str]:
    """Why the token must be rotated now; empty when it need not be."""
    reasons = ["forced"] if policy.force else []
    if not state.working:
        recorded = state.record.data.get("expires_at")
        ends = tokens.expiry_moment(recorded)
        if ends is not None and ends <= now:
            return [*reasons, f"expired on {recorded}"]
        return [*reasons, "Vault's token no longer works (revoked)"]
    info = state.info or {}
    created = tokens.parse_time(
        info.get("created_at") or state.record.data.get("created_at")
    )
    if created is not None and now - created >= policy.older_than:
        reasons.append(f"older than {show_duration(policy.older_than)}")
    ends = tokens.expiry_moment(info.get("expires_at"))
    if ends is not None and ends - now <= policy.expiring_within:
        reasons.append(
            f"expires {info.get('expires_at')}, "
            f"within {show_duration(policy.expiring_within)}"
        )
    return reasons


def _describe(state: TokenState, now: tokens.Now, result: TenantResult) -> None:
    info = state.info or {}
    data = state.record.data
    result.token_name = state.spec.name
    result.token_id = _int(info.get("id") or data.get("token_id"))
    result.expires_at = info.get("expires_at") or data.get("expires_at")
    created = tokens.parse_time(info.get("created_at") or data.get("created_at"))
    # Max with 0: GitLab's Date has whole seconds, created_at milliseconds.
    age = (now() - created).days if created is not None else None
    result.age_days = None if age is None else max(age, 0)
    result.reasons = list(state.reasons)


def _renew(
    gitlab: GitLab, state: TokenState, now: tokens.Now
) -> tuple[tokens.Minted, Outcome]:
    """A new token: Vault's rotated when it works, else recovered."""
    expires_at = tokens.gitlab_expiry(state.lifetime_days, now())
    if state.working:
        assert state.info is not None
        token_id = int(state.info["id"])
        return tokens.rotate(gitlab, state.group_id, token_id, expires_at), "rotated"
    minted = tokens.mint_or_recover(gitlab, state.group_id, state.spec, expires_at)
    return minted, "recovered"


def _stale(
    gitlab: GitLab, consumers: Iterable[tokens.Consumer], token: Secret
) -> list[tokens.Consumer]:
    """The consumers that do not hold ``token``."""
    return [
        c
        for c in consumers
        if not tokens.holds(gitlab.get_variable(c.owner, c.ident, c.key), token, c)
    ]


def _verify(
    gitlab: GitLab, state: TokenState, minted: tokens.Minted, result: TenantResult
) -> None:
    """The new token works (a self look-up) and the old one does not."""
    info = gitlab.token_self(minted.token)
    if info is None or not info.get("active"):
        raise TenantctlError(
            f"GitLab: the new token of tenant {result.tenant} does not work",
            hint="run rotate-tokens again: it recovers from Vault's record",
        )
    old = gitlab.token_self(state.token)
    if old is not None and old.get("active"):
        # Rotation revokes at once; if this one lives on, revoke it by hand.
        gitlab.revoke_group_token(state.group_id, int(old["id"]))
        result.warnings.append(f"the old token {old['id']} still worked: revoked it")


def _group_id(gitlab: GitLab, tenant: str, data: dict[str, Any]) -> int:
    if data.get("group_id") is not None:
        return int(data["group_id"])
    group = gitlab.find_group(tenant)
    if group is None:
        raise TenantctlError(f"GitLab: group {tenant} does not exist")
    return int(group["id"])


def _spec(config: SiteConfig, tenant: str, data: dict[str, Any]) -> tokens.TokenSpec:
    scopes = data.get("scopes")
    if not scopes:
        raise TenantctlError(
            f"Vault's token record of tenant {tenant} names no scopes",
            hint=f"run tenantctl onboard {tenant} to record the token again",
        )
    return tokens.TokenSpec(
        name=str(data.get("name") or config.tokens.name),
        scopes=tuple(str(s) for s in scopes),
        access_level=int(data.get("access_level") or 40),
    )


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


# -- many tenants ----------------------------------------------------------


@dataclass
class RotationReport:
    dry_run: bool
    results: list[TenantResult]

    @property
    def failed(self) -> list[TenantResult]:
        return [r for r in self.results if r.failed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "tenants": [r.as_dict() for r in self.results],
            "failed": [r.tenant for r in self.failed],
        }


def tenants_in_vault(vault: Vault) -> list[str]:
    """Every tenant with a live token record: the tokens tenantctl minted.
    An offboarded tenant's record is soft-deleted (its versions kept), so
    its key is still listed but reads as nothing: it is left out."""
    folders = vault.list_folder(vault.path("tenants"))
    names = [name.rstrip("/") for name in folders if name.endswith("/")]
    listed = [
        n for n in names if "token" in vault.list_folder(vault.path("tenants", n))
    ]
    return [n for n in listed if tokens.read_record(vault, n) is not None]


def rotate_all(
    conn: Connection,
    groups: list[str],
    options: Options,
    on_result: Callable[[TenantResult], None] | None = None,
) -> RotationReport:
    """Rotate the tokens of ``groups`` (every recorded tenant when empty),
    ``options.jobs`` tenants at a time; ``on_result`` hears of each."""
    tenants = list(dict.fromkeys(groups)) or tenants_in_vault(conn.vault())
    now = tokens.gitlab_clock(conn.gitlab())
    results: dict[str, TenantResult] = {}
    with ThreadPoolExecutor(max_workers=max(options.jobs, 1)) as pool:
        futures = [
            pool.submit(rotate_tenant, conn, tenant, options, now) for tenant in tenants
        ]
        for future in as_completed(futures):
            result = future.result()
            results[result.tenant] = result
            if on_result is not None:
                on_result(result)
    return RotationReport(options.dry_run, [results[t] for t in tenants])
