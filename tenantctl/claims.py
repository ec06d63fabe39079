"""Does a user's access token carry the tenant? (platform.md, "Identity")

The dashboard admits a user to a tenant when the access token's ``groups``
claim holds the tenant's plain name; failing that, ``realm_access.roles`` is
the fallback. Keycloak's admin API computes the token a user would get from
a client (``evaluate-scopes``), so this needs no user password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tenantctl.adapters.keycloak import Keycloak
from tenantctl.errors import RemoteError


@dataclass(frozen=True)
class ClaimCheck:
    """Where the tenant appears in an access token."""

    in_groups: bool
    in_realm_roles: bool
    groups: list[str] = field(default_factory=list)

    @property
    def dashboard_admits(self) -> bool:
        """True when either the claim or the role fallback names the tenant."""
        return self.in_groups or self.in_realm_roles


def check_claims(
    keycloak: Keycloak, client_id: str, username: str, tenant: str
) -> ClaimCheck:
    """Where ``tenant`` is in the access token ``username`` would get from
    the client ``client_id``, as Keycloak's example-token endpoint says."""
    client = keycloak.client_uuid(client_id)
    user = keycloak.find_user(username)
    if user is None:
        raise RemoteError(
            "Keycloak",
            f"user {username!r} not found in realm {keycloak.realm}",
            status=404,
            url=keycloak.url,
        )

    payload = keycloak.example_access_token(client, str(user["id"]))
    return claims_of(payload, tenant)


def claims_of(payload: dict[str, Any], tenant: str) -> ClaimCheck:
    """Where ``tenant`` is in a decoded access-token payload.

    Only the plain name counts in ``groups``: a full path (``/contractors``)
    is what a mapper with ``full.path`` writes, and the dashboard would not
    match it.
    """
    groups = _strings(payload.get("groups"))
    realm_access = payload.get("realm_access")
    roles = (
        _strings(realm_access.get("roles")) if isinstance(realm_access, dict) else []
    )
    return ClaimCheck(
        in_groups=tenant in groups,
        in_realm_roles=tenant in roles,
        groups=groups,
    )


def _strings(value: Any) -> list[str]:
    """A claim as a list of strings; a single string counts as one value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value]
    return []
