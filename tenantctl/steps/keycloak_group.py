"""Step 2: the Keycloak group, its members, the groups mapper, the role.

The dashboard's client must put a ``groups`` claim with plain group names
into the access token (platform.md, "Identity"); a realm role named after
the tenant and mapped to the group is the fallback through
``realm_access.roles``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from tenantctl.errors import RemoteError
from tenantctl.steps.base import Change, Context, StepPlan

MAPPER_NAME = "groups"
MAPPER_TYPE = "oidc-group-membership-mapper"
# Every flag is sent: a key left out of the payload counts as false.
MAPPER_CONFIG = {
    "claim.name": "groups",
    "full.path": "false",
    "id.token.claim": "true",
    "access.token.claim": "true",
    "userinfo.token.claim": "true",
    "introspection.token.claim": "true",
}


def mapper_payload() -> dict[str, Any]:
    return {
        "name": MAPPER_NAME,
        "protocol": "openid-connect",
        "protocolMapper": MAPPER_TYPE,
        "config": dict(MAPPER_CONFIG),
    }


class KeycloakGroupStep:
    name = "keycloak"
    title = "Keycloak group and mapper"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan()
        tenant = ctx.tenant
        group = ctx.keycloak.find_group(tenant)
        state: dict[str, str] = {}

        if group is None:
            clashes = self._case_clashes(ctx)
            plan.warnings.extend(_clash_warning(ctx.tenant, name) for name in clashes)
            plan.add(self._create_group(ctx, state, clashes))
        else:
            state["id"] = str(group["id"])

        self._plan_members(ctx, state, plan)
        self._plan_mapper(ctx, plan)
        self._plan_role(ctx, state, plan)
        return plan

    def _case_clashes(self, ctx: Context) -> list[str]:
        """Top-level groups whose name differs from the tenant's only in case.

        Keycloak on its default databases lets ``Contractors`` and
        ``contractors`` exist side by side; the dashboard compares names
        exactly, so the tenant still needs its own, exact-case group.
        """
        return [
            str(g["name"])
            for g in ctx.keycloak.groups_named_like(ctx.tenant)
            if g["name"] != ctx.tenant
        ]

    def _create_group(
        self, ctx: Context, state: dict[str, str], clashes: list[str]
    ) -> Change:
        def create() -> None:
            try:
                state["id"] = ctx.keycloak.create_group(ctx.tenant)
            except RemoteError as exc:
                # A case-insensitive database (MySQL collations) refuses it.
                if exc.status != 409 or not clashes:
                    raise
                raise RemoteError(
                    "Keycloak",
                    f"cannot create group {ctx.tenant!r} beside {clashes[0]!r}: "
                    "this Keycloak compares group names ignoring case",
                    status=409,
                    hint=f"rename the Keycloak group {clashes[0]!r} to {ctx.tenant!r}",
                ) from None

        return Change("create", "keycloak group", f"/{ctx.tenant}", run=create)

    def _plan_members(
        self, ctx: Context, state: dict[str, str], plan: StepPlan
    ) -> None:
        current: set[str] = set()
        if "id" in state:
            current = ctx.keycloak.group_member_names(state["id"])

        for username in ctx.playbook.keycloak_members:
            # Keycloak stores usernames in lower case.
            if username.lower() in current:
                continue
            user = ctx.keycloak.find_user(username)
            if user is None:
                plan.warnings.append(
                    f"Keycloak user {username!r} does not exist: not added"
                )
                continue
            user_id = str(user["id"])
            plan.add(
                Change(
                    "create",
                    "keycloak member",
                    username,
                    run=partial(self._add_member, ctx, user_id, state),
                )
            )

    def _add_member(self, ctx: Context, user_id: str, state: dict[str, str]) -> None:
        ctx.keycloak.add_user_to_group(user_id, state["id"])

    def _plan_mapper(self, ctx: Context, plan: StepPlan) -> None:
        kc = ctx.keycloak
        client = kc.client_uuid(ctx.config.keycloak.dashboard_client_id)
        named = [m for m in kc.client_mappers(client) if m.get("name") == MAPPER_NAME]
        wanted = mapper_payload()

        if not named:
            plan.add(
                Change(
                    "create",
                    "keycloak mapper",
                    MAPPER_NAME,
                    new=MAPPER_CONFIG,
                    run=lambda: kc.add_mapper(client, wanted),
                )
            )
            return

        mapper = named[0]
        if mapper.get("protocolMapper") != MAPPER_TYPE:
            plan.add(self._replace_mapper(ctx, client, mapper))
            return

        config = mapper.get("config") or {}
        old = {k: config.get(k) for k, v in MAPPER_CONFIG.items() if config.get(k) != v}
        if old:
            payload = {**wanted, "id": mapper["id"]}
            plan.add(
                Change(
                    "update",
                    "keycloak mapper",
                    MAPPER_NAME,
                    old=old,
                    new={k: MAPPER_CONFIG[k] for k in old},
                    run=lambda: kc.update_mapper(client, str(mapper["id"]), payload),
                )
            )

    def _replace_mapper(
        self, ctx: Context, client: str, mapper: dict[str, Any]
    ) -> Change:
        """A mapper called ``groups`` of another type becomes the right one in
        place: Keycloak's PUT takes a new type with the mapper's own id, so the
        client is never left without a ``groups`` mapper in between."""
        kc = ctx.keycloak
        mapper_id = str(mapper["id"])
        payload = {**mapper_payload(), "id": mapper_id}

        def replace() -> None:
            kc.update_mapper(client, mapper_id, payload)

        return Change(
            "update",
            "keycloak mapper",
            MAPPER_NAME,
            old={"type": mapper.get("protocolMapper")},
            new={"type": MAPPER_TYPE, **MAPPER_CONFIG},
            run=replace,
        )

    def _plan_role(self, ctx: Context, state: dict[str, str], plan: StepPlan) -> None:
        kc = ctx.keycloak
        tenant = ctx.tenant
        role = kc.find_realm_role(tenant)
        found: dict[str, Any] = dict(role) if role else {}

        if role is None:
            description = f"Tenant {tenant}: fallback for the groups claim"
            plan.add(
                Change(
                    "create",
                    "realm role",
                    tenant,
                    run=lambda: found.update(kc.create_realm_role(tenant, description)),
                )
            )

        mapped = "id" in state and tenant in kc.group_realm_role_names(state["id"])
        if not mapped:
            plan.add(
                Change(
                    "create",
                    "role mapping",
                    f"{tenant} -> /{tenant}",
                    run=lambda: kc.map_realm_role(state["id"], found),
                )
            )


def _clash_warning(tenant: str, name: str) -> str:
    return (
        f"Keycloak group {name!r} differs from {tenant!r} only in case: "
        f"{tenant!r} is made beside it and gets the members; move any others "
        f"and delete {name!r} if it was meant for this tenant"
    )
