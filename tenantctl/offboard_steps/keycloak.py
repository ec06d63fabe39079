"""Step 2 undone: the tenant's Keycloak group and realm role deleted.

The dashboard client's ``groups`` mapper is shared by every tenant and
stays. Deleting the group ends its memberships and role mappings; deleting
the role drops it from ``realm_access.roles`` of whoever still had it.
"""

from __future__ import annotations

from tenantctl.steps.base import Change, Context, StepPlan


class KeycloakRemoval:
    name = "keycloak"
    title = "Keycloak group and role"

    def plan(self, ctx: Context) -> StepPlan:
        plan = StepPlan(notes=["the shared groups mapper stays"])
        kc = ctx.keycloak
        tenant = ctx.tenant

        group = kc.find_group(tenant)
        if group is not None:
            group_id = str(group["id"])
            members = sorted(kc.group_member_names(group_id))
            plan.add(
                Change(
                    "delete",
                    "keycloak group",
                    f"/{tenant}",
                    old={"members": members},
                    run=lambda: kc.delete_group(group_id),
                )
            )

        if kc.find_realm_role(tenant) is not None:
            plan.add(
                Change(
                    "delete",
                    "realm role",
                    tenant,
                    run=lambda: kc.delete_realm_role(tenant),
                )
            )
        return plan
