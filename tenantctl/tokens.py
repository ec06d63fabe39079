"""A tenant's group access token: minted or rotated, recorded, published.

Onboarding's token step and ``rotate-tokens`` share this. The token is
made with the operator's token (a group access token cannot mint or rotate
tokens), always with an explicit expiry counted on GitLab's calendar, kept
in Vault (the system of record: value, id, scopes, dates, and the id of the
token it replaced) and published to the variables that consume it: the
group's ``GL_TOKEN`` and the dashboard's ``GITLAB_TOKEN_<GROUP>``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tenantctl.adapters.gitlab import GitLab
from tenantctl.adapters.vault import Record, Vault
from tenantctl.config import SiteConfig
from tenantctl.secrets import Secret

Json = dict[str, Any]
Now = Callable[[], dt.datetime]

# A margin on GitLab's "today": a date computed just before midnight UTC
# must still lie in the future when the request lands just after it.
_MIDNIGHT_MARGIN = dt.timedelta(minutes=10)


def expiry_date(lifetime_days: int, today: dt.date | None = None) -> str:
    """``YYYY-MM-DD`` ``lifetime_days`` after ``today`` (UTC, as GitLab counts)."""
    today = today or dt.datetime.now(dt.UTC).date()
    return (today + dt.timedelta(days=max(lifetime_days, 1))).isoformat()


def gitlab_expiry(lifetime_days: int, gitlab_now: dt.datetime) -> str:
    """An expiry date that is in the future on GitLab's own calendar.

    GitLab refuses a date that is today or earlier by its clock, and a token
    expires at 00:00 UTC on that date, so the count starts from GitLab's
    "now", never this machine's.
    """
    today = (gitlab_now.astimezone(dt.UTC) + _MIDNIGHT_MARGIN).date()
    return expiry_date(lifetime_days, today)


def gitlab_clock(gitlab: GitLab) -> Now:
    """GitLab's "now", read once and then advanced by this machine's
    monotonic clock, so that many tenants cost one look-up."""
    base = gitlab.server_time()
    start = time.monotonic()

    def now() -> dt.datetime:
        return base + dt.timedelta(seconds=time.monotonic() - start)

    return now


def parse_time(value: Any) -> dt.datetime | None:
    """A GitLab or Vault timestamp (``...Z``) as an aware datetime."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def expiry_moment(expires_at: Any) -> dt.datetime | None:
    """When a token with this ``expires_at`` date stops working (00:00 UTC)."""
    if not expires_at:
        return None
    day = dt.date.fromisoformat(str(expires_at)[:10])
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


# -- what a token must be ---------------------------------------------------


@dataclass(frozen=True)
class TokenSpec:
    """The token a tenant should hold: its name, scopes and access level."""

    name: str
    scopes: tuple[str, ...]
    access_level: int

    def matches(self, token: Json) -> bool:
        return (
            sorted(token.get("scopes") or []) == sorted(self.scopes)
            and int(token.get("access_level", 0)) == self.access_level
        )

    def fields(self, expires_at: str) -> Json:
        return {
            "name": self.name,
            "scopes": list(self.scopes),
            "access_level": self.access_level,
            "expires_at": expires_at,
        }


def named(gitlab: GitLab, group_id: int, name: str) -> list[Json]:
    """The group's tokens called ``name``, newest first (names are not
    unique, and a rotation gives the token a new id)."""
    tokens = [t for t in gitlab.group_tokens(group_id) if t.get("name") == name]
    return sorted(tokens, key=lambda t: int(t["id"]), reverse=True)


def is_active(token: Json) -> bool:
    return bool(token.get("active")) and not token.get("revoked")


@dataclass(frozen=True)
class Minted:
    """A token GitLab just issued, and the one it replaced (if any)."""

    data: Json
    token: Secret
    replaced_id: int | None


def mint_or_recover(
    gitlab: GitLab, group_id: int, spec: TokenSpec, expires_at: str
) -> Minted:
    """A fresh token of ``spec``, leaving exactly one active token of its name.

    When an active token of that name and kind exists (its value lost by a
    run that died before Vault heard of it), it is rotated rather than
    doubled; otherwise a new one is created. Every other token of the name
    not yet revoked (working or expired) is revoked. Expired or revoked ones
    are never rotated: GitLab refuses that, and presenting a revoked token
    makes it revoke the whole chain.
    """
    same = named(gitlab, group_id, spec.name)
    active = [t for t in same if is_active(t)]
    keep = next((t for t in active if spec.matches(t)), None)
    if keep is not None:
        data, token = gitlab.rotate_group_token(group_id, int(keep["id"]), expires_at)
        minted = Minted(data, token, int(keep["id"]))
    else:
        data, token = gitlab.create_group_token(group_id, spec.fields(expires_at))
        minted = Minted(data, token, None)
    # Other working ones, and expired ones never revoked, are stale.
    for stale in same:
        if stale is not keep and not stale.get("revoked"):
            gitlab.revoke_group_token(group_id, int(stale["id"]))
    return minted


def rotate(gitlab: GitLab, group_id: int, token_id: int, expires_at: str) -> Minted:
    """GitLab's rotation of a working token: a new id, the old one revoked."""
    data, token = gitlab.rotate_group_token(group_id, token_id, expires_at)
    return Minted(data, token, token_id)


# -- Vault, the system of record ----------------------------------------------


def token_path(vault: Vault, tenant: str) -> str:
    return vault.path("tenants", tenant, "token")


def read_record(vault: Vault, tenant: str) -> Record | None:
    return vault.read(token_path(vault, tenant), secret_keys=("token",))


def record(
    vault: Vault,
    tenant: str,
    group_id: int,
    minted: Minted,
    *,
    reason: str,
    lifetime_days: int,
) -> int:
    """Write ``minted`` as a new version of the tenant's token record, with
    the replaced token's id in the version and in the key's metadata; the
    new version number."""
    data = minted.data
    path = token_path(vault, tenant)
    version = vault.write(
        path,
        {
            "token": minted.token,
            "token_id": data.get("id"),
            "name": data.get("name"),
            "scopes": data.get("scopes"),
            "access_level": data.get("access_level"),
            "created_at": data.get("created_at"),
            "expires_at": data.get("expires_at"),
            "lifetime_days": lifetime_days,
            "group_id": group_id,
            "tenant": tenant,
            "previous_token_id": minted.replaced_id,
            "reason": reason,
        },
    )
    if minted.replaced_id is not None:
        vault.set_custom_metadata(
            path, {"previous_token_id": str(minted.replaced_id), "reason": reason}
        )
    return version


# -- the variables that consume it --------------------------------------------


@dataclass(frozen=True)
class Consumer:
    """A CI/CD variable that must hold the tenant's token."""

    owner: str  # "group" or "project"
    ident: int | str
    key: str
    protected: bool

    @property
    def label(self) -> str:
        return f"{self.owner} {self.ident}: {self.key}"


def consumers(config: SiteConfig, tenant: str, group_id: int) -> list[Consumer]:
    """The group's ``GL_TOKEN`` (protected) and the dashboard's variable."""
    # Imported here: the steps package imports this module for step 7.
    from tenantctl.steps.dashboard import dashboard_variable

    return [
        Consumer("group", group_id, "GL_TOKEN", protected=True),
        Consumer(
            "project",
            config.dashboard.project,
            dashboard_variable(config, tenant),
            protected=False,
        ),
    ]


def holds(current: Json | None, token: Secret, consumer: Consumer) -> bool:
    return (
        current is not None
        and current.get("value") == token.reveal()
        and current.get("masked") is True
        and current.get("protected") == consumer.protected
    )


def publish(gitlab: GitLab, consumer: Consumer, token: Secret) -> bool:
    """Make ``consumer`` hold ``token`` (masked); True when it was changed."""
    current = gitlab.get_variable(consumer.owner, consumer.ident, consumer.key)
    if holds(current, token, consumer):
        return False
    fields = {
        "key": consumer.key,
        "value": token,
        "masked": True,
        "protected": consumer.protected,
        "raw": True,
    }
    if current is None:
        gitlab.create_variable(consumer.owner, consumer.ident, fields)
    else:
        gitlab.update_variable(consumer.owner, consumer.ident, fields)
    return True
